/**
 * Handing leased deliveries back (docs/delivery-states.md: `sending` →
 * `pending`): the lease reaper for workers that died, and a worker's own
 * unsent claims at shutdown.
 */
import type { Db, Queryable } from '../store/db.js';
import type { ClaimedDelivery } from './claim.js';
import { BACK_TO_QUEUE, QUEUED_LEASE } from './statements.js';

/**
 * Hands expired leases back to the queue (their worker died or hung), in
 * bounded batches: `sending` → `pending`, due now (docs/delivery-states.md, "States"). Returns how many were released.
 * No index keys the lease (a claim that wrote one could not be HOT: sql/000103_hot_claim.sql),
 * so this reads the queue's rows (sql/000106_delivery_queue.sql) and looks each one's lease up
 * by key, a few times per lease. Never the whole log: `= ANY(ARRAY(…))` keeps both steps
 * lookups by key whatever the planner's statistics say.
 */
export async function releaseExpiredLeases(db: Db, limit = 1000): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE deliveries SET ${BACK_TO_QUEUE}
      WHERE id = ANY(ARRAY(SELECT d.id FROM deliveries d
                            WHERE d.id = ANY(ARRAY(SELECT q.delivery_id FROM ${QUEUED_LEASE('q', 'l')}
                                                    WHERE l.lease_expires_at < now()
                                                    ORDER BY l.lease_expires_at LIMIT $1))
                              AND d.state = 'pending' AND d.lease_expires_at < now()
                            FOR UPDATE SKIP LOCKED))`,
    [limit],
  );
  return rowCount;
}

/**
 * Gives this worker's unsent claims back at once (shutdown): no waiting for the lease. A circuit
 * probe among them hands its webhook's probe back too (the probe time comes again now), or the
 * webhook would wait for the lease it no longer needs (docs/delivery-states.md, "Circuit breaker").
 */
export async function releaseClaims(
  q: Queryable,
  workerId: string,
  claims: Array<Pick<ClaimedDelivery, 'id' | 'webhook_id' | 'circuit_probe'>>,
): Promise<number> {
  if (claims.length === 0) return 0;
  const probes = claims.filter((c) => c.circuit_probe).map((c) => c.webhook_id);
  const { rows } = await q.query<{ n: number }>(
    `WITH released AS (
       UPDATE deliveries SET ${BACK_TO_QUEUE}
        WHERE id = ANY($1::text[]) AND state = 'pending' AND worker_id = $2
       RETURNING webhook_id
     ), probes AS (
       UPDATE webhooks SET circuit_next_probe_at = now()
        WHERE id = ANY($3::text[]) AND circuit_state = 'half_open' AND id IN (SELECT webhook_id FROM released)
     )
     SELECT count(*)::int AS n FROM released`,
    [claims.map((c) => c.id), workerId, probes],
  );
  return rows[0]?.n ?? 0;
}
