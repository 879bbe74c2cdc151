/**
 * Range checks every route gets from its schema without saying so (docs/security.md,
 * "Input at the edge"), so no date or integer a client sends reaches the database out
 * of the range it can store (which would answer 500):
 *
 * - `format: "date-time"` also needs a year 0001–9999 (as written and in UTC), seconds
 *   00–59 (no leap second 23:59:60, which JavaScript dates cannot hold) and a date that
 *   exists.
 * - `type: "integer"` without its own bounds is held to PostgreSQL's `integer`
 *   (−2^31 … 2^31−1); a field stored wider says so with its own minimum/maximum.
 */
import type { Ajv } from 'ajv';

const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;

// RFC 3339 date-time, as ajv-formats reads it, with the ranges above.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** Whether `text` is an RFC 3339 date-time JavaScript and PostgreSQL both hold exactly. */
export function isStorableDateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  // The day must exist in that month (2026-02-30 is not a date).
  const probe = new Date(Date.UTC(2000, month - 1, day));
  probe.setUTCFullYear(year);
  if (probe.getUTCDate() !== day) return false;
  // The offset may carry the instant out of the years the stores hold (0001-01-01T00:00:00+01:00
  // is in year 0 in UTC, 9999-12-31T23:59:59-23:59 in year 10000), and both stores answer
  // in UTC.
  const instant = Date.parse(text);
  if (!Number.isFinite(instant)) return false;
  const utcYear = new Date(instant).getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999;
}

/** Replaces the date-time format of `ajv` with the storable one above. */
export function addStorableDateTime(ajv: Ajv): Ajv {
  return ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
}

/**
 * A copy of `schema` in which every `type: "integer"` without a bound of its own gets
 * the int4 bound. The route's own schema (and so /openapi.json) is left as it is.
 */
export function withIntegerBounds<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(withIntegerBounds) as T;
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = withIntegerBounds(v);
  const type = out.type;
  if (type === 'integer' || (Array.isArray(type) && type.includes('integer'))) {
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = INT4_MAX;
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = INT4_MIN;
  }
  return out as T;
}
