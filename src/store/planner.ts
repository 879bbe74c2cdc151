/**
 * The planner settings of every connection Hookline opens, on both stores: the queue's
 * statements are short and walk an index in order until they have enough rows, and two of the
 * planner's general-purpose tools work against that.
 *
 * - `jit = off`: the planner prices a walk of each webhook's queue rows (an index scan and a
 *   lookup by key per row) high enough to cross jit_above_cost, and compiling a plan took about
 *   300 ms of a statement that ran in 1 (next-due, in the quick bench of 2026-12-07; fan-out 1
 *   fell to 85 deliveries/s). PGlite has no JIT; the setting is accepted and does nothing.
 * - `enable_bitmapscan = off`: when the statistics put a webhook's queue at a few rows (a new
 *   store, statistics taken when it was idle), a bitmap scan and a sort look as cheap as the walk
 *   in index order, and read the webhook's whole backlog, with a lookup by key per row, to hand
 *   out its first 200 rows (test/worker/claim-backlog.test.ts: 19,500 buffers against 6,600).
 *   Hookline has no index that only a bitmap scan can use (no GIN or GiST), and its other reads
 *   are ranges of one index in order.
 */
export const PLANNER_SETTINGS = 'SET jit = off; SET enable_bitmapscan = off';
