/**
 * The HTTP client the worker sends deliveries with: an undici Agent (a pool per
 * origin, keep-alive). This is where the SSRF guard is enforced at send time.
 *
 * Checking a URL and then letting the HTTP client resolve it again is open to DNS
 * rebinding: the second answer can be 127.0.0.1. So the Agent gets its own
 * connector: it resolves the host once, checks every address, and opens the
 * socket to the checked address itself. The TLS server name (SNI and certificate
 * check) stays the URL's host name, and the Host header is undici's, from the URL.
 */
import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { parseProxyUrl, proxiedConnector } from './egress-proxy.js';
import {
  BLOCKED_DESTINATION,
  BlockedDestinationError,
  resolveAllowed,
  type GuardConfig,
  type ResolvedAddress,
} from './resolve.js';

export { BLOCKED_DESTINATION } from './resolve.js';

export interface DispatcherOptions {
  /** Extra TLS options (tests pass `ca` to trust their own certificate). */
  tls?: ConnectionOptions;
  /** Connect timeout in ms (undici's default is 10 s). */
  connectTimeoutMs?: number;
  /**
   * A webhook's own proxy_url: it replaces --egress-proxy, and (being an organization's
   * setting, not the operator's) its host is checked by the guard like a destination.
   */
  proxyUrl?: string;
}

// A refused or unreachable address is worth trying the next checked one for;
// any other failure (TLS, timeout) would fail the same way again.
const TRY_NEXT = new Set([
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'EAFNOSUPPORT',
]);

/**
 * A connector that only ever connects to addresses the SSRF rules allow, and
 * only to the addresses it checked itself (no second DNS query). In --dev it is
 * undici's plain connector.
 */
export function guardedConnector(
  config: GuardConfig,
  opts: DispatcherOptions = {},
): buildConnector.connector {
  const base = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000, ...(opts.tls ?? {}) });
  if (config.dev) return base;
  return (options, callback) => {
    const hostname = options.hostname;
    if (options.protocol !== 'https:') {
      // Saving refuses http:// outside --dev; a row written in --dev must not slip through later.
      callback(
        new BlockedDestinationError(
          hostname,
          null,
          `blocked destination: ${options.protocol}// is allowed only with --dev`,
        ),
        null,
      );
      return;
    }
    resolveAllowed(hostname, config).then(
      (addresses) => connectInOrder(base, options, addresses, callback),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
}

function connectInOrder(
  base: buildConnector.connector,
  options: buildConnector.Options,
  addresses: ResolvedAddress[],
  callback: buildConnector.Callback,
  index = 0,
): void {
  const bare = options.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  base(
    {
      ...options,
      hostname: addresses[index].address,
      // SNI must be a DNS name (RFC 6066), never an IP literal; undici then leaves it unset.
      servername: options.servername ?? (isIP(bare) ? undefined : bare),
    },
    (err, socket) => {
      const code = (err as { code?: string } | null)?.code;
      if (err && code && TRY_NEXT.has(code) && index + 1 < addresses.length) {
        connectInOrder(base, options, addresses, callback, index + 1);
        return;
      }
      if (err) callback(err, null);
      else callback(null, socket!);
    },
  );
}

/**
 * The worker's dispatcher: keep-alive pools per origin, every connection guarded,
 * and tunnelled through the webhook's proxy_url or else the egress proxy when one is
 * configured (egress-proxy.ts).
 */
export function createDeliveryDispatcher(
  config: GuardConfig & { egressProxy?: string },
  opts: DispatcherOptions = {},
): Dispatcher {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    // Per origin. As many as the worker's default concurrency, so that the per-webhook cap
    // (src/worker/webhook-slots.ts, 64 by default) and not this pool decides what one webhook
    // holds: with 64 here, a webhook hanging on a host that other webhooks share took every
    // connection to it and their requests queued behind its timeouts.
    connections: 256,
    pipelining: 1,
    connect: opts.proxyUrl
      ? proxiedConnector(config, parseProxyUrl(opts.proxyUrl), { ...opts, guardProxy: true })
      : config.egressProxy
        ? proxiedConnector(config, parseProxyUrl(config.egressProxy), opts)
        : guardedConnector(config, opts),
  });
}

/** True when an error (or one in its cause chain) is the guard refusing a destination. */
export function isBlockedDestination(err: unknown): boolean {
  for (
    let e = err, i = 0;
    e && typeof e === 'object' && i < 8;
    e = (e as { cause?: unknown }).cause, i++
  ) {
    if ((e as { code?: unknown }).code === BLOCKED_DESTINATION) return true;
  }
  return false;
}
