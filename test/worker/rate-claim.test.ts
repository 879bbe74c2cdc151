/**
 * A rate-limited webhook's backlog stays in the queue until its token bucket has room
 * (src/worker/rate-limit.ts, src/worker/claim-room.ts): claimed at the rate it can be sent,
 * never claimed only to be handed back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';

let t: TestApp;
let worker: Worker;
let rx: Receiver;

beforeAll(async () => {
  t = await createTestApp();
  worker = await startTestWorker(t);
  rx = await startReceiver();
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await rx?.close();
  await t?.close();
});

describe('a rate-limited webhook with a backlog', () => {
  it('is claimed as fast as it may send, with no delivery handed back', async () => {
    const o = await t.newOrg();
    expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
    const hook = await o.admin('POST', '/webhooks', {
      name: 'limited',
      url: rx.url,
      events: ['thing.happened'],
      rate_limit_per_second: 20,
    });
    expect(hook.status).toBe(201);
    const res = await o.publisher('POST', '/events/batch', {
      events: Array.from({ length: 70 }, (_, n) => ({
        event_type: 'thing.happened',
        payload: { n },
      })),
    });
    expect(res.status).toBe(202);

    await rx.waitFor(70, 20_000);
    await until(async () => {
      const { rows } = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries WHERE webhook_id = $1 AND status = 'succeeded'`,
        [hook.body.id],
      );
      return rows[0]!.n === 70;
    });
    // Every one claimed once and sent once: none went back to the queue past the rate.
    expect(worker.stats.deferred).toBe(0);
    expect(worker.stats.claimed).toBe(70);
    const { rows } = await t.db.query<{ attempts: number }>(
      'SELECT DISTINCT attempts FROM deliveries WHERE webhook_id = $1',
      [hook.body.id],
    );
    expect(rows).toEqual([{ attempts: 1 }]);
    // And the rate held: a burst of 20, then 50 more at 20/s.
    const times = rx.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(times[69]! - times[0]!).toBeGreaterThanOrEqual(2000);
  });
});
