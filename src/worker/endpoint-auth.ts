/**
 * The Authorization header of a delivery (docs/endpoint-security.md, "Authorization"):
 * HTTP Basic, a static bearer token, or an OAuth2 client-credentials token
 * (RFC 6749 section 4.4) fetched from the webhook's token endpoint and cached
 * until shortly before it expires. The token request goes through the same
 * dispatcher as the delivery, so the SSRF guard, the egress proxy and the
 * webhook's TLS settings apply to it too.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { request, type Dispatcher } from 'undici';
import type { AuthSettings } from '../core/endpoint-security.js';

/** Error code of a token endpoint failure; the attempt records it as `auth_failed`. */
export const AUTH_FAILED = 'HOOKLINE_AUTH_FAILED';

/** The token endpoint did not give a token: its status and the start of its answer are in the message. */
export class AuthFailedError extends Error {
  readonly code = AUTH_FAILED;
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthFailedError';
  }
}

type OAuth2 = Extract<AuthSettings, { type: 'oauth2_client_credentials' }>;

interface CachedToken {
  token: string;
  /** When to stop using it (ms): shortly before the server said it expires. */
  refreshAt: number;
}

/** Tokens per client (token URL, client, secret, scope, audience), shared by every webhook of that client. */
const tokens = new Map<string, CachedToken>();
/** Token requests in flight: concurrent deliveries share one instead of each asking. */
const pending = new Map<string, Promise<CachedToken>>();
const MAX_TOKENS = 10_000;
/** Used when the token answer has no expires_in (RFC 6749 makes it optional). */
const DEFAULT_LIFETIME_S = 300;
/** A token is dropped this long before it expires, at most a tenth of its lifetime. */
const EARLY_S = 30;

function clientKey(a: OAuth2): string {
  return createHash('sha256')
    .update(JSON.stringify([a.token_url, a.client_id, a.client_secret, a.scope, a.audience]))
    .digest('base64');
}

export interface AuthContext {
  dispatcher?: Dispatcher;
  /** The attempt's deadline signal (undici takes an EventEmitter). */
  signal?: EventEmitter;
  timeoutMs: number;
  now?: () => number;
}

/** The Authorization header value for `auth`. Throws AuthFailedError when no token can be had. */
export async function authorizationFor(auth: AuthSettings, ctx: AuthContext): Promise<string> {
  if (auth.type === 'basic')
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  if (auth.type === 'bearer') return `Bearer ${auth.token}`;
  const now = (ctx.now ?? Date.now)();
  const key = clientKey(auth);
  const hit = tokens.get(key);
  if (hit && hit.refreshAt > now) return `Bearer ${hit.token}`;
  let fetching = pending.get(key);
  if (!fetching) {
    fetching = fetchToken(auth, ctx).finally(() => pending.delete(key));
    pending.set(key, fetching);
  }
  const fresh = await fetching;
  if (tokens.size >= MAX_TOKENS) tokens.clear();
  tokens.set(key, fresh);
  return `Bearer ${fresh.token}`;
}

/** Forgets the cached token of `auth` (the receiver answered 401 with it). */
export function dropToken(auth: AuthSettings): void {
  if (auth.type === 'oauth2_client_credentials') tokens.delete(clientKey(auth));
}

async function fetchToken(auth: OAuth2, ctx: AuthContext): Promise<CachedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (auth.scope) form.set('scope', auth.scope);
  if (auth.audience) form.set('audience', auth.audience);
  // RFC 6749 section 2.3.1: servers must support HTTP Basic for the client's credentials.
  const basic = Buffer.from(
    `${encodeURIComponent(auth.client_id)}:${encodeURIComponent(auth.client_secret)}`,
  ).toString('base64');
  let status: number;
  let text: string;
  try {
    const res = await request(auth.token_url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${basic}`,
      },
      body: form.toString(),
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
    status = res.statusCode;
    text = (await res.body.text()).slice(0, 64 * 1024);
  } catch (err) {
    throw new AuthFailedError(
      `token endpoint ${auth.token_url} could not be reached: ${(err as Error).message}`,
      null,
      { cause: err },
    );
  }
  if (status < 200 || status >= 300)
    throw new AuthFailedError(
      `token endpoint answered ${status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`,
      status,
    );
  let body: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new AuthFailedError(`token endpoint answered ${status} without a JSON body`, status);
  }
  const token = body.access_token;
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))
    throw new AuthFailedError(
      `token endpoint answered ${status} without a usable access_token`,
      status,
    );
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer')
    throw new AuthFailedError(`token endpoint gave a ${body.token_type} token, not Bearer`, status);
  const lifetime =
    typeof body.expires_in === 'number' && body.expires_in > 0
      ? body.expires_in
      : Number(body.expires_in) > 0
        ? Number(body.expires_in)
        : DEFAULT_LIFETIME_S;
  const early = Math.min(EARLY_S, lifetime / 10);
  return { token, refreshAt: (ctx.now ?? Date.now)() + (lifetime - early) * 1000 };
}
