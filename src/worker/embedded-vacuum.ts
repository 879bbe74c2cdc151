/**
 * Autovacuum's job on the embedded store. PGlite runs PostgreSQL as a single
 * process, without autovacuum, so the dead row versions that every delivery
 * leaves behind (a delivery row is written three times, an expired event or
 * attempt is deleted) would never become reusable: the tables and their
 * indexes would only grow, every scan would step over more dead entries (the
 * queue gauges took 150–400 ms a read after a million deliveries were
 * deleted), and old transaction ids would never be frozen. On PostgreSQL the
 * server's own autovacuum does this, and Hookline leaves it alone.
 *
 * A table is due on autovacuum's own default thresholds: for VACUUM, 50 dead
 * rows plus 20% of the live ones, 1,000 rows inserted since its last vacuum
 * plus 20% (insert-only tables get their visibility map and their frozen ids
 * too), or a transaction-id age past 200 million; for ANALYZE, 50 rows changed
 * plus 10%. One statement per pass, on the table most due, vacuum before
 * analyze, so each pass is short: it holds the embedded database, which serves
 * everything else in turn. The queue's two tables are left to their own pass,
 * once a second (src/queue/vacuum.ts), unless their ids need freezing: after a
 * large backlog their heap stays large and nearly empty (that pass does not
 * truncate it), and an ANALYZE here read all of it: 33–325 ms a statement, as
 * logged in a latency measurement at 100 events/s, for statistics the queue's
 * plans do not depend on (src/store/planner.ts; test/worker/claim-backlog.test.ts
 * claims with stale and with missing ones). ANALYZE samples 3,000 rows (statistics target 10)
 * rather than 30,000: on a 300,000-row `deliveries` that is 25 ms against 205,
 * where its VACUUM takes 70–80 ms, and the coarser statistics are enough, since
 * the claim's plan does not depend on them (docs/delivery-states.md,
 * "Claiming"). A VACUUM (ANALYZE) with the default target held the database
 * for 655 ms in the middle of a latency measurement.
 */
import type { Db } from '../store/db.js';

/** Autovacuum's default `autovacuum_freeze_max_age`. */
export const FREEZE_MAX_AGE = 200_000_000;

/**
 * Hookline's table most due for VACUUM or else ANALYZE: ids past the freeze age first, then
 * vacuum before analyze, then the most changed. Each threshold is written once, in the inner
 * select.
 */
const DUE_SQL = `
SELECT relname, vacuum
  FROM (SELECT s.relname,
               age(c.relfrozenxid) > $1 AS old,
               (s.n_dead_tup > 50 + 0.2 * s.n_live_tup
                OR s.n_ins_since_vacuum > 1000 + 0.2 * s.n_live_tup
                OR age(c.relfrozenxid) > $1) AS vacuum,
               s.n_mod_since_analyze > 50 + 0.1 * s.n_live_tup AS analyze_due,
               s.n_dead_tup + s.n_ins_since_vacuum + s.n_mod_since_analyze AS changed
          FROM pg_stat_user_tables s
          JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = current_schema()) t
 WHERE (vacuum OR analyze_due)
   AND (old OR relname NOT IN ('delivery_queue', 'webhook_schedule'))
 ORDER BY old DESC, vacuum DESC, changed DESC
 LIMIT 1`;

/** What a pass did, and to which table. */
export interface VacuumPass {
  table: string;
  action: 'vacuum' | 'analyze';
}

/**
 * Vacuums, or else analyzes, the embedded table that most needs it, if any.
 * `freezeMaxAge` is for tests, which cannot age a table by 200 million
 * transactions.
 */
export async function vacuumEmbedded(
  db: Db,
  freezeMaxAge = FREEZE_MAX_AGE,
): Promise<VacuumPass | undefined> {
  if (db.kind !== 'pglite') return undefined;
  // PGlite's single process keeps its table statistics to itself until asked to publish them.
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ relname: string; vacuum: boolean }>(DUE_SQL, [freezeMaxAge]);
  if (!rows[0]) return undefined;
  const table = rows[0].relname;
  const quoted = `"${table.replaceAll('"', '""')}"`;
  if (rows[0].vacuum) {
    await db.query(`VACUUM ${quoted}`);
    return { table, action: 'vacuum' };
  }
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL default_statistics_target = 10');
    await tx.query(`ANALYZE ${quoted}`);
  });
  return { table, action: 'analyze' };
}
