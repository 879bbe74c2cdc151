/**
 * The webhook fields of routing and payload shaping (docs/routing.md): their
 * route schemas, and the checks a JSON Schema cannot make, shared by the
 * webhook routes and the editor routes.
 */
import { Type } from '@sinclair/typebox';
import type { FieldError } from '../errors.js';
import { filterErrors, type Filter } from '../core/filter.js';

/** A filter document; its operators are checked by `routingErrors`. */
export const FilterSchema = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Operator document over `type` and `data.*` paths ($eq $neq $gt $gte $lt $lte $in $nin $exists $startsWith, $and $or $not); at most 4 KiB, 10 levels. null: every event.',
});

/** The routing fields of a webhook body, as given (create or patch). */
export interface RoutingInput {
  filter?: Filter | null;
}

/** Every problem with the routing fields present in `body`, each naming its field. */
export function routingErrors(body: RoutingInput): FieldError[] {
  const errors: FieldError[] = [];
  if (body.filter != null) errors.push(...filterErrors(body.filter));
  return errors;
}
