/**
 * The queue's two gauges (docs/delivery-states.md, "States"): how many
 * deliveries are not yet final and not failed for good (`pending` and
 * `sending`), and how long the oldest due one has waited. Both read only the
 * queue's partial indexes, so the cost follows the queue, not the log.
 */
import type { Queryable } from '../store/db.js';

export interface QueueGauges {
  /** Deliveries `pending` or `sending`. */
  depth: number;
  /** Seconds the oldest due `pending` delivery has waited; 0 when none is due. */
  oldestDueSeconds: number;
}

/** Reads the queue depth and the age of the oldest due delivery. */
export async function readQueueGauges(q: Queryable): Promise<QueueGauges> {
  const { rows } = await q.query<{ depth: number; oldest: number | null }>(
    // One pass over the pending rows, leased (`sending`) or not (deliveries_webhook_due_idx,
    // sql/000100_claim_by_webhook.sql), for their number and the oldest due time of the unleased.
    `SELECT count(*) AS depth,
            extract(epoch FROM now() - min(next_attempt_at)
                                   FILTER (WHERE lease_expires_at IS NULL AND next_attempt_at <= now()))::float8 AS oldest
       FROM deliveries WHERE state = 'pending'`,
    [],
    { name: 'hookline_queue_gauges' },
  );
  return { depth: Number(rows[0]?.depth ?? 0), oldestDueSeconds: rows[0]?.oldest ?? 0 };
}
