/**
 * Signing of outgoing webhook requests: the one implementation that the worker
 * (to sign) and the receiver SDK (to verify) share.
 *
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`,
 *   one per active secret, space-separated.
 * - Legacy (the older in-house designs): `x-webhook-signature: sha256=<hex HMAC-SHA256("{timestamp}.{body}")>`,
 *   or of the body alone (GitHub's X-Hub-Signature-256 form), or none: the webhook's `legacy_signature`.
 * Every HMAC is keyed by decodeSecret: a `whsec_…` secret by its base64-decoded bytes
 * (Standard Webhooks), an imported plain secret by its UTF-8 bytes (GitHub, the older designs).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ed25519Signature } from './ed25519.js';

export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** Length bounds of an imported plain (non-`whsec_`) secret, in characters. */
export const MIN_PLAIN_SECRET = 24;
export const MAX_PLAIN_SECRET = 128;

/** What the legacy `x-webhook-signature` header signs: `{timestamp}.{body}` (default), the body alone, or nothing is sent. */
export type LegacySignature = 'timestamped' | 'body' | 'none';

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/**
 * Why a string is not a usable secret, or undefined when it is: `whsec_` + base64 of
 * 24–64 bytes, or an imported plain secret of 24–128 printable ASCII characters.
 */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return plainSecretProblem(secret);
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
    return `must be ${SECRET_PREFIX} followed by base64`;
  const n = Buffer.from(b64, 'base64').length;
  if (n < MIN_SECRET_BYTES || n > MAX_SECRET_BYTES)
    return `must encode ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (got ${n})`;
  return undefined;
}

function plainSecretProblem(secret: string): string | undefined {
  const shape = `must be ${SECRET_PREFIX} + base64, or ${MIN_PLAIN_SECRET} to ${MAX_PLAIN_SECRET} printable ASCII characters`;
  if (secret.length < MIN_PLAIN_SECRET || secret.length > MAX_PLAIN_SECRET)
    return `${shape} (got ${secret.length})`;
  if (!/^[\x20-\x7e]+$/.test(secret)) return `${shape}: no control or non-ASCII characters`;
  // A space pasted at either end would key every signature differently from the receiver's copy.
  if (secret.trim() !== secret) return `${shape}: no spaces at either end`;
  return undefined;
}

/**
 * The HMAC key of a secret, for signer and verifier alike: the base64-decoded bytes of a
 * `whsec_…` secret; the UTF-8 bytes of any other (an imported secret, keyed as GitHub and
 * the older in-house designs key theirs).
 */
export function decodeSecret(secret: string): Buffer {
  if (secret.startsWith(SECRET_PREFIX))
    return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return Buffer.from(secret, 'utf8');
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

/** hex HMAC-SHA256 of the body alone: the part after `sha256=` with `legacy_signature: body`. */
export function legacyBodySignature(key: Buffer, body: string | Buffer): string {
  return createHmac('sha256', key).update(body).digest('hex');
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
  /** What `x-webhook-signature` signs; `timestamped` by default, `none` leaves it out. */
  legacy?: LegacySignature;
}

/** The signature headers of one attempt, Standard Webhooks and legacy. */
export function signatureHeaders(input: SignInput): Record<string, string> {
  const { id, eventType, timestamp, body, keys, scheme = 'hmac', signingSeeds = [] } = input;
  const legacy = input.legacy ?? 'timestamped';
  if (keys.length === 0) throw new Error('signatureHeaders needs at least one key');
  const v1 =
    scheme === 'ed25519' ? [] : keys.map((k) => `v1,${standardSignature(k, id, timestamp, body)}`);
  const v1a =
    scheme === 'hmac'
      ? []
      : signingSeeds.map((s) => `v1a,${ed25519Signature(s, id, timestamp, body)}`);
  if (v1.length + v1a.length === 0) throw new Error(`the ${scheme} scheme needs a signing key`);
  const headers: Record<string, string> = {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': [...v1, ...v1a].join(' '),
    'x-webhook-event': eventType,
    'x-webhook-timestamp': String(timestamp),
  };
  if (legacy === 'timestamped')
    headers['x-webhook-signature'] = `sha256=${legacySignature(keys[0], timestamp, body)}`;
  else if (legacy === 'body')
    headers['x-webhook-signature'] = `sha256=${legacyBodySignature(keys[0], body)}`;
  return headers;
}
