/**
 * Checks published payloads against their event type's JSON Schema. Compiled
 * validators are cached per organization, type and version (updated_at), so a
 * schema is compiled once, and a changed schema is picked up at once.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FieldError } from '../errors.js';

const ajv = addFormats.default(new Ajv.default({ strict: false, allErrors: true }));
const cache = new Map<string, ValidateFunction>();
// Bounds memory across many organizations; recompiling after a clear is cheap enough.
const MAX_CACHED = 2000;

export interface TypeSchema {
  orgId: string;
  name: string;
  schema: Record<string, unknown>;
  updatedAt: Date;
}

function validatorFor(t: TypeSchema): ValidateFunction | undefined {
  const key = `${t.orgId}\u0000${t.name}\u0000${t.updatedAt.getTime()}`;
  let v = cache.get(key);
  if (!v) {
    try {
      v = ajv.compile(t.schema);
    } catch {
      // The catalog refuses invalid schemas on save; one that slipped in is not a reason to reject every publish.
      return undefined;
    }
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, v);
  }
  return v;
}

/** Why `payload` does not satisfy the type's schema, as field errors under `field`; [] when it does. */
export function payloadProblems(t: TypeSchema, payload: unknown, field: string): FieldError[] {
  const validate = validatorFor(t);
  if (!validate || validate(payload)) return [];
  return (validate.errors ?? []).slice(0, 20).map((e) => {
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const missing =
      e.keyword === 'required'
        ? String((e.params as { missingProperty?: unknown }).missingProperty)
        : '';
    const where = [field, path, missing].filter(Boolean).join('.');
    return {
      field: where,
      message:
        e.keyword === 'required'
          ? 'is required by the event type schema'
          : `${e.message ?? 'is not valid'} (event type schema)`,
    };
  });
}
