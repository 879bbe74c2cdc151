/**
 * Signing of outgoing webhook requests: the one implementation that the worker
 * (to sign) and the receiver SDK (to verify) share.
 *
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`,
 *   one per active secret, space-separated.
 * - Legacy (the older in-house designs): `x-webhook-signature: sha256=<hex HMAC-SHA256("{timestamp}.{body}")>`.
 * Both are keyed by the base64-decoded part of the `whsec_…` secret.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ed25519Signature } from './ed25519.js';

export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** Why a string is not a usable secret, or undefined when it is. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with ${SECRET_PREFIX}`;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
    return `must be ${SECRET_PREFIX} followed by base64`;
  const n = Buffer.from(b64, 'base64').length;
  if (n < MIN_SECRET_BYTES || n > MAX_SECRET_BYTES)
    return `must encode ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (got ${n})`;
  return undefined;
}

/** The HMAC key of a `whsec_…` secret. Accepts a bare base64 key too, as Standard Webhooks libraries do. */
export function decodeSecret(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

/** base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`: the part after `v1,`. */
export function standardSignature(
  key: Buffer,
  id: string,
  timestamp: number,
  body: string | Buffer,
): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** hex HMAC-SHA256 of `{timestamp}.{body}`: the part after `sha256=`. */
export function legacySignature(key: Buffer, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', key).update(`${timestamp}.`).update(body).digest('hex');
}

export interface SignInput {
  /** The event id: `webhook-id`, the same on every retry. */
  id: string;
  eventType: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: string | Buffer;
  /** Decoded keys of every active secret, current first. The legacy header uses the current one. */
  keys: Buffer[];
  /** `hmac` (default): `v1` only; `ed25519`: `v1a` only; `both`: `v1` then `v1a` (src/core/ed25519.ts). */
  scheme?: 'hmac' | 'ed25519' | 'both';
  /** ed25519 seeds of the current and still-valid previous signing keys, current first. */
  signingSeeds?: Buffer[];
}

/** The signature headers of one attempt, Standard Webhooks and legacy. */
export function signatureHeaders(input: SignInput): Record<string, string> {
  const { id, eventType, timestamp, body, keys, scheme = 'hmac', signingSeeds = [] } = input;
  if (keys.length === 0) throw new Error('signatureHeaders needs at least one key');
  const v1 =
    scheme === 'ed25519' ? [] : keys.map((k) => `v1,${standardSignature(k, id, timestamp, body)}`);
  const v1a =
    scheme === 'hmac'
      ? []
      : signingSeeds.map((s) => `v1a,${ed25519Signature(s, id, timestamp, body)}`);
  if (v1.length + v1a.length === 0) throw new Error(`the ${scheme} scheme needs a signing key`);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': [...v1, ...v1a].join(' '),
    'x-webhook-event': eventType,
    'x-webhook-timestamp': String(timestamp),
    'x-webhook-signature': `sha256=${legacySignature(keys[0], timestamp, body)}`,
  };
}
