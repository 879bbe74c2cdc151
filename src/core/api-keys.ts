import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 40;
const CHECKSUM_LENGTH = 6;

export type Role = 'admin' | 'publisher' | 'viewer';
export const roles: readonly Role[] = ['admin', 'publisher', 'viewer'];

function base62(bytes: Buffer, length: number): string {
  // Rejection sampling keeps every character uniformly likely.
  let out = '';
  let pool = bytes;
  let i = 0;
  while (out.length < length) {
    if (i >= pool.length) {
      pool = randomBytes(length);
      i = 0;
    }
    const b = pool[i++];
    if (b < 248) out += BASE62[b % 62];
  }
  return out;
}

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text)) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * A new API key: `hk_` + 40 random base62 characters + a 6-character CRC32
 * checksum, so a leaked key can be recognised (and a typo rejected) offline,
 * the way GitHub's token scanning works.
 */
export function generateApiKey(): string {
  return generateToken('hk_');
}

/** A new portal session token (docs/tenants.md): `hlp_`, then the same shape as an API key. */
export function generatePortalToken(): string {
  return generateToken(PORTAL_TOKEN_PREFIX);
}

/** What every portal session token starts with. */
export const PORTAL_TOKEN_PREFIX = 'hlp_';

function generateToken(prefix: string): string {
  const body = base62(randomBytes(RANDOM_LENGTH * 2), RANDOM_LENGTH);
  return `${prefix}${body}${checksum(body)}`;
}

/** True when the key has Hookline's shape and its checksum matches. */
export function hasValidChecksum(key: string, prefix = 'hk_'): boolean {
  if (!key.startsWith(prefix) || !/^[0-9A-Za-z]{38,}$/.test(key.slice(prefix.length))) return false;
  const body = key.slice(prefix.length, -CHECKSUM_LENGTH);
  return checksum(body) === key.slice(-CHECKSUM_LENGTH);
}

/** Keys are stored as this hash only. SHA-256 suffices: keys carry 238 bits of entropy. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What lists show of a key so a person can tell keys apart. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
