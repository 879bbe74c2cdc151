/**
 * Operator and webhook-state transitions that finish deliveries without an attempt
 * (docs/delivery-states.md): skip, and cancelling a disabled webhook's pending ones.
 */
import type { Queryable } from '../store/db.js';
import type { DeliveryRow } from '../store/delivery-log.js';
import { CLAIMABLE, CLEAR_LEASE } from './statements.js';

/**
 * Skip: marks a delivery `skipped` (docs/delivery-states.md, "Skip"): finished, never sent
 * again, so a fifo line moves on.
 */
export async function markSkipped(q: Queryable, id: string): Promise<DeliveryRow> {
  const { rows } = await q.query<DeliveryRow>(
    `UPDATE deliveries SET state = 'skipped', completed_at = now(), ${CLEAR_LEASE},
            updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id],
  );
  return rows[0];
}

/**
 * Cancels the pending deliveries of webhooks just switched off (`pending` →
 * `cancelled`, docs/delivery-states.md, "States"): they will not go out. Found through the
 * queue and then by primary key (`= ANY(ARRAY(…))`, as in the claim and the reaper), never by
 * a join the planner could make a read of the whole log.
 */
export async function cancelPendingOfWebhooks(tx: Queryable, webhookIds: string[]): Promise<void> {
  await tx.query(
    `UPDATE deliveries SET state = 'cancelled', completed_at = now(), updated_at = now(), ${CLEAR_LEASE}
      WHERE id = ANY(ARRAY(SELECT q.delivery_id FROM delivery_queue q WHERE q.webhook_id = ANY($1::text[])))
        AND ${CLAIMABLE('deliveries')}`,
    [webhookIds],
  );
}
