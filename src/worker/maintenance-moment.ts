/**
 * When the embedded store's table maintenance (src/worker/embedded-vacuum.ts) may run.
 *
 * A pass holds the one embedded database connection: tens of milliseconds on
 * a small database, up to a second or two on a large table after a burst,
 * since a VACUUM visits every page written since the last one. Every delivery
 * published meanwhile waits that long. Under light traffic that wait is the
 * whole of its latency: in the bench's 10 and 100 events/s windows, which
 * follow its heavy phases, one pass of `deliveries` or `delivery_attempts`
 * (343–785 ms) made the window's p99 (BENCHMARKS.md, docs/performance-history.md).
 * Under heavy traffic the worker's claims already take full batches, so the
 * pause is spread over many deliveries that were waiting for one another; and
 * with no traffic it delays nobody. So a pass that is due runs at once when the
 * worker is busy or idle, and under light traffic waits for either, at most
 * MAX_PUT_OFF_MS: a steady trickle still gets its maintenance, and what a
 * trickle leaves behind is small.
 */

/** How often a table is looked for, as autovacuum's naptime would. */
export const MAINTENANCE_EVERY_MS = 30_000;
/** The longest a due pass waits under light traffic. */
export const MAX_PUT_OFF_MS = 5 * 60_000;

export interface TrafficSample {
  /** Milliseconds since the last pass (or since the worker started). */
  sinceLastPassMs: number;
  /** Deliveries the worker claimed over the last second. */
  claimedLastSecond: number;
  /** The worker's claim batch: busy is more than two full batches a second. */
  batchSize: number;
}

/** Whether a maintenance pass should run now; see the module's comment. */
export function isMaintenanceMoment(t: TrafficSample): boolean {
  if (t.sinceLastPassMs < MAINTENANCE_EVERY_MS) return false;
  if (t.sinceLastPassMs >= MAX_PUT_OFF_MS) return true;
  return t.claimedLastSecond === 0 || t.claimedLastSecond > 2 * t.batchSize;
}
