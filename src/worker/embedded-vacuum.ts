/**
 * Autovacuum's job on the embedded store. PGlite runs PostgreSQL as a single
 * process, without autovacuum, so the dead row versions that every delivery
 * leaves behind (a delivery row is written three times, an expired event or
 * attempt is deleted) would never become reusable: the tables and their
 * indexes would only grow, every scan would step over more dead entries, and
 * old transaction ids would never be frozen. On PostgreSQL the server's own
 * autovacuum does this, and Hookline leaves it alone.
 *
 * One table per pass, the one furthest past autovacuum's own default
 * threshold (50 dead rows plus 20% of the live ones), so a pass is short: it
 * holds the embedded database, which serves everything else in turn.
 */
import type { Db } from '../store/db.js';

/** Hookline's tables whose dead rows passed autovacuum's default threshold, most dead rows first. */
const DUE_SQL = `
SELECT relname FROM pg_stat_user_tables
 WHERE schemaname = current_schema() AND n_dead_tup > 50 + 0.2 * n_live_tup
 ORDER BY n_dead_tup DESC
 LIMIT 1`;

/** Vacuums and analyzes the embedded table that most needs it, if any; returns its name. */
export async function vacuumEmbedded(db: Db): Promise<string | undefined> {
  if (db.kind !== 'pglite') return undefined;
  // PGlite's single process keeps its table statistics to itself until asked to publish them.
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ relname: string }>(DUE_SQL);
  const table = rows[0]?.relname;
  if (!table) return undefined;
  await db.query(`VACUUM (ANALYZE) "${table.replaceAll('"', '""')}"`);
  return table;
}
