/**
 * Event type schemas: checked when saved, and applied to published payloads. Both
 * go through the bounds of schema-limits.ts and the worker of schema-sandbox.ts, so a
 * schema is hostile input that can neither block the process nor see another
 * schema. Validators are cached in the worker per organization, type and version
 * (updated_at), so every PATCH compiles afresh.
 */
import type { FieldError } from '../errors.js';
import { schemaLimitProblems } from './schema-limits.js';
import { runSchema, type SchemaIssue } from './schema-sandbox.js';

// The bounds checked per schema version, so a publish does not walk the schema again.
const limitsByKey = new Map<string, FieldError[]>();

export interface TypeSchema {
  orgId: string;
  name: string;
  schema: Record<string, unknown>;
  updatedAt: Date;
}

/**
 * Why `schema` cannot be an event type's schema, as field errors under `schema`
 * (the keyword and its path named); [] when it is within the bounds and compiles.
 */
export async function schemaProblems(schema: unknown): Promise<FieldError[]> {
  const limits = schemaLimitProblems(schema);
  if (limits.length > 0) return limits;
  const answer = await runSchema(schema as object, []);
  if (answer.ok) return [];
  return [{ field: 'schema', message: `is not a valid JSON Schema: ${answer.message}` }];
}

function toFieldError(e: SchemaIssue, field: string): FieldError {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = e.keyword === 'required' ? String(e.missingProperty) : '';
  return {
    field: [field, path, missing].filter(Boolean).join('.'),
    message:
      e.keyword === 'required'
        ? 'is required by the event type schema'
        : `${e.message ?? 'is not valid'} (event type schema)`,
  };
}

/**
 * Why each payload does not satisfy its type's schema, as field errors under
 * `fields[i]`; [] when all do. A stored schema that is no longer within the bounds
 * (saved before they existed) or that the worker cannot run in time refuses the
 * payload: an unchecked payload is never accepted in silence.
 */
export async function payloadProblems(
  t: TypeSchema,
  payloads: unknown[],
  fields: string[],
): Promise<FieldError[]> {
  const key = `${t.orgId}\u0000${t.name}\u0000${t.updatedAt.getTime()}`;
  let limits = limitsByKey.get(key);
  if (!limits) {
    limits = schemaLimitProblems(t.schema);
    if (limitsByKey.size >= 2000) limitsByKey.clear();
    limitsByKey.set(key, limits);
  }
  if (limits.length > 0) {
    const first = limits[0];
    return fields.map((field) => ({
      field,
      message: `cannot be checked: the event type's schema is outside the limits (${first.field} ${first.message}); fix it with PATCH /event-types/${t.name}`,
    }));
  }
  const answer = await runSchema(t.schema, payloads, key);
  if (!answer.ok) {
    const why =
      answer.reason === 'compile'
        ? `cannot be checked: the event type's schema does not compile (${answer.message})`
        : answer.message;
    return fields.map((field) => ({ field, message: why }));
  }
  return answer.issues.flatMap((issues, i) => issues.map((e) => toFieldError(e, fields[i])));
}
