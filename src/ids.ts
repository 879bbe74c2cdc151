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

// The newest millisecond an id was made for, and that id's random digits: an id made in the
// same millisecond takes the last one's digits plus one, so that two events published back to
// back in one process list in the order they were published (a ULID's monotonic mode). An id
// made for an earlier time (an attempt's start, a clock stepped back) draws fresh digits and
// leaves these alone. Ids name rows, they are not secrets: keys and tokens are drawn apart.
let lastMs = -1;
const lastDigits = new Uint8Array(16);
const pastDigits = new Uint8Array(16);

/** Adds one to `lastDigits`; false when they were all 31 (then fresh ones are drawn). */
function incrementLast(): boolean {
  for (let i = 15; i >= 0; i--) {
    if (lastDigits[i] < 31) {
      lastDigits[i]++;
      return true;
    }
    lastDigits[i] = 0;
  }
  return false;
}

/** Fills `digits` with 16 random base32 digits. */
function drawDigits(digits: Uint8Array): Uint8Array {
  const bytes = random16();
  for (let i = 0; i < 16; i++) digits[i] = bytes[pos + i] & 31;
  return digits;
}

/**
 * `prefix_` + 10 characters of millisecond time + 16 random characters (80 bits).
 * Time first, so string order is creation order: lists page by id. Within one millisecond
 * of one process, later ids are greater too (see `lastMs`).
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  let digits: Uint8Array = lastDigits;
  if (now < lastMs) digits = drawDigits(pastDigits);
  else if (now > lastMs || !incrementLast()) {
    lastMs = now;
    drawDigits(lastDigits);
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ID_ALPHABET[digits[i]];
  return `${prefix}_${idTime(now)}${rand}`;
}

/** True when `id` has the shape `newId(prefix)` produces. */
export function isId(prefix: IdPrefix, id: string): boolean {
  return (
    id.length === prefix.length + 27 &&
    id.startsWith(prefix + '_') &&
    /^[0-9a-z]+$/.test(id.slice(prefix.length + 1))
  );
}
