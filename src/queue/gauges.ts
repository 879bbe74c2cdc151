/**
 * The queue's two gauges (docs/delivery-states.md, "States"): how many
 * deliveries are not yet final and not failed for good (`pending` and
 * `sending`), and how long the oldest due one has waited. Both read only the
 * queue's rows and their leases, so the cost follows the queue, not the log.
 */
import type { Queryable } from '../store/db.js';
import { QUEUED_LEASE } from './statements.js';

export interface QueueGauges {
  /** Deliveries `pending` or `sending`. */
  depth: number;
  /** Seconds the oldest due `pending` delivery has waited; 0 when none is due. */
  oldestDueSeconds: number;
}

/** Reads the queue depth and the age of the oldest due delivery. */
export async function readQueueGauges(q: Queryable): Promise<QueueGauges> {
  const { rows } = await q.query<{ depth: number; oldest: number | null }>(
    // One pass over the queue (sql/000106_delivery_queue.sql), leased (`sending`) or not, for
    // their number and the oldest due time of the unleased.
    `SELECT count(*) AS depth,
            extract(epoch FROM now() - min(q.next_attempt_at)
                                   FILTER (WHERE l.lease_expires_at IS NULL AND q.next_attempt_at <= now()))::float8 AS oldest
       FROM ${QUEUED_LEASE('q', 'l')}`,
    [],
    { name: 'hookline_queue_gauges' },
  );
  return { depth: Number(rows[0]?.depth ?? 0), oldestDueSeconds: rows[0]?.oldest ?? 0 };
}
