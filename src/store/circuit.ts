/**
 * An admin closing a webhook's circuit by hand (docs/delivery-states.md, "Circuit breaker").
 * The worker's own transitions are written with the claim (src/queue/claim.ts) and with the
 * batch's health (src/worker/webhook-health.ts).
 */
import type { Queryable } from './db.js';
import type { WebhookRow } from './webhooks.js';
import type { CircuitState } from '../core/circuit.js';

/** The webhook after the reset, and its circuit before it. */
export interface CircuitReset {
  row: WebhookRow;
  old_state: CircuitState;
  old_since: Date | null;
}

/**
 * Closes one webhook's circuit and starts its count of failed attempts afresh, so it gets the
 * full number of failures again before it reopens. The 5-days clock (first_failure_at) is left
 * alone: a reset is not a success. The row is locked first, so the circuit it reports is the one
 * it replaced. Undefined when the webhook does not exist in the organization.
 */
export async function resetCircuit(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<CircuitReset | undefined> {
  const { rows } = await q.query<WebhookRow & { old_state: CircuitState; old_since: Date | null }>(
    `WITH old AS (
       SELECT id, circuit_state, circuit_since FROM webhooks
        WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE
     )
     UPDATE webhooks w
        SET circuit_state = 'closed',
            circuit_since = CASE WHEN old.circuit_state = 'closed' THEN w.circuit_since ELSE now() END,
            circuit_next_probe_at = NULL, circuit_probes_failed = 0, failure_count = 0
       FROM old
      WHERE w.id = old.id
     RETURNING w.*, old.circuit_state AS old_state, old.circuit_since AS old_since`,
    [orgId, id],
  );
  const r = rows[0];
  if (!r) return undefined;
  const { old_state, old_since, ...row } = r;
  return { row: row as WebhookRow, old_state, old_since };
}
