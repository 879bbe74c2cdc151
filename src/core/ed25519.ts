/**
 * Asymmetric webhook signatures, Standard Webhooks `v1a`: an ed25519 signature of
 * `{id}.{timestamp}.{body}`, base64, in `webhook-signature` beside (or instead of)
 * the HMAC `v1`. Receivers verify with the public key alone, so a leaked verifier
 * cannot forge requests. Shared by the worker (to sign) and the SDK (to verify).
 *
 * Keys travel as raw 32-byte values: the private seed (stored sealed like a secret)
 * and the public key, shown as `whpk_` + base64. node:crypto wants DER, so each is
 * wrapped in the fixed PKCS#8 / SPKI prefix of an ed25519 key (RFC 8410).
 */
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

export const PUBLIC_KEY_PREFIX = 'whpk_';
export const SIGNATURE_VERSION = 'v1a';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A new private seed: 32 random bytes. */
export function generateSigningSeed(): Buffer {
  return randomBytes(32);
}

// Building a KeyObject parses DER; the worker signs with the same few keys all day.
const privateKeys = new Map<string, KeyObject>();
const MAX_CACHED = 10_000;

function privateKeyOf(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an ed25519 seed is 32 bytes');
  const id = seed.toString('base64');
  let key = privateKeys.get(id);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    if (privateKeys.size >= MAX_CACHED) privateKeys.clear();
    privateKeys.set(id, key);
  }
  return key;
}

/** The raw 32-byte public key of a seed. */
export function publicKeyBytes(seed: Buffer): Buffer {
  const spki = createPublicKey(privateKeyOf(seed)).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_PREFIX.length);
}

/** `whpk_` + base64 of the raw public key: what GET /webhooks/{id}/secret shows. */
export function formatPublicKey(seed: Buffer): string {
  return PUBLIC_KEY_PREFIX + publicKeyBytes(seed).toString('base64');
}

/** The raw public key of a `whpk_…` (or bare base64) string; undefined when it is not 32 bytes of base64. */
export function parsePublicKey(text: string): Buffer | undefined {
  const b64 = text.startsWith(PUBLIC_KEY_PREFIX) ? text.slice(PUBLIC_KEY_PREFIX.length) : text;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const raw = Buffer.from(b64, 'base64');
  return raw.length === 32 ? raw : undefined;
}

function signedContent(id: string, timestamp: number, body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)]);
}

/** base64 ed25519 signature of `{id}.{timestamp}.{body}`: the part after `v1a,`. */
export function ed25519Signature(
  seed: Buffer,
  id: string,
  timestamp: number,
  body: string | Buffer,
): string {
  return sign(null, signedContent(id, timestamp, body), privateKeyOf(seed)).toString('base64');
}

/** True when `signature` (raw bytes) is a valid ed25519 signature of the request by `publicKey` (raw 32 bytes). */
export function verifyEd25519(
  publicKey: Buffer,
  id: string,
  timestamp: number,
  body: string | Buffer,
  signature: Buffer,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const key = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return verify(null, signedContent(id, timestamp, body), key, signature);
}
