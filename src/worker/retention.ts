/**
 * Retention: delivery attempts and events older than retentionDays are
 * deleted in bounded batches (a DELETE of millions of rows at once would hold
 * locks and bloat WAL for minutes). Events go with their deliveries (ON
 * DELETE CASCADE), but never while one of those is still pending or sending.
 */
import { underTryLock, type Db } from '../store/db.js';
import { idTime } from '../ids.js';

// Only one process prunes at a time; the others skip their turn.
const RETENTION_LOCK = 72_411_909;

export interface RetentionResult {
  attempts: number;
  events: number;
  /** Request header sets no attempt kept can name any more (src/store/request-headers.ts). */
  headerSets: number;
}

export interface RetentionOptions {
  retentionDays: number;
  batchSize?: number;
  /** Stops after this many batches per table, so one run stays short; the next run goes on. */
  maxBatches?: number;
  /** Stop early (shutdown). */
  stopped?: () => boolean;
}

async function deleteBatch(db: Db, sql: string, params: unknown[]): Promise<number | undefined> {
  return underTryLock(db, RETENTION_LOCK, async (tx) => (await tx.query(sql, params)).rowCount);
}

/** Runs one retention pass. */
export async function pruneOldData(db: Db, opts: RetentionOptions): Promise<RetentionResult> {
  const batch = opts.batchSize ?? 5000;
  const maxBatches = opts.maxBatches ?? 200;
  const days = opts.retentionDays;
  const result: RetentionResult = { attempts: 0, events: 0, headerSets: 0 };
  // An attempt's id starts with the time it started (newId('att', startedAt): src/queue/record.ts,
  // src/store/attempts.ts), so the old ones are a range of the primary key and need no index of
  // their own on started_at (sql/000105_attempts_by_id.sql).
  const oldAttempts = `att_${idTime(Date.now() - days * 86_400_000)}`;
  const steps: Array<[keyof RetentionResult, string, unknown]> = [
    [
      'attempts',
      `DELETE FROM delivery_attempts WHERE id IN (
         SELECT id FROM delivery_attempts WHERE id < $1 LIMIT $2)`,
      oldAttempts,
    ],
    [
      'events',
      `DELETE FROM events WHERE id IN (
         SELECT e.id FROM events e
          WHERE e.created_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'sending'))
          LIMIT $2)`,
      days,
    ],
    [
      // A set in use has its used_at moved forward at least hourly, so one unused for a day
      // longer than attempts are kept is named by no attempt that retention keeps.
      'headerSets',
      `DELETE FROM request_header_sets WHERE id IN (
         SELECT id FROM request_header_sets WHERE used_at < now() - make_interval(days => $1 + 1) LIMIT $2)`,
      days,
    ],
  ];
  for (const [key, sql, since] of steps) {
    for (let i = 0; i < maxBatches && !opts.stopped?.(); i++) {
      const n = await deleteBatch(db, sql, [since, batch]);
      if (n === undefined) return result; // another process is pruning
      result[key] += n;
      if (n < batch) break;
    }
  }
  return result;
}
