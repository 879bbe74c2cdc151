/**
 * Removes the webhooks of deleted tenants (store/tenants.ts marks them) with their
 * deliveries and attempts, in bounded batches like retention (retention.ts): a tenant with
 * millions of deliveries never costs one long DELETE, and the API keeps answering meanwhile.
 * A delivery in flight (sending) is left for its lease to end; the worker then cancels it (the
 * webhook is inactive) and a later pass takes it.
 */
import { underTryLock, type Db } from '../store/db.js';

// Only one process purges at a time; the others skip their turn.
const PURGE_LOCK = 72_411_960;

export interface PurgeOptions {
  batchSize?: number;
  /** Stops after this many batches, so one pass stays short; the next pass goes on. */
  maxBatches?: number;
  stopped?: () => boolean;
}

export interface PurgeResult {
  webhooks: number;
  deliveries: number;
  attempts: number;
}

async function lockedBatch(db: Db, sql: string, params: unknown[]): Promise<number | undefined> {
  return underTryLock(db, PURGE_LOCK, async (tx) => (await tx.query(sql, params)).rowCount);
}

/** True when some deleted webhook is waiting to be removed (a read of a small partial index). */
export async function purgeIsDue(db: Db): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM webhooks WHERE deleted_at IS NOT NULL LIMIT 1');
  return rows.length > 0;
}

/** One purge pass: at most `maxBatches` statements of at most `batchSize` rows each. */
export async function purgeDeletedWebhooks(db: Db, opts: PurgeOptions = {}): Promise<PurgeResult> {
  const batch = opts.batchSize ?? 5000;
  let budget = opts.maxBatches ?? 50;
  const result: PurgeResult = { webhooks: 0, deliveries: 0, attempts: 0 };
  const { rows: hooks } = await db.query<{ id: string }>(
    'SELECT id FROM webhooks WHERE deleted_at IS NOT NULL ORDER BY deleted_at, id LIMIT 100',
  );
  for (const { id } of hooks) {
    const steps: Array<[keyof PurgeResult, string]> = [
      [
        'attempts',
        `DELETE FROM delivery_attempts WHERE id IN (
           SELECT a.id FROM delivery_attempts a WHERE a.webhook_id = $1 LIMIT $2)`,
      ],
      [
        'deliveries',
        `DELETE FROM deliveries WHERE id IN (
           SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.status <> 'sending' LIMIT $2)`,
      ],
    ];
    for (const [key, sql] of steps) {
      for (;;) {
        if (budget-- <= 0 || opts.stopped?.()) return result;
        const n = await lockedBatch(db, sql, [id, batch]);
        if (n === undefined) return result; // another process is purging
        result[key] += n;
        if (n < batch) break;
      }
    }
    if (budget-- <= 0 || opts.stopped?.()) return result;
    const gone = await lockedBatch(
      db,
      `DELETE FROM webhooks w WHERE w.id = $1 AND w.deleted_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id)`,
      [id],
    );
    if (gone === undefined) return result;
    result.webhooks += gone;
  }
  return result;
}
