/**
 * Dispatchers for webhooks with their own TLS settings (docs/endpoint-security.md,
 * "Mutual TLS and private CAs"): a client certificate and key presented to the receiver, and a
 * private CA trusted instead of the public roots. TLS options are fixed per
 * connection pool, so each distinct setting gets an Agent of its own, built by
 * createDeliveryDispatcher: the SSRF-pinned connector (or the egress proxy) is
 * the same as every other delivery's.
 */
import { createHash } from 'node:crypto';
import type { GuardConfig } from './resolve.js';
import type { Dispatcher } from 'undici';
import type { TlsSettings } from '../core/endpoint-security.js';
import { createDeliveryDispatcher } from './dispatcher.js';

type NetConfig = GuardConfig & { egressProxy?: string };

/** At most this many TLS dispatchers per config; the least recently used one is closed past it. */
const MAX_POOLS = 500;

const byConfig = new WeakMap<object, Map<string, Dispatcher>>();

/** The dispatcher for deliveries with `tls`, one per distinct setting and config. */
export function tlsDispatcher(config: NetConfig, tls: TlsSettings): Dispatcher {
  let pools = byConfig.get(config);
  if (!pools) {
    pools = new Map();
    byConfig.set(config, pools);
  }
  const key = createHash('sha256')
    .update(JSON.stringify([tls.client_cert, tls.client_key, tls.ca]))
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
