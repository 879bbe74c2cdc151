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
 * A table is due on autovacuum's own default thresholds: 50 dead rows plus
 * 20% of the live ones, 1,000 rows inserted since its last vacuum plus 20%
 * (insert-only tables get their visibility map and their frozen ids too), or
 * a transaction-id age past 200 million. One table per pass, the one most
 * due, so a pass is short: it holds the embedded database, which serves
 * everything else in turn (a vacuum of `deliveries` with 100,000 dead rows of
 * a million takes about a quarter of a second). The ANALYZE that goes with it
 * is safe for the claim, whose plan does not depend on the statistics
 * (docs/delivery-states.md, "Claiming").
 */
import type { Db } from '../store/db.js';

/** Autovacuum's default `autovacuum_freeze_max_age`. */
export const FREEZE_MAX_AGE = 200_000_000;

/** Hookline's tables past one of autovacuum's thresholds, the oldest ids first, then the most changed. */
const DUE_SQL = `
SELECT s.relname
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
 WHERE s.schemaname = current_schema()
   AND (s.n_dead_tup > 50 + 0.2 * s.n_live_tup
        OR s.n_ins_since_vacuum > 1000 + 0.2 * s.n_live_tup
        OR age(c.relfrozenxid) > $1)
 ORDER BY age(c.relfrozenxid) > $1 DESC, s.n_dead_tup + s.n_ins_since_vacuum DESC
 LIMIT 1`;

/**
 * Vacuums and analyzes the embedded table that most needs it, if any; returns
 * its name. `freezeMaxAge` is for tests, which cannot age a table by 200
 * million transactions.
 */
export async function vacuumEmbedded(
  db: Db,
  freezeMaxAge = FREEZE_MAX_AGE,
): Promise<string | undefined> {
  if (db.kind !== 'pglite') return undefined;
  // PGlite's single process keeps its table statistics to itself until asked to publish them.
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ relname: string }>(DUE_SQL, [freezeMaxAge]);
  const table = rows[0]?.relname;
  if (!table) return undefined;
  await db.query(`VACUUM (ANALYZE) "${table.replaceAll('"', '""')}"`);
  return table;
}
