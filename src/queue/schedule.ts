/**
 * The webhooks' schedule (docs/delivery-states.md, "Claiming";
 * sql/000101_webhook_schedule.sql): `claimable_at`, never later than any of a
 * webhook's pending deliveries, is what the claim reads to know which webhooks to
 * look at. Statements that make deliveries pending bring it forward (a trigger, so
 * none can forget); settleSchedule moves it later once what was due has been taken,
 * so an idle webhook is not looked at again until its next delivery.
 */
import type { Db } from '../store/db.js';

/**
 * Step one: the webhooks whose time has come with nothing due, locked. FOR UPDATE on
 * the webhook row waits for no one (SKIP LOCKED) and is refused while a statement that
 * makes one of its deliveries pending holds KEY SHARE on it (the trigger's first step,
 * or an insert's foreign key), until that statement's transaction ends.
 */
export const SETTLE_LOCK_SQL = `
SELECT s.webhook_id
  FROM webhook_schedule s
  JOIN webhooks w ON w.id = s.webhook_id
 WHERE s.claimable_at <= now()
   AND NOT EXISTS (SELECT 1 FROM deliveries x
                    WHERE x.webhook_id = s.webhook_id AND x.status = 'pending' AND x.next_attempt_at <= now())
 ORDER BY s.claimable_at
 LIMIT $1
 FOR UPDATE OF s, w SKIP LOCKED`;

/**
 * Step two, a new statement so a new snapshot, taken after the locks: every delivery made
 * pending by a transaction that committed before it is seen, and one still running waits
 * for this transaction and then brings the time forward again. The earliest pending row's
 * time, or 'infinity' when there is none.
 */
export const SETTLE_MOVE_SQL = `
UPDATE webhook_schedule s
   SET claimable_at = COALESCE((SELECT x.next_attempt_at FROM deliveries x
                                 WHERE x.webhook_id = s.webhook_id AND x.status = 'pending'
                                 ORDER BY x.webhook_id, x.next_attempt_at LIMIT 1), 'infinity')
 WHERE s.webhook_id = ANY($1::text[])`;

/**
 * Moves the time of up to `limit` webhooks whose time has come but have nothing due to
 * their next pending delivery (or 'infinity'). Returns how many it moved.
 */
export async function settleSchedule(db: Db, limit = 1000): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ webhook_id: string }>(SETTLE_LOCK_SQL, [limit]);
    if (rows.length === 0) return 0;
    await tx.query(SETTLE_MOVE_SQL, [rows.map((r) => r.webhook_id)]);
    return rows.length;
  });
}
