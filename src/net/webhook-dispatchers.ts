/**
 * Dispatchers for webhooks with network settings of their own (docs/endpoint-security.md):
 * a client certificate and key presented to the receiver, a private CA trusted instead of
 * the public roots ("Mutual TLS and private CAs"), and a proxy_url replacing --egress-proxy
 * ("Egress proxy"). TLS options and the connector are fixed per connection pool, so each
 * distinct setting gets an Agent of its own, built by createDeliveryDispatcher: the
 * SSRF-pinned connector (or the proxy tunnel) is the same as every other delivery's.
 */
import { createHash } from 'node:crypto';
import type { GuardConfig } from './resolve.js';
import type { Dispatcher } from 'undici';
import type { TlsSettings } from '../core/endpoint-security.js';
import { createDeliveryDispatcher } from './dispatcher.js';

type NetConfig = GuardConfig & { egressProxy?: string };

/** What sets a webhook's dispatcher apart from the shared one. */
export interface WebhookNetwork {
  tls?: TlsSettings;
  /** The webhook's proxy_url, password included. */
  proxyUrl?: string;
}

/** At most this many webhook dispatchers per config; the least recently used one is closed past it. */
const MAX_POOLS = 500;

const byConfig = new WeakMap<object, Map<string, Dispatcher>>();

/** The dispatcher for deliveries with `tls` or `proxy_url`, one per distinct setting and config. */
export function webhookDispatcher(config: NetConfig, net: WebhookNetwork): Dispatcher {
  let pools = byConfig.get(config);
  if (!pools) {
    pools = new Map();
    byConfig.set(config, pools);
  }
  const { tls = {}, proxyUrl } = net;
  const key = createHash('sha256')
    .update(JSON.stringify([tls.client_cert, tls.client_key, tls.ca, proxyUrl]))
    .digest('base64');
  let d = pools.get(key);
  if (d) {
    pools.delete(key); // re-inserted below: Map order is the recency order
  } else {
    d = createDeliveryDispatcher(config, {
      tls: {
        ...(tls.client_cert ? { cert: tls.client_cert } : {}),
        ...(tls.client_key ? { key: tls.client_key } : {}),
        ...(tls.ca ? { ca: tls.ca } : {}),
      },
      ...(proxyUrl ? { proxyUrl } : {}),
    });
  }
  pools.set(key, d);
  if (pools.size > MAX_POOLS) {
    const [oldest, pool] = pools.entries().next().value as [string, Dispatcher];
    pools.delete(oldest);
    // Requests in flight on it finish; close() only stops new ones.
    void pool.close().catch(() => undefined);
  }
  return d;
}
