/**
 * The webhook fields of routing and payload shaping (docs/routing.md): their
 * route schemas, and the checks a JSON Schema cannot make, shared by the
 * webhook routes and the editor routes.
 */
import { Type } from '@sinclair/typebox';
import type { FieldError } from '../errors.js';
import { filterErrors, MAX_PATH_LENGTH, type Filter } from '../core/filter.js';
import { includeFieldsErrors, MAX_INCLUDE_FIELDS } from '../core/include-fields.js';

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
