/**
 * Deliveries through an HTTP CONNECT proxy (--egress-proxy, or a webhook's own
 * proxy_url), so receivers can allowlist the proxy's static addresses
 * (docs/endpoint-security.md, "Egress proxy").
 *
 * The SSRF rule still holds, and still without a second DNS answer: outside
 * --dev the connector resolves the webhook's host itself, checks every address,
 * and asks the proxy to CONNECT to the checked IP address (never to the name,
 * which the proxy would resolve again). TLS then runs inside the tunnel with the
 * URL's host name as SNI and for the certificate check, as without a proxy. The
 * --egress-proxy is the operator's and is not checked; a webhook's proxy_url is an
 * organization's and is (guardProxy). In --dev the proxy is asked for the host
 * name as given.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { buildConnector } from 'undici';
import { BlockedDestinationError, resolveAllowed, type GuardConfig } from './resolve.js';

/** Error code of a proxy that refused or failed a tunnel; the attempt records it as `proxy_error`. */
export const PROXY_FAILED = 'HOOKLINE_PROXY_FAILED';

export class ProxyError extends Error {
  readonly code = PROXY_FAILED;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
  }
}

/** Parses an egress proxy URL: http://[user:password@]host:port. Throws a plain Error saying why not. */
export function parseProxyUrl(text: string): URL {
  const url = new URL(text);
  if (url.protocol !== 'http:') throw new Error('must be an http:// URL (an HTTP CONNECT proxy)');
  if (!url.port) throw new Error('must name the port, e.g. http://proxy.internal:3128');
  if (url.pathname !== '/' || url.search || url.hash)
    throw new Error('must be http://host:port only, without a path');
  return url;
}

const MAX_PROXY_HEADER = 16 * 1024;

/**
 * Opens a tunnel through `proxy` to `target` (`host:port`), resolving with the raw socket.
 * `proxyAddress` is the proxy's address the guard checked, connected to instead of its name.
 */
function openTunnel(
  proxy: URL,
  target: string,
  timeoutMs: number,
  proxyAddress?: string,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({
      host: proxyAddress ?? proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port),
    });
    let buffered = Buffer.alloc(0);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(new ProxyError(`proxy did not open a tunnel within ${timeoutMs} ms`), {
            code: 'UND_ERR_CONNECT_TIMEOUT',
          }),
        ),
      timeoutMs,
    );
    socket.once('error', (err) =>
      fail(new ProxyError(`could not reach the egress proxy: ${err.message}`, { cause: err })),
    );
    socket.once('connect', () => {
      const auth =
        proxy.username || proxy.password
          ? `Proxy-Authorization: Basic ${Buffer.from(
              `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
            ).toString('base64')}\r\n`
          : '';
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_PROXY_HEADER) fail(new ProxyError('proxy answer too long'));
        return;
      }
      socket.off('data', onData);
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
      if (status !== 200) {
        fail(new ProxyError(`egress proxy refused CONNECT ${target}: ${statusLine.slice(0, 200)}`));
        return;
      }
      clearTimeout(timer);
      socket.removeAllListeners('error');
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

function authority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** TLS inside the tunnel: SNI and the certificate check use the URL's host name. */
function startTls(
  raw: Socket,
  servername: string | undefined,
  tls: ConnectionOptions,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ ...tls, socket: raw, servername });
    secure.once('secureConnect', () => {
      secure.removeAllListeners('error');
      resolve(secure);
    });
    secure.once('error', (err) => {
      raw.destroy();
      reject(err);
    });
  });
}

/**
 * An undici connector that tunnels every connection through `proxy`. Outside
 * --dev only https:// destinations whose every address the guard allows are
 * tunnelled, to the checked address; the first address the proxy reaches wins.
 */
export function proxiedConnector(
  config: GuardConfig,
  proxy: URL,
  opts: { tls?: ConnectionOptions; connectTimeoutMs?: number; guardProxy?: boolean } = {},
): buildConnector.connector {
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  // A webhook's own proxy is checked like a destination (outside --dev), and connected to
  // at the checked address; the operator's --egress-proxy is trusted as configured.
  const proxyAddress = async (): Promise<string | undefined> =>
    opts.guardProxy && !config.dev
      ? (await resolveAllowed(proxy.hostname, config))[0].address
      : undefined;
  return (options, callback) => {
    const bare = options.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    const servername = options.servername ?? (isIP(bare) ? undefined : bare);
    const open = async (): Promise<Socket> => {
      let targets: string[];
      if (config.dev) targets = [authority(bare, port)];
      else {
        if (options.protocol !== 'https:')
          throw new BlockedDestinationError(
            options.hostname,
            null,
            `blocked destination: ${options.protocol}// is allowed only with --dev`,
          );
        const addresses = await resolveAllowed(options.hostname, config);
        targets = addresses.map((a) => authority(a.address, port));
      }
      const via = await proxyAddress();
      let lastError: unknown;
      for (const target of targets) {
        let raw: Socket;
        try {
          raw = await openTunnel(proxy, target, timeoutMs, via);
        } catch (err) {
          lastError = err;
          continue; // the proxy could not reach this address: try the next checked one
        }
        return options.protocol === 'https:' ? startTls(raw, servername, opts.tls ?? {}) : raw;
      }
      throw lastError;
    };
    open().then(
      (socket) => callback(null, socket),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
}
