/**
 * The queue gauges (src/queue/gauges.ts): depth counts what is still to be sent or being
 * sent, never the log of finished deliveries, and the age is that of the oldest delivery
 * that is due, not of one scheduled for later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { seedDelivery, seedWebhook } from '../support/delivery-rows.js';
import { readQueueGauges } from '../../src/queue/gauges.js';

let tdb: TestDatabase;
const org = 'org_gauges';
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'gauges')`, [org]);
});
afterAll(async () => tdb?.drop());

describe('queue gauges', () => {
  it('read zero on an empty queue', async () => {
    expect(await readQueueGauges(tdb.db)).toEqual({ depth: 0, oldestDueSeconds: 0 });
  });

  it('count pending and sending, and age only the oldest due delivery', async () => {
    const hook = await seedWebhook(tdb.db, org);
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
    await seedDelivery(tdb.db, org, hook, { nextAttemptAt: minutesAgo(10) });
    await seedDelivery(tdb.db, org, hook, { nextAttemptAt: minutesAgo(2) });
    // Scheduled for later: counted in the depth, not in the age.
    await seedDelivery(tdb.db, org, hook, { nextAttemptAt: new Date(Date.now() + 3_600_000) });
    await seedDelivery(tdb.db, org, hook, { status: 'sending' });
    for (const status of ['succeeded', 'failed', 'cancelled', 'skipped'] as const)
      await seedDelivery(tdb.db, org, hook, { status, nextAttemptAt: minutesAgo(60) });

    const g = await readQueueGauges(tdb.db);
    expect(g.depth).toBe(4);
    // About ten minutes (the statement's now() is a little later than the seed's).
    expect(g.oldestDueSeconds).toBeGreaterThanOrEqual(600);
    expect(g.oldestDueSeconds).toBeLessThan(660);
  });
});
