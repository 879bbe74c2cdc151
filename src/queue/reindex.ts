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
 * ten seconds later); claims and publishes wait for it at most that long plus
 * the rebuild. It does not even wait while a VACUUM of the table is running: in
 * a bench run autovacuum's pass over a million dead rows held it for 20 s.
 * One worker at a time (an advisory lock); a role that does not own the table
 * never gets here (vacuumQueueIfDue runs no pass for it).
 */
import { underTryLock, type Db, type Queryable } from '../store/db.js';

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

const PAGES_SQL = `
SELECT coalesce(sum(pg_relation_size(indexrelid)), 0)::bigint / 8192 AS pages
  FROM pg_index WHERE indrelid = 'delivery_queue'::regclass`;

// The rows queued, counted up to `$1`: enough to tell whether the pages are bloated for them.
// (The statistics' estimate is no help here: a VACUUM that skips the pages nothing touched
// carries their old density forward, so after a backlog it still counts the backlog.)
const LIVE_SQL = `SELECT count(*)::int AS live FROM (SELECT 1 FROM delivery_queue LIMIT $1) q`;

/** The rows queued (pending, leased or not), counted up to `upTo`: a read that stops there. */
export async function countQueuedUpTo(q: Queryable, upTo: number): Promise<number> {
  const { rows } = await q.query<{ live: number }>(LIVE_SQL, [upTo]);
  return rows[0].live;
}

const VACUUMING_SQL = `
SELECT EXISTS (SELECT 1 FROM pg_locks
                WHERE locktype = 'relation' AND relation = 'delivery_queue'::regclass
                  AND mode = 'ShareUpdateExclusiveLock' AND granted
                  AND pid <> pg_backend_pid()) AS running`;

/** The fewest queued rows for which `pages` would not count as bloated (`bloatedAt`). */
function rowsFitting(pages: number): number {
  return Math.max(0, Math.ceil((pages / 8 - 8) / 3)) * 100 + 1;
}

/** What a rebuild found and left: the indexes' pages before and after, and the rows queued. */
export interface QueueReindex {
  pagesBefore: number;
  pagesAfter: number;
  live: number;
}

/**
 * Rebuilds the queue's indexes when they are bloated (`bloatedAt`); returns what it did,
 * 'busy' when the table stayed locked past LOCK_WAIT, 'deferred' when `mayRebuild` said not
 * now (the embedded store's moment, src/worker/maintenance-moment.ts), or undefined when they
 * were not bloated or another worker was at it.
 */
export async function reindexQueueIfBloated(
  db: Db,
  mayRebuild: () => Promise<boolean> = async () => true,
): Promise<QueueReindex | 'busy' | 'deferred' | undefined> {
  const indexPages = async (q: Queryable) =>
    Number((await q.query<{ pages: string | number }>(PAGES_SQL)).rows[0].pages);
  const pagesBefore = await indexPages(db);
  if (pagesBefore <= bloatedAt(0)) return undefined;
  const live = await countQueuedUpTo(db, rowsFitting(pagesBefore));
  if (pagesBefore <= bloatedAt(live)) return undefined;
  if (!(await mayRebuild())) return 'deferred';
  try {
    return await underTryLock(db, REINDEX_LOCK, async (tx) => {
      // A VACUUM of the table in progress (autovacuum's, after a mass delete, can take many
      // seconds) would only make the rebuild wait out LOCK_WAIT: the next pass tries again.
      const { rows: vacuuming } = await tx.query<{ running: boolean }>(VACUUMING_SQL);
      if (vacuuming[0]?.running) return undefined;
      if (db.kind === 'postgres') await tx.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
      await tx.query('REINDEX TABLE delivery_queue');
      // The rows were counted above, below the cap, so exactly: no second count under the lock.
      return { pagesBefore, pagesAfter: await indexPages(tx), live };
    });
  } catch (err) {
    // lock_not_available: the table stayed busy past LOCK_WAIT.
    if ((err as { code?: string }).code === '55P03') return 'busy';
    throw err;
  }
}
