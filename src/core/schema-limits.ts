/**
 * What an event type's JSON Schema may contain (docs/security.md, "Event type schemas").
 * A schema is input from an organization's admin, compiled and run on every publish,
 * so it is held to bounds that keep compiling and validating cheap and contained:
 * size and depth, the length of `enum`, `required` and keyword maps, regular
 * expressions RE2 can run (linear time), `uniqueItems` only under a small `maxItems`,
 * references only inside the schema itself and never recursive, no `$async`, and
 * `$id` only at the root (where it is ignored). Pure: no I/O, no compiling.
 */
import { RE2JS } from 're2js';
import type { FieldError } from '../errors.js';

/** The bounds, exported for the docs test and error messages. */
export const SCHEMA_LIMITS = {
  /** Serialized size of the whole schema. */
  maxBytes: 64 * 1024,
  /** Nesting of objects and arrays in the schema document. */
  maxDepth: 32,
  /** Values of one `enum`. */
  maxEnum: 1000,
  /** Entries of one `properties`, `patternProperties`, `definitions`, `$defs`, `dependencies`, or `required`. */
  maxEntries: 1000,
  /** Characters of one `pattern` or `patternProperties` key. */
  maxPatternLength: 1000,
  /** `uniqueItems: true` needs a `maxItems` at most this (its check is quadratic in the array). */
  maxUniqueItems: 1000,
  /** `$ref`s in the schema. */
  maxRefs: 500,
  /** Subschemas once every `$ref` is replaced by its target (refs shared many times multiply). */
  maxExpandedSubschemas: 10000,
} as const;

const SINGLE = [
  'not',
  'if',
  'then',
  'else',
  'additionalItems',
  'additionalProperties',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
];
const LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const MAPS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas'];

interface Walk {
  problems: FieldError[];
  /** JSON pointer of every subschema, for reference targets and the expanded count. */
  nodes: string[];
  refs: Array<{ at: string; target: string }>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `schema.properties.a` from the pointer `/properties/a`, for error details. */
function fieldOf(pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return ['schema', ...parts].join('.');
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function depthOf(value: unknown, limit: number): number {
  // Iterative, so a hostile nesting cannot overflow the stack here either.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Why RE2 (linear time, no backtracking) cannot run `pattern`, or null when it can. */
export function re2Problem(pattern: string): string | null {
  if (pattern.length > SCHEMA_LIMITS.maxPatternLength)
    return `is longer than ${SCHEMA_LIMITS.maxPatternLength} characters`;
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (err) {
    return `is not a regular expression RE2 can run (no look-around or backreferences): ${(err as Error).message}`;
  }
}

function walkNode(node: Record<string, unknown>, at: string, w: Walk): void {
  const problem = (keyword: string, message: string, where = `${at}/${escape(keyword)}`) =>
    w.problems.push({ field: fieldOf(where), message: `${keyword} ${message}` });
  w.nodes.push(at);
  if ('$async' in node) problem('$async', 'is not supported (schemas are checked synchronously)');
  if ('$id' in node && at !== '')
    problem('$id', 'is only allowed at the root of the schema (where it is ignored)');
  if ('$ref' in node) {
    const ref = node.$ref;
    if (typeof ref !== 'string' || !(ref === '#' || ref.startsWith('#/')))
      problem(
        '$ref',
        'must be a reference inside this schema ("#" or "#/…"); remote and $id references are refused',
      );
    else {
      let target: string | null = null;
      try {
        target = decodeURIComponent(ref.slice(1));
      } catch {
        problem('$ref', 'is not a valid URI fragment');
      }
      if (target !== null) w.refs.push({ at, target });
    }
  }
  if ('pattern' in node && typeof node.pattern === 'string') {
    const why = re2Problem(node.pattern);
    if (why) problem('pattern', why);
  }
  if (Array.isArray(node.enum) && node.enum.length > SCHEMA_LIMITS.maxEnum)
    problem('enum', `has more than ${SCHEMA_LIMITS.maxEnum} values`);
  if (Array.isArray(node.required) && node.required.length > SCHEMA_LIMITS.maxEntries)
    problem('required', `has more than ${SCHEMA_LIMITS.maxEntries} entries`);
  if (node.uniqueItems === true) {
    const max = node.maxItems;
    if (typeof max !== 'number' || max > SCHEMA_LIMITS.maxUniqueItems)
      problem(
        'uniqueItems',
        `needs "maxItems" of at most ${SCHEMA_LIMITS.maxUniqueItems} beside it`,
      );
  }
  for (const key of SINGLE) if (isObject(node[key])) walkNode(node[key], `${at}/${key}`, w);
  for (const key of LISTS) {
    const list = node[key];
    if (Array.isArray(list))
      list.forEach((s, i) => isObject(s) && walkNode(s, `${at}/${key}/${i}`, w));
  }
  if (isObject(node.items)) walkNode(node.items, `${at}/items`, w);
  else if (Array.isArray(node.items))
    node.items.forEach((s, i) => isObject(s) && walkNode(s, `${at}/items/${i}`, w));
  for (const key of [...MAPS, 'dependencies']) {
    const map = node[key];
    if (!isObject(map)) continue;
    const entries = Object.entries(map);
    if (entries.length > SCHEMA_LIMITS.maxEntries)
      problem(key, `has more than ${SCHEMA_LIMITS.maxEntries} entries`);
    for (const [name, sub] of entries) {
      if (key === 'patternProperties') {
        const why = re2Problem(name);
        if (why) problem('patternProperties', `key ${JSON.stringify(name)} ${why}`);
      }
      if (isObject(sub)) walkNode(sub, `${at}/${key}/${escape(name)}`, w);
    }
  }
}

const within = (pointer: string, root: string) =>
  pointer === root || pointer.startsWith(`${root}/`);

/** Reference problems: targets that are missing, recursion, and expansion past the bound. */
function refProblems(w: Walk): FieldError[] {
  const out: FieldError[] = [];
  const known = new Set(w.nodes);
  if (w.refs.length > SCHEMA_LIMITS.maxRefs)
    return [{ field: 'schema', message: `$ref is used more than ${SCHEMA_LIMITS.maxRefs} times` }];
  for (const r of w.refs)
    if (!known.has(r.target))
      out.push({
        field: fieldOf(`${r.at}/$ref`),
        message: `$ref "#${r.target}" names no subschema of this schema`,
      });
  if (out.length) return out;

  // Refs inside each ref's target: following one from there is one step of expansion.
  const inside = (target: string) => w.refs.filter((r) => within(r.at, target));
  const state = new Map<string, 'open' | number>();
  const nodesIn = (target: string) => w.nodes.filter((n) => within(n, target)).length;
  // Expanded size of a target: its own subschemas plus, for every ref in it, its target's size.
  const expand = (target: string, from: string): number => {
    const seen = state.get(target);
    if (seen === 'open') throw Object.assign(new Error('recursive'), { at: from });
    if (typeof seen === 'number') return seen;
    state.set(target, 'open');
    let size = nodesIn(target);
    for (const r of inside(target)) {
      size += expand(r.target, r.at);
      if (size > SCHEMA_LIMITS.maxExpandedSubschemas) break;
    }
    state.set(target, size);
    return size;
  };
  try {
    const total = expand('', '');
    if (total > SCHEMA_LIMITS.maxExpandedSubschemas)
      out.push({
        field: 'schema',
        message: `$ref expands to more than ${SCHEMA_LIMITS.maxExpandedSubschemas} subschemas`,
      });
  } catch (err) {
    const at = (err as { at?: string }).at ?? '';
    out.push({
      field: fieldOf(`${at}/$ref`),
      message:
        '$ref is recursive (a schema that refers to itself or to a schema containing it); recursive schemas are not supported',
    });
  }
  return out;
}

/**
 * Why `schema` may not be an event type's schema: each problem names the keyword and
 * where it is (`schema.properties.name.pattern`). [] when it is within the bounds.
 * It says nothing about whether the schema is valid JSON Schema; compiling does that.
 */
export function schemaLimitProblems(schema: unknown): FieldError[] {
  if (!isObject(schema)) return [{ field: 'schema', message: 'must be a JSON object' }];
  const size = Buffer.byteLength(JSON.stringify(schema));
  if (size > SCHEMA_LIMITS.maxBytes)
    return [{ field: 'schema', message: `is larger than ${SCHEMA_LIMITS.maxBytes} bytes` }];
  if (depthOf(schema, SCHEMA_LIMITS.maxDepth) > SCHEMA_LIMITS.maxDepth)
    return [{ field: 'schema', message: `nests deeper than ${SCHEMA_LIMITS.maxDepth} levels` }];
  const w: Walk = { problems: [], nodes: [], refs: [] };
  walkNode(schema, '', w);
  if (w.problems.length) return w.problems.slice(0, 20);
  return refProblems(w).slice(0, 20);
}
