/**
 * The queue tables' own vacuum (src/queue/vacuum.ts), on both stores: a pass
 * once the finished deliveries' dead queue rows reach the threshold, none
 * before, and the worker's maintenance runs it on its own clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMaintenance } from '../support/worker.js';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { seedEvent, seedWebhook } from '../support/delivery-rows.js';
import { newId } from '../../src/ids.js';
import { insertDeliveries } from '../../src/queue/fan-out.js';
import { openPostgres } from '../../src/store/postgres.js';
import { vacuumQueueIfDue } from '../../src/queue/vacuum.js';

let tdb: TestDatabase;
const org = 'org_queue_vacuum';
let hook: string;
let event: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'vacuum')`, [org]);
  hook = await seedWebhook(tdb.db, org);
  event = await seedEvent(tdb.db, org);
  // Only the passes under test count: the server's autovacuum would come in at its own time.
  await tdb.db.query('ALTER TABLE delivery_queue SET (autovacuum_enabled = false)');
  await tdb.db.query('ALTER TABLE webhook_schedule SET (autovacuum_enabled = false)');
});
afterAll(async () => tdb?.drop());

/** Queues `n` deliveries, then deletes them: `n` dead queue rows. */
async function churn(n: number): Promise<void> {
  const ids = Array.from({ length: n }, () => newId('dlv'));
  await tdb.db.transaction((tx) =>
    insertDeliveries(tx, org, {
      ids,
      webhookIds: ids.map(() => hook),
      eventIds: ids.map(() => event),
      eventTypes: ids.map(() => 'ticket.created'),
    }),
  );
  await tdb.db.transaction(async (tx) => {
    await tx.query('DELETE FROM deliveries WHERE id = ANY($1::text[])', [ids]);
    // PostgreSQL publishes a backend's counts when it goes idle, at most once a second unless
    // asked; the embedded store is asked by the vacuum itself.
    await tx.query('SELECT pg_stat_force_next_flush()');
  });
}

async function queueStats() {
  await tdb.db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await tdb.db.query<{ dead: number; vacuums: number; schedule_vacuums: number }>(
    `SELECT q.n_dead_tup::int AS dead, q.vacuum_count::int AS vacuums,
            s.vacuum_count::int AS schedule_vacuums
       FROM pg_stat_user_tables q, pg_stat_user_tables s
      WHERE q.relid = 'delivery_queue'::regclass AND s.relid = 'webhook_schedule'::regclass`,
  );
  return rows[0];
}

/** Waits until the statistics show at least `n` dead queue rows (another backend's report). */
async function deadRowsReported(n: number): Promise<void> {
  await expect
    .poll(async () => (await queueStats()).dead, { timeout: 20_000 })
    .toBeGreaterThanOrEqual(n);
}

describe('the queue tables vacuum', () => {
  it('runs once the dead queue rows reach the threshold, and empties them', async () => {
    await churn(300);
    await deadRowsReported(300);
    const before = await queueStats();
    // Below the threshold: no statement, so the count of vacuums stays.
    expect(await vacuumQueueIfDue(tdb.db, 1000)).toBeUndefined();
    expect((await queueStats()).vacuums).toBe(before.vacuums);

    await churn(900);
    await deadRowsReported(1200);
    const dead = await vacuumQueueIfDue(tdb.db, 1000);
    expect(dead).toBeGreaterThanOrEqual(1200);
    const after = await queueStats();
    expect(after.vacuums).toBe(before.vacuums + 1);
    expect(after.schedule_vacuums).toBe(before.schedule_vacuums + 1);
    expect(after.dead).toBe(0);
    // Nothing left to take out: the next look is not a pass.
    expect(await vacuumQueueIfDue(tdb.db, 1000)).toBeUndefined();
  });

  it('is run by the worker maintenance on its own clock', async () => {
    const before = await queueStats();
    const stop = startTestMaintenance(tdb.db);
    try {
      await churn(1100);
      await expect
        .poll(async () => (await queueStats()).vacuums, { timeout: 20_000 })
        .toBeGreaterThan(before.vacuums);
    } finally {
      await stop();
    }
  });
});

describe.runIf(testStore === 'postgres')(
  'the queue tables vacuum, for a role that does not own them',
  () => {
    it('leaves them to autovacuum, and the server log without a warning a second', async () => {
      const role = `hl_not_owner_${process.pid}`;
      await tdb.db.query(`DROP ROLE IF EXISTS ${role}`);
      await tdb.db.query(`CREATE ROLE ${role} LOGIN`);
      const url = new URL(tdb.url!);
      url.username = role;
      url.password = '';
      const other = await openPostgres(url.toString(), { max: 1 });
      try {
        await churn(1100);
        await deadRowsReported(1100);
        const before = await queueStats();
        expect(await vacuumQueueIfDue(other, 1000)).toBeUndefined();
        expect((await queueStats()).vacuums).toBe(before.vacuums);
        // The owner does vacuum them.
        expect(await vacuumQueueIfDue(tdb.db, 1000)).toBeGreaterThanOrEqual(1100);
      } finally {
        await other.close();
        await tdb.db.query(`DROP ROLE ${role}`);
      }
    });
  },
);
