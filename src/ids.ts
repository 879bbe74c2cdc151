import { randomBytes } from 'node:crypto';

/** Crockford base32: sortable as plain ASCII, no ambiguous letters. */
export const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix = 'org' | 'key' | 'wh' | 'evt' | 'dlv' | 'att' | 'aud' | 'ps';

// Random bytes are drawn 4 KiB at a time: one randomBytes call per id costs more than the
// rest of the id, and the worker and publish paths make several ids per delivery.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let pos = POOL_SIZE;

/** The pool, with 16 fresh bytes at `pos`. */
function random16(): Buffer {
  pos += 16;
  if (pos + 16 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    pos = 0;
  }
  return pool;
}

/** The 10 characters of millisecond time an id begins with, after its prefix: ids of `ms` start `prefix_` + this. */
export function idTime(ms: number): string {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = ID_ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

/**
 * `prefix_` + 10 characters of millisecond time + 16 random characters (80 bits).
 * Time first, so string order is creation order: lists page by id.
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  const time = idTime(now);
  const bytes = random16();
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ID_ALPHABET[bytes[pos + i] & 31];
  return `${prefix}_${time}${rand}`;
}

/** True when `id` has the shape `newId(prefix)` produces. */
export function isId(prefix: IdPrefix, id: string): boolean {
  return (
    id.length === prefix.length + 27 &&
    id.startsWith(prefix + '_') &&
    /^[0-9a-z]+$/.test(id.slice(prefix.length + 1))
  );
}
