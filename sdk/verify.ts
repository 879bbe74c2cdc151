/**
 * Receiver-side verification of Hookline's webhook requests.
 *
 * Verifies the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) or, for receivers written against the older designs, the
 * legacy `x-webhook-timestamp` / `x-webhook-signature` headers. The HMACs are
 * computed, and the secret turned into a key (decodeSecret), by the same code
 * Hookline signs with (src/core/signing.ts), so the two sides cannot drift apart.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  SECRET_PREFIX,
  decodeSecret,
  legacySignature,
  secretProblem,
  standardSignature,
} from '../src/core/signing.js';
import { PUBLIC_KEY_PREFIX, parsePublicKey, verifyEd25519 } from '../src/core/ed25519.js';

/** Why a request was not accepted. Stable strings: safe to switch on and to log. */
export type VerificationFailure =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_secret';

const messages: Record<VerificationFailure, string> = {
  missing_headers: 'The request has no complete set of webhook signature headers.',
  invalid_timestamp: 'The webhook timestamp is not a whole number of seconds.',
  timestamp_too_old:
    'The webhook timestamp is older than the tolerance allows (a replay, or a slow clock).',
  timestamp_too_new: 'The webhook timestamp is further in the future than the tolerance allows.',
  no_matching_signature: 'No signature in the request matches the payload and the secret.',
  invalid_secret:
    'The signing secret is neither whsec_ + base64 nor an imported secret of 24 to 128 printable ASCII characters.',
};

/** A request that failed verification; `reason` says why. Answer it with 400 and do not process it. */
export class WebhookVerificationError extends Error {
  readonly reason: VerificationFailure;

  constructor(reason: VerificationFailure, message = messages[reason]) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

/** Headers as Node (`req.headers`), the Fetch API (`Headers`) or a plain object of any case give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The current time (a Date, or milliseconds since the epoch), for tests and replays of stored requests. */
  now?: Date | number;
}

/** The body Hookline sends: the event envelope. */
export interface WebhookEvent<T = unknown> {
  /** The event id (`evt_…`): the same on every retry, so use it to de-duplicate. */
  id: string;
  type: string;
  /** ISO 8601 time the event was published. */
  timestamp: string;
  data: T;
}

/** Which header set a request was verified by, and the values it carried. */
export interface VerifiedRequest {
  scheme: 'standard' | 'legacy';
  /** `webhook-id` (standard only; the legacy headers carry no id). */
  id?: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** `x-webhook-event` (legacy), when present. */
  eventType?: string;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (
    typeof (headers as Headers).get === 'function' &&
    typeof (headers as Headers).has === 'function'
  ) {
    return (headers as Headers).get(name) ?? undefined;
  }
  const h = headers as Record<string, string | string[] | undefined>;
  let value = h[name];
  if (value === undefined) {
    const key = Object.keys(h).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : h[key];
  }
  // Node joins repeated headers for most names, but not every framework does.
  return Array.isArray(value) ? value.join(' ') : value;
}

/** The `whpk_…` public keys among the given secrets, decoded; a malformed one is a configuration mistake. */
function decodePublicKeys(secrets: readonly string[]): Buffer[] {
  return secrets
    .filter((s) => typeof s === 'string' && s.startsWith(PUBLIC_KEY_PREFIX))
    .map((s) => {
      const key = parsePublicKey(s);
      if (!key)
        throw new WebhookVerificationError(
          'invalid_secret',
          'The public key is not whpk_ followed by base64 of 32 bytes.',
        );
      return key;
    });
}

function decodeKeys(secret: string | readonly string[]): Buffer[] {
  const all = typeof secret === 'string' ? [secret] : secret;
  if (all.length === 0)
    throw new WebhookVerificationError('invalid_secret', 'No signing secret was given.');
  const secrets = all.filter((s) => !(typeof s === 'string' && s.startsWith(PUBLIC_KEY_PREFIX)));
  return secrets.map((s) => {
    if (typeof s !== 'string') throw new WebhookVerificationError('invalid_secret');
    if (s.startsWith(SECRET_PREFIX)) {
      // decodeSecret is lenient (Buffer ignores stray characters): be strict here, a typo must not verify nothing.
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s.slice(SECRET_PREFIX.length)))
        throw new WebhookVerificationError('invalid_secret');
    } else if (secretProblem(s)) {
      // Any other string is an imported secret, keyed by its UTF-8 bytes as Hookline keys it.
      throw new WebhookVerificationError('invalid_secret');
    }
    return decodeSecret(s);
  });
}

function checkTimestamp(raw: string, opts: VerifyOptions): number {
  if (!/^\d{1,15}$/.test(raw.trim())) throw new WebhookVerificationError('invalid_timestamp');
  const timestamp = Number(raw.trim());
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowMs =
    opts.now === undefined
      ? Date.now()
      : typeof opts.now === 'number'
        ? opts.now
        : opts.now.getTime();
  const now = Math.floor(nowMs / 1000);
  if (now - timestamp > tolerance) throw new WebhookVerificationError('timestamp_too_old');
  if (timestamp - now > tolerance) throw new WebhookVerificationError('timestamp_too_new');
  return timestamp;
}

/** Constant-time comparison of two encoded MACs; different lengths simply do not match. */
function sameMac(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && given.length > 0 && timingSafeEqual(given, expected);
}

function asBody(payload: string | Uint8Array): string | Buffer {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array)
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  throw new TypeError(
    'verify() needs the raw request body (a string or a Buffer), exactly as received: a parsed and re-serialised body does not match its signature.',
  );
}

/**
 * Checks the signature headers of one request against the raw body and returns
 * what was verified; throws WebhookVerificationError otherwise. `secret` may be a
 * list (e.g. during a rotation on your side): any one of them may match. A
 * `whpk_…` entry is an ed25519 public key: it verifies the `v1a` signatures.
 */
export function verifySignature(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): VerifiedRequest {
  const body = asBody(payload);
  // A bad secret is a configuration mistake: report it whatever the request carries.
  const keys = decodeKeys(secret);
  const publicKeys = decodePublicKeys(typeof secret === 'string' ? [secret] : secret);
  const id = header(headers, 'webhook-id');
  const stdTimestamp = header(headers, 'webhook-timestamp');
  const stdSignature = header(headers, 'webhook-signature');
  const legacyTimestamp = header(headers, 'x-webhook-timestamp');
  const legacySig = header(headers, 'x-webhook-signature');

  if (id && stdTimestamp && stdSignature) {
    const timestamp = checkTimestamp(stdTimestamp, opts);
    // `v1,<base64>` entries separated by spaces: one per secret Hookline signs with during a rotation.
    const given = stdSignature
      .split(' ')
      .map((part) => part.split(','))
      .filter(([version, sig]) => version === 'v1' && sig)
      .map(([, sig]) => Buffer.from(sig, 'base64'));
    for (const key of keys) {
      const expected = Buffer.from(standardSignature(key, id, timestamp, body), 'base64');
      if (given.some((g) => sameMac(g, expected))) return { scheme: 'standard', id, timestamp };
    }
    // `v1a,<base64>`: ed25519 signatures (src/core/ed25519.ts), checked with `whpk_…` public keys.
    const asymmetric = stdSignature
      .split(' ')
      .map((part) => part.split(','))
      .filter(([version, sig]) => version === 'v1a' && sig)
      .map(([, sig]) => Buffer.from(sig, 'base64'));
    for (const key of publicKeys) {
      if (asymmetric.some((sig) => verifyEd25519(key, id, timestamp, body, sig)))
        return { scheme: 'standard', id, timestamp };
    }
    throw new WebhookVerificationError('no_matching_signature');
  }

  if (legacyTimestamp && legacySig) {
    const timestamp = checkTimestamp(legacyTimestamp, opts);
    const given = legacySig
      .split(/[\s,]+/)
      .filter((part) => part.startsWith('sha256='))
      .map((part) => part.slice('sha256='.length))
      .filter((hex) => /^[0-9a-fA-F]+$/.test(hex))
      .map((hex) => Buffer.from(hex, 'hex'));
    for (const key of keys) {
      const expected = Buffer.from(legacySignature(key, timestamp, body), 'hex');
      if (given.some((g) => sameMac(g, expected))) {
        return { scheme: 'legacy', timestamp, eventType: header(headers, 'x-webhook-event') };
      }
    }
    throw new WebhookVerificationError('no_matching_signature');
  }

  throw new WebhookVerificationError('missing_headers');
}

/**
 * Verifies one webhook request and returns its parsed body. Pass the raw body
 * exactly as received (string or Buffer), the request headers, and the
 * webhook's `whsec_…` secret or its `whpk_…` ed25519 public key (or several of
 * either). Throws WebhookVerificationError.
 */
export function verify<T = unknown>(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): WebhookEvent<T> {
  verifySignature(payload, headers, secret, opts);
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
  return JSON.parse(text) as WebhookEvent<T>;
}
