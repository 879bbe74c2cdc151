/**
 * include_fields (docs/routing.md, "Fewer fields"): a webhook that lists
 * dotted paths of `data` is sent only those. Pure.
 */
import type { FieldError } from '../errors.js';
import { dataPathProblem } from './filter.js';

/** The most paths one webhook may list. */
export const MAX_INCLUDE_FIELDS = 100;

/** Problems with an include_fields list, each naming its index. */
export function includeFieldsErrors(paths: string[], prefix = 'include_fields'): FieldError[] {
  if (paths.length > MAX_INCLUDE_FIELDS)
    return [
      { field: prefix, message: `lists ${paths.length} paths; at most ${MAX_INCLUDE_FIELDS}` },
    ];
  const errors: FieldError[] = [];
  paths.forEach((p, i) => {
    const problem = dataPathProblem(p);
    if (problem) errors.push({ field: `${prefix}.${i}`, message: `"${p}" ${problem}` });
  });
  return errors;
}

/** A path tree: `true` takes the whole value there, a map goes further down. */
type Tree = Map<string, Tree | true>;

function treeOf(paths: readonly string[]): Tree {
  const root: Tree = new Map();
  for (const path of paths) {
    const segments = path.split('.');
    let node = root;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      const here = node.get(s);
      if (here === true) break; // a shorter path takes all of it already
      if (i === segments.length - 1) node.set(s, true);
      else {
        const next: Tree = here ?? new Map();
        node.set(s, next);
        node = next;
      }
    }
  }
  return root;
}

function pick(value: unknown, tree: Tree): unknown {
  if (Array.isArray(value)) {
    // Picked elements keep their order; the array holds only them.
    const indexes = [...tree.keys()]
      .filter((k) => /^\d+$/.test(k) && Number(k) < value.length)
      .sort((a, b) => Number(a) - Number(b));
    const out: unknown[] = [];
    for (const k of indexes) {
      const sub = tree.get(k)!;
      const v = sub === true ? value[Number(k)] : pick(value[Number(k)], sub);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    const src = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, sub] of tree) {
      if (!Object.hasOwn(src, k)) continue;
      const v = sub === true ? src[k] : pick(src[k], sub);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return undefined; // a path that goes through a scalar finds nothing
}

/**
 * The part of `data` the paths name, in the same shape: objects keep the
 * named keys, arrays the named elements. Paths that find nothing are left
 * out; when none finds anything the result is `{}`.
 */
export function includeFields(data: unknown, paths: readonly string[]): unknown {
  return pick(data, treeOf(paths)) ?? {};
}
