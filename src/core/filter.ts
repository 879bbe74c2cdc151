/**
 * Webhook filters: a small operator language over an event's `type` and
 * `data` (docs/routing.md, "Filters"). Pure: `filterErrors` checks a filter
 * when a webhook is saved, `matchesFilter` evaluates a checked one at fan-out.
 */
import type { FieldError } from '../errors.js';

/** A filter as stored: an object of path → condition, `$and`, `$or`, `$not`. */
export type Filter = Record<string, unknown>;

/** What a filter is evaluated against. */
export interface FilterEvent {
  type: string;
  data: unknown;
}

/** The largest filter accepted, serialized. */
export const MAX_FILTER_BYTES = 4096;
/** The deepest nesting of objects and arrays accepted in a filter. */
export const MAX_FILTER_DEPTH = 10;
/** The longest path accepted, in a filter or in include_fields. */
export const MAX_PATH_LENGTH = 200;

const COMPARISONS = new Set(['$eq', '$neq', '$gt', '$gte', '$lt', '$lte']);
const OPERATORS = new Set([...COMPARISONS, '$in', '$nin', '$exists', '$startsWith', '$not']);
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** The problem with a dotted path into `data` (`a.b.0.c`), or null when it is well formed. */
export function dataPathProblem(path: string): string | null {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  for (const segment of path.split('.')) {
    if (!SEGMENT.test(segment))
      return 'must be dot-separated names of letters, digits, "_" or "-" (array indexes as numbers)';
  }
  return null;
}

/** The problem with a filter path (`type`, `data` or `data.<path>`), or null. */
function filterPathProblem(path: string): string | null {
  if (path === 'type' || path === 'data') return null;
  if (!path.startsWith('data.'))
    return `path "${path}" must be "type", "data" or start with "data."`;
  const problem = dataPathProblem(path.slice(5));
  return problem && `path "${path}" ${problem}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let max = 0;
  for (const child of Object.values(v)) max = Math.max(max, depthOf(child));
  return max + 1;
}

/**
 * Every problem with a filter, each naming where it is (`field` starts with
 * `prefix`, e.g. `filter.$and.0.data.amount.$gtx`). Empty when it is valid.
 */
export function filterErrors(filter: unknown, prefix = 'filter'): FieldError[] {
  if (!isPlainObject(filter))
    return [{ field: prefix, message: 'must be an object (or null for no filter)' }];
  const size = Buffer.byteLength(JSON.stringify(filter));
  if (size > MAX_FILTER_BYTES)
    return [{ field: prefix, message: `is ${size} bytes; the limit is ${MAX_FILTER_BYTES}` }];
  const depth = depthOf(filter);
  if (depth > MAX_FILTER_DEPTH)
    return [
      {
        field: prefix,
        message: `is nested ${depth} levels deep; the limit is ${MAX_FILTER_DEPTH}`,
      },
    ];
  const errors: FieldError[] = [];
  checkDocument(filter, prefix, errors);
  return errors;
}

function checkDocument(doc: Record<string, unknown>, at: string, errors: FieldError[]): void {
  for (const [key, value] of Object.entries(doc)) {
    const field = `${at}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        errors.push({ field, message: `${key} takes a non-empty array of filters` });
        continue;
      }
      value.forEach((item, i) => {
        if (isPlainObject(item)) checkDocument(item, `${field}.${i}`, errors);
        else errors.push({ field: `${field}.${i}`, message: `${key} items must be objects` });
      });
    } else if (key === '$not') {
      if (isPlainObject(value)) checkDocument(value, field, errors);
      else errors.push({ field, message: '$not takes a filter object' });
    } else if (key.startsWith('$')) {
      errors.push({
        field,
        message: `unknown operator ${key} (at the top level: $and, $or, $not or a path)`,
      });
    } else {
      const problem = filterPathProblem(key);
      if (problem) errors.push({ field, message: problem });
      else checkCondition(value, field, errors);
    }
  }
}

/** A condition: an operator object (every key `$…`) or a plain value meaning `$eq`. */
function isOperatorObject(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function checkCondition(cond: unknown, at: string, errors: FieldError[]): void {
  if (!isOperatorObject(cond)) {
    if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$')))
      errors.push({ field: at, message: 'mixes operators ($…) and plain keys' });
    return;
  }
  for (const [op, operand] of Object.entries(cond)) {
    const field = `${at}.${op}`;
    if (!OPERATORS.has(op)) {
      errors.push({ field, message: `unknown operator ${op}` });
    } else if (op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte') {
      if (typeof operand !== 'number' && typeof operand !== 'string')
        errors.push({ field, message: `${op} takes a number or a string` });
    } else if (op === '$in' || op === '$nin') {
      if (!Array.isArray(operand)) errors.push({ field, message: `${op} takes an array` });
    } else if (op === '$exists') {
      if (typeof operand !== 'boolean')
        errors.push({ field, message: '$exists takes true or false' });
    } else if (op === '$startsWith') {
      if (typeof operand !== 'string')
        errors.push({ field, message: '$startsWith takes a string' });
    } else if (op === '$not') {
      checkCondition(operand, field, errors);
    }
  }
}

const MISSING = Symbol('missing');

/** The value at a filter path, or MISSING. Own properties only; numeric segments index arrays. */
function valueAt(event: FilterEvent, path: string): unknown {
  if (path === 'type') return event.type;
  let v: unknown = event.data;
  if (path === 'data') return v;
  for (const segment of path.slice(5).split('.')) {
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(segment)) return MISSING;
      const i = Number(segment);
      if (i >= v.length) return MISSING;
      v = v[i];
    } else if (isPlainObject(v)) {
      if (!Object.hasOwn(v, segment)) return MISSING;
      v = v[segment];
    } else return MISSING;
  }
  return v;
}

/** JSON equality: same scalars, arrays element by element, objects key by key (order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}

/** Orders two numbers or two strings (by code unit); anything else does not compare. */
function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function testOperator(op: string, operand: unknown, v: unknown): boolean {
  switch (op) {
    case '$eq':
      return v !== MISSING && jsonEqual(v, operand);
    case '$neq':
      return v === MISSING || !jsonEqual(v, operand);
    case '$in':
      return v !== MISSING && (operand as unknown[]).some((x) => jsonEqual(v, x));
    case '$nin':
      return v === MISSING || !(operand as unknown[]).some((x) => jsonEqual(v, x));
    case '$exists':
      return (v !== MISSING) === operand;
    case '$startsWith':
      return typeof v === 'string' && v.startsWith(operand as string);
    case '$not':
      return !testCondition(operand, v);
    default: {
      const c = compare(v, operand);
      if (c === undefined) return false;
      if (op === '$gt') return c > 0;
      if (op === '$gte') return c >= 0;
      if (op === '$lt') return c < 0;
      return c <= 0; // $lte
    }
  }
}

function testCondition(cond: unknown, v: unknown): boolean {
  if (!isOperatorObject(cond)) return testOperator('$eq', cond, v);
  for (const op in cond) if (!testOperator(op, cond[op], v)) return false;
  return true;
}

/** True when the event satisfies the (already validated) filter: every key of it holds. */
export function matchesFilter(filter: Filter, event: FilterEvent): boolean {
  for (const key in filter) {
    const value = filter[key];
    if (key === '$and') {
      if (!(value as Filter[]).every((f) => matchesFilter(f, event))) return false;
    } else if (key === '$or') {
      if (!(value as Filter[]).some((f) => matchesFilter(f, event))) return false;
    } else if (key === '$not') {
      if (matchesFilter(value as Filter, event)) return false;
    } else if (!testCondition(value, valueAt(event, key))) return false;
  }
  return true;
}
