/**
 * The webhooks' schedule (docs/delivery-states.md, "Claiming";
 * sql/000101_webhook_schedule.sql): `claimable_at`, never later than any of a
 * webhook's pending deliveries, is what the claim reads to know which webhooks to
 * look at. Statements that make deliveries pending bring it forward (a trigger, so
 * none can forget); settleSchedule moves it later once what was due has been taken,
 * so an idle webhook is not looked at again until its next delivery.
 */
import type { Db } from '../store/db.js';
import { QUEUED, UNLEASED } from './statements.js';

/**
 * Step one: the webhooks whose time has come with nothing due, each with its schedule lock (its
 * bucket's: sql/000101_webhook_schedule.sql) taken exclusive. Only tried (pg_try_advisory_xact_lock), never waited for: a statement that
 * makes one of the webhook's deliveries pending holds it shared until its transaction ends
 * (the trigger's first step), and such a webhook is left alone.
 */
export const SETTLE_LOCK_SQL = `
SELECT c.webhook_id
  FROM (SELECT s.webhook_id FROM webhook_schedule s
         WHERE s.claimable_at <= now()
           AND NOT EXISTS (SELECT 1 FROM ${QUEUED('q', 'x')}
                            WHERE q.webhook_id = s.webhook_id AND q.next_attempt_at <= now() AND ${UNLEASED('x')})
         ORDER BY s.claimable_at
         LIMIT $1) c
 WHERE pg_try_advisory_xact_lock(hashtext('hookline.webhook_schedule'), hashtext(c.webhook_id) & 1023)`;

/**
 * Step two, a new statement so a new snapshot, taken after the locks: every delivery made
 * pending by a transaction that committed before it is seen, and one still running waits
 * for this transaction and then brings the time forward again. The earliest pending row's
 * time, or 'infinity' when there is none.
 */
export const SETTLE_MOVE_SQL = `
UPDATE webhook_schedule s
   SET claimable_at = COALESCE((SELECT q.next_attempt_at FROM ${QUEUED('q', 'x')}
                                 WHERE q.webhook_id = s.webhook_id AND ${UNLEASED('x')}
                                 ORDER BY q.webhook_id, q.next_attempt_at LIMIT 1), 'infinity')
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
