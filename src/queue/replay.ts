/**
 * Replaying a webhook's finished deliveries (docs/delivery-states.md, "Manual
 * retry"): the filter, its dry-run count and the batched re-queue.
 */
import type { Queryable } from '../store/db.js';
import { REQUEUE_SET } from './retry.js';
import { TERMINAL_SQL } from './statements.js';

export interface ReplayFilter {
  webhookId: string;
  since: Date;
  until?: Date;
  /** `failed`: only failed deliveries; `all`: every finished one (succeeded, failed, cancelled, skipped). */
  status: 'failed' | 'all';
  eventType?: string;
}

// Replay takes finished deliveries only: one still in the queue is already going out, and
// re-queueing a `sending` one would take it from the worker that holds it. Test sends are
// not traffic, so they are never replayed.
function replayWhere(first: number): string {
  const p = (n: number) => `$${first + n}`;
  return `webhook_id = ${p(0)} AND NOT is_test
    AND created_at >= ${p(1)} AND (${p(2)}::timestamptz IS NULL OR created_at < ${p(2)})
    AND (CASE WHEN ${p(3)} = 'failed' THEN status = 'failed'
              ELSE status IN ${TERMINAL_SQL} END)
    AND (${p(4)}::text IS NULL OR event_type = ${p(4)})`;
}

function replayParams(f: ReplayFilter): unknown[] {
  return [f.webhookId, f.since, f.until ?? null, f.status, f.eventType ?? null];
}

/** How many deliveries a replay would queue (the dry run). */
export async function countReplay(q: Queryable, f: ReplayFilter): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries WHERE ${replayWhere(1)}`,
    replayParams(f),
  );
  return rows[0].n;
}

/**
 * Replay (docs/delivery-states.md, "Manual retry"): re-queues the next batch of matching deliveries with ids above `afterId`, in id order,
 * and returns the last id it touched (undefined when nothing was left). Walking by id means
 * a delivery the worker fails again while the replay is still running is not queued twice.
 */
export async function requeueReplayBatch(
  q: Queryable,
  f: ReplayFilter,
  afterId: string | undefined,
  batchSize: number,
): Promise<{ count: number; lastId: string | undefined }> {
  const { rows } = await q.query<{ id: string }>(
    `UPDATE deliveries SET ${REQUEUE_SET}
      WHERE id IN (
        SELECT id FROM deliveries
         WHERE ${replayWhere(1)} AND ($6::text IS NULL OR id > $6)
         ORDER BY id LIMIT $7
         FOR UPDATE)
      RETURNING id`,
    [...replayParams(f), afterId ?? null, batchSize],
  );
  if (rows.length === 0) return { count: 0, lastId: undefined };
  const lastId = rows
    .map((r) => r.id)
    .sort()
    .at(-1);
  return { count: rows.length, lastId };
}
