/**
 * sql/000103_hot_claim.sql and sql/000104_attempts_without_fk.sql on a database that already
 * has deliveries (docs/delivery-states.md, "What is stored"): one in flight keeps its lease and
 * still reads `sending`, the others keep their status, and a delivery deleted afterwards takes
 * its attempts with it as the foreign key did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { claimDeliveries } from '../../src/queue/claim.js';
import { releaseExpiredLeases } from '../../src/queue/release.js';

const FIRST_NEW = 103;
let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase({ empty: true });
  const all = loadMigrations();
  await migrate(
    tdb.db,
    all.filter((m) => m.version < FIRST_NEW),
  );
  const q = (text: string, values: unknown[] = []) => tdb.db.query(text, values);
  await q(`INSERT INTO organizations (id, name) VALUES ('org_m', 'm')`);
  await q(`INSERT INTO webhooks (id, org_id, name, url, events, secret)
           VALUES ('wh_m', 'org_m', 'w', 'http://127.0.0.1:9/', '{a.b}', 's')`);
  await q(
    `INSERT INTO events (id, org_id, event_type, payload) VALUES ('evt_m', 'org_m', 'a.b', '{}')`,
  );
  // Written as the schema before 000103 had them: `sending` stored.
  await q(`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempts,
                                   lease_expires_at, worker_id, completed_at)
           VALUES ('dlv_1', 'org_m', 'wh_m', 'evt_m', 'a.b', 'sending', 0, now() + interval '1 minute', 'old-worker', NULL),
                  ('dlv_2', 'org_m', 'wh_m', 'evt_m', 'a.b', 'pending', 0, NULL, NULL, NULL),
                  ('dlv_3', 'org_m', 'wh_m', 'evt_m', 'a.b', 'succeeded', 1, NULL, NULL, now())`);
  await q(`INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms)
           VALUES ('att_3', 'org_m', 'dlv_3', 'wh_m', 1, now(), 5)`);
  expect(await migrate(tdb.db)).toEqual(
    all.filter((m) => m.version >= FIRST_NEW).map((m) => m.version),
  );
}, 180_000);
afterAll(async () => tdb?.drop());

describe('the migration to a lease-only claim', () => {
  it('keeps every delivery as it read, the one in flight under its lease', async () => {
    const { rows } = await tdb.db.query(
      'SELECT id, state, status, worker_id FROM deliveries ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 'dlv_1', state: 'pending', status: 'sending', worker_id: 'old-worker' },
      { id: 'dlv_2', state: 'pending', status: 'pending', worker_id: null },
      { id: 'dlv_3', state: 'succeeded', status: 'succeeded', worker_id: null },
    ]);
  });

  it('claims the pending one only, and hands the old lease back when it ends', async () => {
    expect((await claimDeliveries(tdb.db, 'new-worker', 10, 60)).map((c) => c.id)).toEqual([
      'dlv_2',
    ]);
    await tdb.db.query(
      `UPDATE deliveries SET lease_expires_at = now() - interval '1 second' WHERE id = 'dlv_1'`,
    );
    expect(await releaseExpiredLeases(tdb.db)).toBe(1);
    expect((await claimDeliveries(tdb.db, 'new-worker', 10, 60)).map((c) => c.id)).toEqual([
      'dlv_1',
    ]);
  });

  it('deletes a delivery’s attempts with it', async () => {
    await tdb.db.query(`DELETE FROM deliveries WHERE id = 'dlv_3'`);
    const { rows } = await tdb.db.query(`SELECT id FROM delivery_attempts`);
    expect(rows).toEqual([]);
  });
});
