/**
 * The queue tables' own vacuum (docs/delivery-states.md, "What is stored").
 *
 * Every delivery inserts one `delivery_queue` row and deletes it when it is
 * finished, so the table's dead rows grow by the delivery rate: thousands a
 * second. Until a VACUUM takes them out, each claim walks a webhook's index
 * range through the dead entries of what was already sent, and inserts cannot
 * reuse the space. PostgreSQL's autovacuum visits a database once a minute
 * (`autovacuum_naptime`) at best; in a 60 s fan-out run it never came, the
 * table grew to 130,000 dead rows beside 20,000 live, and the delivery rate fell
 * from 3,700 to 2,300 a second. With this pass about once a second the rate held
 * (docs/performance-history.md, 2026-12-07 15:40). The embedded store has no
 * autovacuum at all, and its general pass (src/worker/embedded-vacuum.ts) looks
 * at one table every 30 s and leaves these two to this pass.
 *
 * A pass is cheap because it is frequent: the visibility map lets VACUUM skip
 * the pages nothing touched since the last one, and the table holds only the
 * pending deliveries (1–7 ms a pass on the embedded store after a backlog of
 * 100,000). `webhook_schedule` (one row per webhook, updated by claims and
 * settles) goes with it. SKIP_LOCKED: a pass another worker is running is
 * enough, so none waits for another. TRUNCATE false: giving the empty pages at
 * the end back to the file system needs a lock that every claim and publish
 * would wait behind, for a table that grows back at the next burst.
 */
import type { Db } from '../store/db.js';

/** Dead rows in the two tables past which a pass is worth its statement. */
export const QUEUE_VACUUM_DEAD_ROWS = 1000;

// Only a table's owner (or a superuser) may vacuum it; any other role would only get a warning
// in the server's log, every second, so it leaves the tables to autovacuum.
const DEAD_SQL = `
SELECT coalesce(sum(s.n_dead_tup), 0)::int AS dead,
       coalesce(bool_and(pg_has_role(c.relowner, 'USAGE')), false) AS owned
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
 WHERE s.relid IN ('delivery_queue'::regclass, 'webhook_schedule'::regclass)`;

/**
 * Vacuums the queue and the webhook schedule when their dead rows, as the
 * statistics last reported them, reach `threshold` and this role owns them;
 * returns that count, or undefined when no pass was due.
 */
export async function vacuumQueueIfDue(
  db: Db,
  threshold = QUEUE_VACUUM_DEAD_ROWS,
): Promise<number | undefined> {
  // PGlite's single process keeps its table statistics to itself until asked to publish them.
  if (db.kind === 'pglite') await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ dead: number; owned: boolean }>(DEAD_SQL, [], {
    name: 'hookline_queue_dead_rows',
  });
  const dead = rows[0]?.dead ?? 0;
  if (dead < threshold || !rows[0]?.owned) return undefined;
  await db.query('VACUUM (SKIP_LOCKED, TRUNCATE false) delivery_queue, webhook_schedule');
  return dead;
}
