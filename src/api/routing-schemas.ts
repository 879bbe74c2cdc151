/**
 * The webhook fields of routing and payload shaping (docs/routing.md): their
 * route schemas, and the checks a JSON Schema cannot make, shared by the
 * webhook routes and the editor routes.
 */
import { Type } from '@sinclair/typebox';
import type { FieldError } from '../errors.js';
import { filterErrors, MAX_PATH_LENGTH, type Filter } from '../core/filter.js';
import { includeFieldsErrors, MAX_INCLUDE_FIELDS } from '../core/include-fields.js';
import { MAX_TRANSFORMATION_BYTES, type Transformation } from '../core/transformation.js';
import { syntaxProblem } from '../transform/sandbox.js';
import type { Config } from '../config.js';

/** A filter document; its operators are checked by `routingErrors`. */
export const FilterSchema = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Operator document over `type` and `data.*` paths ($eq $neq $gt $gte $lt $lte $in $nin $exists $startsWith, $and $or $not); at most 4 KiB, 10 levels. null: every event.',
});

/** Dotted paths of `data`; only those are sent. */
export const IncludeFieldsSchema = Type.Array(
  Type.String({ minLength: 1, maxLength: MAX_PATH_LENGTH }),
  {
    minItems: 1,
    maxItems: MAX_INCLUDE_FIELDS,
    description:
      'Dotted paths into `data` (array indexes as numbers); only those are sent. null: all of `data`.',
  },
);

/** The script source of a transformation. */
export const TransformationCode = Type.String({
  minLength: 1,
  maxLength: MAX_TRANSFORMATION_BYTES,
  description:
    'JavaScript defining function handler(webhook): gets {eventType, payload, url, headers}, returns them changed or {cancel: true, reason?}. At most 64 KiB.',
});

/** `{code, enabled}`: run in a WebAssembly sandbox before each attempt while enabled. */
export const TransformationSchema = Type.Object(
  { code: TransformationCode, enabled: Type.Boolean() },
  { additionalProperties: false },
);

/** A transformation's problems: too large, or code that does not parse (nothing of it runs). */
export async function transformationErrors(
  t: Transformation,
  config: Pick<Config, 'transformMemoryMb' | 'transformTimeoutMs'>,
  field = 'transformation.code',
): Promise<FieldError[]> {
  const size = Buffer.byteLength(t.code);
  if (size > MAX_TRANSFORMATION_BYTES)
    return [{ field, message: `is ${size} bytes; the limit is ${MAX_TRANSFORMATION_BYTES}` }];
  const problem = await syntaxProblem(t.code, {
    memoryMb: config.transformMemoryMb,
    // Parsing is quick; the run limit would be too tight for a large script on a busy machine.
    timeoutMs: Math.max(1000, config.transformTimeoutMs),
  });
  return problem ? [{ field, message: `does not parse: ${problem}` }] : [];
}

/** The routing fields of a webhook body, as given (create or patch). */
export interface RoutingInput {
  filter?: Filter | null;
  include_fields?: string[] | null;
}

/** Every problem with the routing fields present in `body`, each naming its field. */
export function routingErrors(body: RoutingInput): FieldError[] {
  const errors: FieldError[] = [];
  if (body.filter != null) errors.push(...filterErrors(body.filter));
  if (body.include_fields != null) errors.push(...includeFieldsErrors(body.include_fields));
  return errors;
}
