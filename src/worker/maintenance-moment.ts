/**
 * When the embedded store's long chores may hold its one connection: the table
 * maintenance (src/worker/embedded-vacuum.ts) and the rebuild of the queue's
 * indexes (src/queue/reindex.ts).
 *
 * Either holds the database: tens of milliseconds on a small one, up to a
 * second or two on a large table after a burst, since a VACUUM visits every
 * page written since the last one. Every delivery published meanwhile waits
 * that long. Under light traffic that wait is the whole of its latency: in the
 * bench's 10 and 100 events/s windows, which follow its heavy phases, one pass
 * of a large table (343–785 ms) made the window's p99 (BENCHMARKS.md,
 * docs/performance-history.md). With no traffic it delays nobody; and while the
 * worker is behind (claiming full batches with more queued than two batches)
 * the deliveries are already waiting for one another, so the pause is spread
 * over many. A busy last second is not enough: the last second of a burst is
 * busy, and the chore then falls on whatever light traffic follows (in the
 * bench, the first publishes of the 10 events/s window waited 265 ms behind a
 * VACUUM that a drain's last second had let in). So a chore that is due runs
 * at once when the worker is idle or behind, and under light traffic waits,
 * at most MAX_WAIT_MS: a steady trickle still gets its maintenance, and what a
 * trickle leaves behind is small.
 */

/** How often a table is looked for, as autovacuum's naptime would. */
export const MAINTENANCE_EVERY_MS = 30_000;
/** The longest a due chore waits under light traffic. */
export const MAX_WAIT_MS = 5 * 60_000;

export interface TrafficSample {
  /** How long the chore has been due, in milliseconds (negative: not due yet). */
  dueForMs: number;
  /** Deliveries the worker claimed over the last second. */
  claimedLastSecond: number;
  /** The worker's claim batch: behind is more than two full batches. */
  batchSize: number;
}

/**
 * Whether a due chore should run now; see the module's comment. `countQueued(upTo)`
 * counts the queue's rows up to `upTo`: asked only when the last second was busy.
 */
export async function isMaintenanceMoment(
  t: TrafficSample,
  countQueued: (upTo: number) => Promise<number>,
): Promise<boolean> {
  if (t.dueForMs < 0) return false;
  if (t.dueForMs >= MAX_WAIT_MS) return true;
  if (t.claimedLastSecond === 0) return true;
  const behind = 2 * t.batchSize;
  if (t.claimedLastSecond <= behind) return false;
  return (await countQueued(behind + 1)) > behind;
}
