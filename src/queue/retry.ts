/**
 * The operator's manual retry (docs/delivery-states.md, "Manual retry"), and the
 * SET it shares with replay (replay.ts).
 */
import type { Queryable } from '../store/db.js';
import type { DeliveryRow } from '../store/delivery-log.js';
import { CLEAR_LEASE } from './statements.js';

// Manual retry (docs/delivery-states.md, "Manual retry"): back in the queue now, with one more attempt in the worker's
// budget, and no lease, so any worker may take it at once. A delivery taken from a worker
// mid-send counts that attempt now: the worker logs it under the number it claimed
// (attempts + 1) but no longer owns the row to raise `attempts`, so the next send is numbered
// after it instead of repeating its number.
export const REQUEUE_SET = `state = 'pending', next_attempt_at = now(), manual_attempts = manual_attempts + 1,
  attempts = attempts + CASE WHEN lease_expires_at IS NOT NULL THEN 1 ELSE 0 END,
  ${CLEAR_LEASE}, completed_at = NULL, updated_at = now()`;

/**
 * Manual retry: queues one more attempt of a delivery now, whatever its status (any status →
 * `pending`, docs/delivery-states.md, "Manual retry"). Callers wake the worker.
 */
export async function requeueDelivery(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<DeliveryRow | undefined> {
  const { rows } = await q.query<DeliveryRow>(
    `UPDATE deliveries SET ${REQUEUE_SET} WHERE org_id = $1 AND id = $2 RETURNING *`,
    [orgId, id],
  );
  return rows[0];
}
