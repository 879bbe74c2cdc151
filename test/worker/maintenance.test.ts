import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { pruneOldData } from '../../src/worker/retention.js';
import { claimDeliveries } from '../../src/queue/claim.js';
import { releaseExpiredLeases } from '../../src/queue/release.js';
import { createRateLimiter } from '../../src/worker/rate-limit.js';
import { newId } from '../../src/ids.js';

let tdb: TestDatabase;
const org = 'org_maint';
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'maint')`, [org]);
  await tdb.db.query(
    `INSERT INTO webhooks (id, org_id, name, url, events, secret) VALUES ('wh_m', $1, 'w', 'http://127.0.0.1:9/', '{a.b}', 's')`,
    [org],
  );
});
afterAll(async () => tdb?.drop());

async function event(ageDays: number, deliveryStatus: string): Promise<string> {
  const id = newId('evt');
  await tdb.db.query(
    `INSERT INTO events (id, org_id, event_type, payload, created_at) VALUES ($1, $2, 'a.b', '{}', now() - make_interval(days => $3))`,
    [id, org, ageDays],
  );
  const d = newId('dlv');
  await tdb.db.query(
    `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, state, next_attempt_at) VALUES ($1, $2, 'wh_m', $3, 'a.b', $4, now() + interval '1 day')`,
    [d, org, id, deliveryStatus],
  );
  await tdb.db.query(
    `INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms) VALUES ($1, $2, $3, 'wh_m', 1, now() - make_interval(days => $4), 5)`,
    [newId('att', Date.now() - ageDays * 86_400_000), org, d, ageDays],
  );
  return id;
}

describe('retention', () => {
  it('removes attempts and events past retention in bounded batches, keeping events still being delivered', async () => {
    const old = [];
    for (let i = 0; i < 7; i++) old.push(await event(40, 'succeeded'));
    const stillPending = await event(40, 'pending');
    const recent = await event(3, 'failed');
    // Header sets (src/store/request-headers.ts) go a day after the attempts could name them.
    for (const [id, ageDays] of [
      ['hs_old1', 32],
      ['hs_old2', 40],
      ['hs_old3', 31.1],
      ['hs_old4', 400],
      ['hs_kept', 30.9],
      ['hs_used', 0],
    ] as const)
      await tdb.db.query(
        `INSERT INTO request_header_sets (id, webhook_id, headers, derived, used_at)
         VALUES ($1, $2, '{}', '{}', now() - $3::float8 * interval '1 day')`,
        [id, 'wh_m', ageDays],
      );
    const result = await pruneOldData(tdb.db, { retentionDays: 30, batchSize: 3 });
    expect(result).toEqual({ attempts: 8, events: 7, headerSets: 4 });
    const sets = await tdb.db.query<{ id: string }>(
      'SELECT id FROM request_header_sets ORDER BY id',
    );
    expect(sets.rows.map((r) => r.id)).toEqual(['hs_kept', 'hs_used']);
    const left = (await tdb.db.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows.map(
      (r) => r.id,
    );
    expect(left.sort()).toEqual([stillPending, recent].sort());
    expect((await tdb.db.query('SELECT count(*)::int AS n FROM delivery_attempts')).rows[0].n).toBe(
      1,
    );
    // A second pass finds nothing more.
    expect(await pruneOldData(tdb.db, { retentionDays: 30, batchSize: 3 })).toEqual({
      attempts: 0,
      events: 0,
      headerSets: 0,
    });
  });
});

describe('leases', () => {
  it('hands a delivery whose lease expired back to the queue, and leaves live leases alone', async () => {
    await tdb.db.query(`UPDATE deliveries SET state = 'succeeded'`);
    const e = await event(0, 'pending');
    await tdb.db.query(`UPDATE deliveries SET next_attempt_at = now() WHERE event_id = $1`, [e]);
    const [claimed] = await claimDeliveries(tdb.db, 'w1', 10, 60);
    expect(claimed.event_id).toBe(e);
    expect(await claimDeliveries(tdb.db, 'w2', 10, 60)).toEqual([]); // leased: nobody else gets it
    expect(await releaseExpiredLeases(tdb.db)).toBe(0);
    await tdb.db.query(
      `UPDATE deliveries SET lease_expires_at = now() - interval '1 second' WHERE id = $1`,
      [claimed.id],
    );
    expect(await releaseExpiredLeases(tdb.db)).toBe(1);
    const [again] = await claimDeliveries(tdb.db, 'w2', 10, 60);
    expect(again.id).toBe(claimed.id);
  });
});

describe('rate limiter', () => {
  it('allows a one-second burst, then spaces sends at the rate, and takes refunds', () => {
    const rl = createRateLimiter();
    const waits = Array.from({ length: 8 }, () => rl.reserve('w', 5, 1000));
    expect(waits).toEqual([0, 0, 0, 0, 0, 200, 400, 600]);
    rl.refund('w');
    expect(rl.reserve('w', 5, 1000)).toBe(600);
    expect(rl.reserve('w', 5, 3000)).toBe(0); // refilled
  });
});
