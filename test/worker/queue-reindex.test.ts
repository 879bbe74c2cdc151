/**
 * The queue's indexes are rebuilt once a large backlog has drained (src/queue/reindex.ts), on
 * both stores: not while they fit the rows queued, never losing a queued row, and on
 * PostgreSQL not while the table is busy past the wait it allows, nor by two workers at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestMaintenance } from '../support/worker.js';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { bloatedAt, reindexQueueIfBloated } from '../../src/queue/reindex.js';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
  // Only the passes under test count: the server's autovacuum would come in at its own time.
  await tdb.db.query('ALTER TABLE delivery_queue SET (autovacuum_enabled = false)');
});
afterAll(async () => tdb?.drop());

/** Queues `n` rows of one webhook (the queue's own table: no delivery behind them). */
async function queue(webhook: string, n: number): Promise<void> {
  await tdb.db.query(
    `INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, seq)
     SELECT 'dlv_' || $1 || lpad(i::text, 8, '0'), $1, now() + i * interval '1 ms', i
       FROM generate_series(1, $2::int) AS i`,
    [webhook, n],
  );
}

async function indexPages(): Promise<number> {
  const { rows } = await tdb.db.query<{ pages: string }>(
    `SELECT sum(pg_relation_size(indexrelid))::bigint / 8192 AS pages
       FROM pg_index WHERE indrelid = 'delivery_queue'::regclass`,
  );
  return Number(rows[0].pages);
}

async function queued(webhook: string): Promise<string[]> {
  const { rows } = await tdb.db.query<{ delivery_id: string }>(
    // Through the due index, as a claim walks it.
    `SELECT delivery_id FROM delivery_queue WHERE webhook_id = $1 ORDER BY webhook_id, next_attempt_at`,
    [webhook],
  );
  return rows.map((r) => r.delivery_id);
}

/** A backlog of 60,000 rows, drained to the 100 of `keep`, and vacuumed as the queue's pass does. */
async function drainedBacklog(keep: string): Promise<void> {
  await queue('wh_backlog', 60_000);
  await queue(keep, 100);
  await tdb.db.query(`DELETE FROM delivery_queue WHERE webhook_id = 'wh_backlog'`);
  await tdb.db.query('VACUUM delivery_queue');
}

describe('the queue indexes after a backlog', () => {
  it('are left alone while they fit the rows queued', async () => {
    await queue('wh_small', 2_000);
    await tdb.db.query('VACUUM delivery_queue');
    expect(await indexPages()).toBeLessThan(bloatedAt(2_000));
    expect(await reindexQueueIfBloated(tdb.db)).toBeUndefined();
    await tdb.db.query(`DELETE FROM delivery_queue WHERE webhook_id = 'wh_small'`);
  });

  it('are rebuilt once the backlog has drained, with every queued row', async () => {
    await drainedBacklog('wh_kept');
    const before = await indexPages();
    expect(before).toBeGreaterThan(bloatedAt(100));
    const rows = await queued('wh_kept');
    expect(rows).toHaveLength(100);

    // Put off while the embedded store's traffic does not allow it (src/worker/maintenance-moment.ts).
    expect(await reindexQueueIfBloated(tdb.db, async () => false)).toBe('deferred');
    expect(await indexPages()).toBe(before);

    const rebuilt = await reindexQueueIfBloated(tdb.db, async () => true);
    expect(rebuilt).toEqual({ pagesBefore: before, pagesAfter: await indexPages(), live: 100 });
    if (!rebuilt || rebuilt === 'busy' || rebuilt === 'deferred') throw new Error('not rebuilt');
    expect(rebuilt.pagesAfter).toBeLessThan(bloatedAt(100));
    expect(rebuilt.pagesAfter * 10).toBeLessThan(before);
    expect(await queued('wh_kept')).toEqual(rows);
    // Once is enough.
    expect(await reindexQueueIfBloated(tdb.db)).toBeUndefined();
    await tdb.db.query(`DELETE FROM delivery_queue WHERE webhook_id = 'wh_kept'`);
  });
});

describe('the queue indexes, in the worker', () => {
  it('are rebuilt by the maintenance after its vacuum pass', async () => {
    await drainedBacklog('wh_worker');
    expect(await indexPages()).toBeGreaterThan(bloatedAt(100));
    const stop = startTestMaintenance(tdb.db);
    try {
      // Dead rows for the queue's pass to take out (src/queue/vacuum.ts), after which it rebuilds.
      await queue('wh_gone', 1_500);
      await tdb.db.query(`DELETE FROM delivery_queue WHERE webhook_id = 'wh_gone'`);
      await tdb.db.query('SELECT pg_stat_force_next_flush()');
      await expect.poll(indexPages, { timeout: 20_000 }).toBeLessThan(bloatedAt(100));
    } finally {
      await stop();
    }
    expect(await queued('wh_worker')).toHaveLength(100);
    await tdb.db.query(`DELETE FROM delivery_queue WHERE webhook_id = 'wh_worker'`);
  });
});

describe.runIf(testStore === 'postgres')(
  'the queue indexes on PostgreSQL, with other sessions',
  () => {
    it('are not rebuilt while a transaction writes or vacuums the queue, nor by two workers at once', async () => {
      await drainedBacklog('wh_busy');
      const bloated = await indexPages();
      const other = new pg.Client({ connectionString: tdb.url });
      await other.connect();
      try {
        // A publish in progress: its row lock on the table conflicts with the rebuild's.
        await other.query('BEGIN');
        await other.query(
          `INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, seq)
         VALUES ('dlv_in_flight', 'wh_busy', now(), 0)`,
        );
        expect(await reindexQueueIfBloated(tdb.db)).toBe('busy');
        expect(await indexPages()).toBe(bloated);
        await other.query('ROLLBACK');

        // A VACUUM of the table running (autovacuum's, say): not even waited for.
        await other.query('BEGIN');
        await other.query('LOCK TABLE delivery_queue IN SHARE UPDATE EXCLUSIVE MODE');
        expect(await reindexQueueIfBloated(tdb.db)).toBeUndefined();
        expect(await indexPages()).toBe(bloated);
        await other.query('ROLLBACK');

        // Another worker rebuilding (its advisory lock held).
        await other.query('BEGIN');
        await other.query('SELECT pg_advisory_xact_lock(72411970)');
        expect(await reindexQueueIfBloated(tdb.db)).toBeUndefined();
        await other.query('ROLLBACK');

        expect(await reindexQueueIfBloated(tdb.db)).toMatchObject({ live: 100 });
        expect(await indexPages()).toBeLessThan(bloatedAt(100));
      } finally {
        await other.end();
      }
    });
  },
);
