/**
 * The queue's own table (docs/delivery-states.md, "What is stored"; sql/000106_delivery_queue.sql)
 * holds exactly the pending deliveries, each with its due time, after every transition a
 * delivery can take: fan-out, claim, a success, a retry, a release, the lease reaper, a manual
 * retry, a replay, a skip, a cancel and a delete. Its triggers keep it, so this reads the table
 * after each step and compares it with the deliveries themselves, on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { answered200, seedEvent, seedWebhook } from '../support/delivery-rows.js';
import { newId } from '../../src/ids.js';
import { insertDeliveries } from '../../src/queue/fan-out.js';
import { claimDeliveries } from '../../src/queue/claim.js';
import { recordOutcomes } from '../../src/queue/record.js';
import { releaseClaims, releaseExpiredLeases } from '../../src/queue/release.js';
import { requeueDelivery } from '../../src/queue/retry.js';
import { requeueReplayBatch } from '../../src/queue/replay.js';
import { cancelPendingOfWebhooks, markSkipped } from '../../src/queue/finish.js';
import { decide } from '../../src/worker/decide.js';
import type { AttemptResult } from '../../src/worker/send.js';

let tdb: TestDatabase;
const org = 'org_delivery_queue';

beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'queue')`, [org]);
});
afterAll(async () => tdb?.drop());

const answered500: AttemptResult = { ...answered200, ok: false, status: 500, responseBody: 'no' };

/** The queue's rows and the pending deliveries, each as `id due-time`, sorted. */
async function both(): Promise<{ queue: string[]; pending: string[] }> {
  const { rows: queue } = await tdb.db.query<{ r: string }>(
    `SELECT q.delivery_id || ' ' || q.next_attempt_at::text AS r
       FROM delivery_queue q JOIN webhooks w ON w.id = q.webhook_id WHERE w.org_id = $1 ORDER BY 1`,
    [org],
  );
  const { rows: pending } = await tdb.db.query<{ r: string }>(
    `SELECT id || ' ' || next_attempt_at::text AS r FROM deliveries
      WHERE org_id = $1 AND state = 'pending' ORDER BY 1`,
    [org],
  );
  return { queue: queue.map((r) => r.r), pending: pending.map((r) => r.r) };
}

/** Asserts the queue matches the pending deliveries and holds `n` rows. */
async function expectQueue(step: string, n: number): Promise<void> {
  const { queue, pending } = await both();
  expect(queue, step).toEqual(pending);
  expect(queue, step).toHaveLength(n);
}

describe('the queue table', () => {
  it('holds exactly the pending deliveries, with their due times, after every transition', async () => {
    const hook = await seedWebhook(tdb.db, org, { retryAttempts: 3, retryDelaySeconds: 60 });
    const other = await seedWebhook(tdb.db, org);
    const event = await seedEvent(tdb.db, org);
    const ids = Array.from({ length: 12 }, () => newId('dlv'));
    await tdb.db.transaction((tx) =>
      insertDeliveries(tx, org, {
        ids,
        webhookIds: ids.map((_, i) => (i < 10 ? hook : other)),
        eventIds: ids.map(() => event),
        eventTypes: ids.map(() => 'ticket.created'),
      }),
    );
    await expectQueue('fan-out', 12);

    // A claim writes only the lease: every row stays queued.
    const claimed = await claimDeliveries(tdb.db, 'w1', 100, 60);
    expect(claimed).toHaveLength(12);
    await expectQueue('claim', 12);

    // Three succeed, three fail and wait for their retry, two go back unsent.
    const mine = claimed.filter((c) => c.webhook_id === hook);
    const outcomes = [
      ...mine.slice(0, 3).map((c) => decide(c, answered200)),
      ...mine.slice(3, 6).map((c) => decide(c, answered500)),
    ];
    expect((await recordOutcomes(tdb.db, 'w1', outcomes)).size).toBe(6);
    await expectQueue('success and retry', 9);
    const { rows: later } = await tdb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_queue WHERE delivery_id = ANY($1::text[])
          AND next_attempt_at > now() + interval '30 seconds'`,
      [mine.slice(3, 6).map((c) => c.id)],
    );
    expect(later[0].n).toBe(3);
    expect(await releaseClaims(tdb.db, 'w1', mine.slice(6, 8))).toBe(2);
    await expectQueue('release', 9);

    // The other webhook's two claims outlive their lease: the reaper hands them back.
    await tdb.db.query(
      `UPDATE deliveries SET lease_expires_at = now() - interval '1 second' WHERE webhook_id = $1`,
      [other],
    );
    expect(await releaseExpiredLeases(tdb.db)).toBe(2);
    await expectQueue('lease reaper', 9);

    // A manual retry and a replay bring finished deliveries back.
    expect(await requeueDelivery(tdb.db, org, mine[0].id)).toBeDefined();
    await expectQueue('manual retry', 10);
    const replayed = await requeueReplayBatch(
      tdb.db,
      { webhookId: hook, since: new Date(Date.now() - 3_600_000), status: 'all' },
      undefined,
      100,
    );
    expect(replayed.count).toBe(2);
    await expectQueue('replay', 12);

    // A skip and a cancel finish them without an attempt; a delete takes the rest away.
    await markSkipped(tdb.db, mine[0].id);
    await expectQueue('skip', 11);
    await tdb.db.transaction((tx) => cancelPendingOfWebhooks(tx, [other]));
    await expectQueue('cancel', 9);
    await tdb.db.query('DELETE FROM webhooks WHERE id = $1', [hook]);
    await expectQueue('webhook deleted', 0);
  });
});
