/**
 * One HTTP delivery attempt: build the body, sign it with every active secret,
 * POST it through the shared dispatcher, read at most 4 KiB of the answer, and
 * describe what happened. A failed attempt is data, not an exception: this
 * function resolves for every outcome (timeouts, refused connections, 500s …).
 */
import { EventEmitter } from 'node:events';
import { request, type Dispatcher } from 'undici';
import type { GuardConfig } from '../net/resolve.js';
import { decodeSecret, signatureHeaders } from '../core/signing.js';
import { BLOCKED_DESTINATION, createDeliveryDispatcher } from '../net/dispatcher.js';
import { version } from '../version.js';
import { AUTH_FAILED, authorizationFor, dropToken } from './endpoint-auth.js';
import { PROXY_FAILED } from '../net/egress-proxy.js';
import type { AttemptEndpoint } from './endpoints.js';
import { includeFields } from '../core/include-fields.js';

/** Only this much of a response body is read and stored; the rest is never downloaded. */
export const MAX_RESPONSE_BYTES = 4096;
export const USER_AGENT = `Hookline/${version}`;

/** The stable error codes of a failed attempt (docs/receiving.md, "Attempt errors"). */
export type AttemptError =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns_failed'
  | 'tls_error'
  | 'redirect_not_followed'
  | 'blocked_destination'
  | 'http_error'
  | 'invalid_response'
  /** The OAuth2 token endpoint gave no token (src/worker/endpoint-auth.ts). */
  | 'auth_failed'
  /** The egress proxy refused or failed the tunnel (src/net/egress-proxy.ts). */
  | 'proxy_error'
  /** Hookline could not make the attempt (e.g. an encrypted secret and no key configured). */
  | 'internal_error'
  /** The webhook's transformation threw, ran out of time or memory, or returned something invalid. */
  | 'transformation_failed'
  /** The webhook's transformation cancelled the delivery: nothing was sent (it ends skipped). */
  | 'transformation_cancelled';

/** Where and how to send: the parts of a webhook an attempt needs. */
export interface AttemptTarget {
  url: string;
  timeoutSeconds: number;
  customHeaders?: Record<string, string> | null;
  /** Opened secrets (`whsec_…` or imported), current first (activeSecrets from src/store/webhooks.ts). */
  secrets: string[];
  /** Signature scheme, Authorization and TLS dispatcher (src/worker/endpoints.ts); absent: HMAC only. */
  endpoint?: AttemptEndpoint;
}

/** What to send: the stored event. */
export interface AttemptMessage {
  eventId: string;
  eventType: string;
  /** The event's created_at: the body's `timestamp`, the same on every retry. */
  createdAt: Date | string;
  /** The payload exactly as stored (`payload::text`); it becomes `data` without a reparse. */
  payloadText: string;
  /** The webhook's include_fields: only these paths of the payload are sent. */
  includeFields?: readonly string[] | null;
  /** The body to send as it is (a transformation's), instead of building one. */
  body?: string;
}

export interface AttemptResult {
  /** True for a 2xx answer. */
  ok: boolean;
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  /** null when no response arrived. */
  status: number | null;
  responseHeaders: Record<string, string> | null;
  /** The first 4 KiB of the body, as text. */
  responseBody: string | null;
  error: AttemptError | null;
  /** A human-readable detail of the error, for the delivery log. */
  errorDetail: string | null;
  /** The raw Retry-After header, when the answer had one. */
  retryAfter?: string;
}

export interface AttemptOptions {
  dispatcher?: Dispatcher;
  /** config.timeoutScale: tests shrink timeouts with it. */
  timeoutScale?: number;
  /** Clock, for tests of signing time. */
  now?: () => number;
}

/** `{"id","type","timestamp","data"}`, by concatenation: the payload text is stored valid JSON already. */
export function buildBody(m: AttemptMessage): string {
  const ts =
    typeof m.createdAt === 'string'
      ? new Date(m.createdAt).toISOString()
      : m.createdAt.toISOString();
  const data = m.includeFields
    ? JSON.stringify(includeFields(JSON.parse(m.payloadText), m.includeFields))
    : m.payloadText;
  return `{"id":${JSON.stringify(m.eventId)},"type":${JSON.stringify(m.eventType)},"timestamp":"${ts}","data":${data}}`;
}

const dispatchers = new Map<string, Dispatcher>();
const byResolver = new WeakMap<object, Map<string, Dispatcher>>();

/**
 * The process's delivery dispatcher (a pool per origin, keep-alive), created on
 * first use. One per process: a pool per call would defeat connection reuse.
 */
export function deliveryDispatcher(config: GuardConfig & { egressProxy?: string }): Dispatcher {
  const key = `${config.dev}|${config.allowCidrs.join(',')}|${config.egressProxy ?? ''}`;
  // A config with its own resolver (tests) gets dispatchers of its own: a shared one would
  // resolve through whichever resolver created it first.
  let cache = dispatchers;
  if (config.resolveHost) {
    cache = byResolver.get(config.resolveHost) ?? new Map();
    byResolver.set(config.resolveHost, cache);
  }
  let d = cache.get(key);
  if (!d) {
    d = createDeliveryDispatcher(config);
    cache.set(key, d);
  }
  return d;
}

/** Makes one attempt. Never rejects for a failed delivery. */
export async function sendAttempt(
  target: AttemptTarget,
  message: AttemptMessage,
  opts: AttemptOptions = {},
): Promise<AttemptResult> {
  const now = opts.now ?? Date.now;
  const startedAt = new Date(now());
  const t0 = performance.now();
  const body = message.body ?? buildBody(message);
  const keys = target.secrets.map(decodeSecret);
  const requestHeaders: Record<string, string> = {
    ...(target.customHeaders ?? {}),
    // Ours after the custom ones: a custom header can never replace a signature.
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...signatureHeaders({
      id: message.eventId,
      eventType: message.eventType,
      timestamp: Math.floor(startedAt.getTime() / 1000),
      body,
      keys,
      scheme: target.endpoint?.scheme,
      signingSeeds: target.endpoint?.signingSeeds,
      legacy: target.endpoint?.legacySignature,
    }),
  };
  const auth = target.endpoint?.auth;
  const dispatcher = target.endpoint?.dispatcher ?? opts.dispatcher;
  const timeoutMs = Math.max(
    1,
    Math.round(target.timeoutSeconds * 1000 * (opts.timeoutScale ?? 1)),
  );
  // The whole attempt (connect + headers + the 4 KiB we read) is bounded by one deadline.
  const deadline = watchDeadline(Date.now() + timeoutMs);
  const done = (
    partial: Omit<AttemptResult, 'startedAt' | 'durationMs' | 'requestHeaders'>,
  ): AttemptResult => ({
    ...partial,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    requestHeaders,
  });
  // undici 7 follows no redirects unless the redirect interceptor is composed in; none is.
  const post = async () => {
    const headers = { ...requestHeaders };
    if (auth) {
      const value = await authorizationFor(auth, {
        dispatcher,
        signal: deadline.signal,
        timeoutMs,
      });
      headers.authorization = value;
      // The delivery log keeps the scheme only: the credential never reaches the database.
      requestHeaders.authorization = `${value.split(' ')[0]} [redacted]`;
    }
    return request(target.url, {
      method: 'POST',
      headers,
      body,
      dispatcher,
      signal: deadline.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  };
  try {
    let res = await post();
    if (res.statusCode === 401 && auth?.type === 'oauth2_client_credentials') {
      // The cached token may have been revoked early: one fresh token, one more try.
      await res.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => undefined);
      dropToken(auth);
      res = await post();
    }
    const responseHeaders = flattenHeaders(res.headers);
    const responseBody = await readPrefix(res.body, MAX_RESPONSE_BYTES);
    if (deadline.fired) throw new Error('deadline passed while reading the answer');
    const status = res.statusCode;
    const ok = status >= 200 && status < 300;
    const error: AttemptError | null = ok
      ? null
      : status >= 300 && status < 400
        ? 'redirect_not_followed'
        : 'http_error';
    return done({
      ok,
      status,
      responseHeaders,
      responseBody,
      error,
      errorDetail:
        error === 'redirect_not_followed'
          ? `redirect to ${responseHeaders.location ?? '(no location)'} not followed`
          : null,
      retryAfter: responseHeaders['retry-after'],
    });
  } catch (err) {
    const error: AttemptError = deadline.fired ? 'timeout' : classifyError(err);
    const detail = deadline.fired ? `no complete answer within ${timeoutMs} ms` : describe(err);
    return done({
      ok: false,
      status: null,
      responseHeaders: null,
      responseBody: null,
      error,
      errorDetail: detail,
    });
  } finally {
    deadlines.delete(deadline);
  }
}

/** A failed attempt for a problem on Hookline's side, so the delivery still follows its retry schedule. */
export function internalFailure(err: unknown, startedAt = new Date()): AttemptResult {
  return {
    ok: false,
    startedAt,
    durationMs: 0,
    requestHeaders: {},
    status: null,
    responseHeaders: null,
    responseBody: null,
    error: 'internal_error',
    errorDetail: describe(err),
  };
}

/** Reads up to `max` bytes, then destroys the stream so the rest is never downloaded. */
async function readPrefix(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = max - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= max) break;
    }
  } catch {
    // A body cut short after the status arrived still counts as the answer we got.
  } finally {
    // Breaking out of for-await destroys the stream already; this covers every other path.
    if (!body.destroyed) body.destroy();
  }
  return cleanText(Buffer.concat(chunks, size));
}

/** Text PostgreSQL can store: invalid UTF-8 replaced, NUL removed (text columns refuse it). */
function cleanText(buf: Buffer): string {
  return buf.toString('utf8').replaceAll('\u0000', '');
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    const text = Array.isArray(v) ? v.join(', ') : v;
    out[k] = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  }
  return out;
}

interface Deadline {
  at: number;
  fired: boolean;
  /** undici takes an EventEmitter as the abort signal: far cheaper than an AbortController and a timer per attempt. */
  signal: EventEmitter;
}

// One sweeper for every attempt in flight instead of a timer each; it runs only while attempts are.
const deadlines = new Set<Deadline>();
const SWEEP_MS = 20;
let sweeper: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = Date.now();
  for (const d of deadlines) {
    if (d.at > now) continue;
    d.fired = true;
    deadlines.delete(d);
    d.signal.emit('abort');
  }
  if (deadlines.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function watchDeadline(at: number): Deadline {
  const d: Deadline = { at, fired: false, signal: new EventEmitter() };
  deadlines.add(d);
  if (!sweeper) {
    sweeper = setInterval(sweep, SWEEP_MS);
    sweeper.unref();
  }
  return d;
}

function errorChain(err: unknown): Array<{ code?: unknown; message?: unknown; name?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown; name?: unknown }> = [];
  let e: unknown = err;
  for (let i = 0; e && typeof e === 'object' && i < 8; i++) {
    out.push(e as { code?: unknown });
    const agg = (e as { errors?: unknown[] }).errors; // AggregateError from happy-eyeballs connects
    if (Array.isArray(agg) && agg.length > 0) e = agg[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return out;
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** Maps a thrown transport error to one of the stable attempt error codes. */
export function classifyError(err: unknown): AttemptError {
  const chain = errorChain(err);
  const codes = chain.map((e) => (typeof e.code === 'string' ? e.code : ''));
  if (codes.includes(BLOCKED_DESTINATION)) return 'blocked_destination';
  if (codes.includes(AUTH_FAILED)) return 'auth_failed';
  if (codes.includes(PROXY_FAILED)) return 'proxy_error';
  for (const code of codes) {
    if (!code) continue;
    if (
      code === 'UND_ERR_CONNECT_TIMEOUT' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'ETIMEDOUT'
    )
      return 'timeout';
    if (code === 'ECONNREFUSED') return 'connection_refused';
    if (
      code === 'ENOTFOUND' ||
      code === 'EAI_AGAIN' ||
      code === 'EAI_NONAME' ||
      code === 'EAI_FAIL' ||
      code === 'EAI_NODATA'
    )
      return 'dns_failed';
    if (TLS_CODES.test(code)) return 'tls_error';
    if (
      code.startsWith('HPE_') ||
      code === 'UND_ERR_INFO' ||
      code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
      code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE'
    )
      return 'invalid_response';
    if (
      code === 'ECONNRESET' ||
      code === 'EPIPE' ||
      code === 'UND_ERR_SOCKET' ||
      code === 'UND_ERR_CLOSED' ||
      code === 'ECONNABORTED' ||
      code === 'EHOSTUNREACH' ||
      code === 'ENETUNREACH'
    )
      return 'connection_reset';
  }
  if (chain.some((e) => typeof e.message === 'string' && /certificate|ssl|tls/i.test(e.message)))
    return 'tls_error';
  if (chain.some((e) => e.name === 'HTTPParserError' || e.name === 'InvalidArgumentError'))
    return 'invalid_response';
  return 'connection_reset';
}

function describe(err: unknown): string {
  const chain = errorChain(err);
  const parts = chain
    .map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': '))
    .filter(Boolean);
  return [...new Set(parts)].join(' ← ').slice(0, 500) || String(err).slice(0, 500);
}
