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
 * everything else in turn. ANALYZE samples 3,000 rows (statistics target 10)
 * rather than 30,000: on a 300,000-row `deliveries` that is 25 ms against 205,
 * where its VACUUM takes 70–80 ms, and the coarser statistics are enough, since
 * the claim's plan does not depend on them (docs/delivery-states.md,
 * "Claiming"). A VACUUM (ANALYZE) with the default target held the database
 * for 655 ms in the middle of a latency measurement.
 *
 * Most VACUUM passes skip the indexes (INDEX_CLEANUP OFF, as autovacuum's own
 * failsafe does): they prune the heap, set the visibility map and freeze, but
 * leave the dead index entries, which the full pass reads every index whole to
 * find. On the bench's `deliveries` (about 150,000 rows, six indexes) that is
 * 69 ms against 439 ms, and a pass that lands in a latency window of 10
 * events/s costs its p99 31 ms against 385. Every FULL_EVERY-th vacuum of a
 * table is full, so its indexes are cleaned every few minutes under load.
 */
import type { Db } from '../store/db.js';

/** Autovacuum's default `autovacuum_freeze_max_age`. */
export const FREEZE_MAX_AGE = 200_000_000;

/** One VACUUM of a table in this many also cleans its indexes (every 5–10 minutes under load). */
export const FULL_EVERY = 10;

/** Heap-only vacuums of each table since its last full one, kept by the caller across passes. */
export type VacuumMemory = Map<string, number>;

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
 WHERE vacuum OR analyze_due
 ORDER BY old DESC, vacuum DESC, changed DESC
 LIMIT 1`;

/** What a pass did, and to which table: a full VACUUM, one that skipped the indexes, or ANALYZE. */
export interface VacuumPass {
  table: string;
  action: 'vacuum' | 'heap vacuum' | 'analyze';
}

/**
 * Vacuums, or else analyzes, the embedded table that most needs it, if any.
 * With `memory`, a vacuum skips the indexes but every `fullEvery`-th of a
 * table; without, each one is full. `freezeMaxAge` is for tests, which cannot
 * age a table by 200 million transactions.
 */
export async function vacuumEmbedded(
  db: Db,
  opts: { memory?: VacuumMemory; fullEvery?: number; freezeMaxAge?: number } = {},
): Promise<VacuumPass | undefined> {
  if (db.kind !== 'pglite') return undefined;
  // PGlite's single process keeps its table statistics to itself until asked to publish them.
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ relname: string; vacuum: boolean }>(DUE_SQL, [
    opts.freezeMaxAge ?? FREEZE_MAX_AGE,
  ]);
  if (!rows[0]) return undefined;
  const table = rows[0].relname;
  const quoted = `"${table.replaceAll('"', '""')}"`;
  if (rows[0].vacuum) {
    const light = opts.memory ? (opts.memory.get(table) ?? 0) + 1 : 0;
    if (light > 0 && light < (opts.fullEvery ?? FULL_EVERY)) {
      // No truncation either: it would scan the table's end and is only worth it after the full pass.
      await db.query(`VACUUM (INDEX_CLEANUP OFF, TRUNCATE OFF) ${quoted}`);
      opts.memory?.set(table, light);
      return { table, action: 'heap vacuum' };
    }
    await db.query(`VACUUM ${quoted}`);
    opts.memory?.set(table, 0);
    return { table, action: 'vacuum' };
  }
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL default_statistics_target = 10');
    await tx.query(`ANALYZE ${quoted}`);
  });
  return { table, action: 'analyze' };
}
