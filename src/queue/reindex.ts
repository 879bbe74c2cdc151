/**
 * Rebuilding the queue's indexes once a large backlog has drained
 * (docs/delivery-states.md, "What is stored").
 *
 * A backlog of 100,000 deliveries grows `delivery_queue`'s three indexes to
 * about 1,500 pages; when it drains, VACUUM frees those pages for reuse but a
 * B-tree never shrinks, and every later pass of the queue's vacuum
 * (src/queue/vacuum.ts, once a second while deliveries flow) reads each index
 * whole. On PostgreSQL that took 55–81 ms a pass with 3,000 rows queued, against
 * 2 ms once the indexes were rebuilt (on the embedded store 5–7 ms against 3–5).
 * So after a pass, when the indexes hold far more pages than the rows queued
 * need, they are rebuilt: with a few thousand rows that takes milliseconds.
 *
 * REINDEX (not CONCURRENTLY) holds the table against writes and its indexes
 * against reads while it runs, so on PostgreSQL it only starts if it gets the
 * table within LOCK_WAIT, and gives up otherwise ('busy': the worker tries again
 * a minute later); claims and publishes wait for it at most that long plus the
 * rebuild.
 * One worker at a time (an advisory lock); a role that does not own the table
 * never gets here (vacuumQueueIfDue runs no pass for it).
 */
import type { Db, Queryable } from '../store/db.js';

const REINDEX_LOCK = 72_411_970;

/** How long a rebuild waits for the queue table before it gives up until a later pass. */
const LOCK_WAIT = '200ms';

/**
 * Index pages that count as bloated for `live` queued rows: eight times what they need
 * (three indexes, 100 entries a page at the least), and never below 256 pages (2 MiB).
 */
export function bloatedAt(live: number): number {
  return Math.max(256, 8 * (3 * Math.ceil(live / 100) + 8));
}

// The rows queued as the last VACUUM counted them (pg_class.reltuples): this runs after a pass.
const SIZE_SQL = `
SELECT coalesce(sum(pg_relation_size(x.indexrelid)), 0)::bigint / 8192 AS pages,
       (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'delivery_queue'::regclass)::int AS live
  FROM pg_index x
 WHERE x.indrelid = 'delivery_queue'::regclass`;

/** What a rebuild found and left: the indexes' pages before and after, and the rows queued. */
export interface QueueReindex {
  pagesBefore: number;
  pagesAfter: number;
  live: number;
}

/**
 * Rebuilds the queue's indexes when they are bloated (`bloatedAt`); returns what it did,
 * 'busy' when the table stayed locked past LOCK_WAIT, or undefined when they were not bloated
 * or another worker was at it.
 */
export async function reindexQueueIfBloated(db: Db): Promise<QueueReindex | 'busy' | undefined> {
  const size = async (q: Queryable) =>
    (await q.query<{ pages: string | number; live: number }>(SIZE_SQL)).rows[0];
  const before = await size(db);
  if (Number(before.pages) <= bloatedAt(before.live)) return undefined;
  try {
    return await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [REINDEX_LOCK],
      );
      if (!rows[0]?.locked) return undefined;
      if (db.kind === 'postgres') await tx.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
      await tx.query('REINDEX TABLE delivery_queue');
      const after = await size(tx);
      return {
        pagesBefore: Number(before.pages),
        pagesAfter: Number(after.pages),
        live: after.live,
      };
    });
  } catch (err) {
    // lock_not_available: the table stayed busy past LOCK_WAIT.
    if ((err as { code?: string }).code === '55P03') return 'busy';
    throw err;
  }
}
