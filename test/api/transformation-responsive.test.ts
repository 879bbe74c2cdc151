import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';

// Its own file (and process): the looping scripts hold this process's sandbox for a while.
let t: TestApp;
let worker: Worker;
let rx: Receiver;

beforeAll(async () => {
  t = await createTestApp({ retryDelayScale: 0.001, timeoutScale: 0.1, transformTimeoutMs: 100 });
  worker = await startTestWorker(t);
  rx = await startReceiver();
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await rx?.close();
  await t?.close();
});

async function setup(code: string) {
  const o = await t.newOrg();
  await o.admin('POST', '/event-types', { name: 'payroll.processed' });
  const hook = await o.admin('POST', '/webhooks', {
    name: 'looping',
    url: `${rx.url}/loop`,
    events: ['payroll.processed'],
    retry_attempts: 0,
    transformation: { code, enabled: true },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  return { o, hook: hook.body as { id: string } };
}

describe('looping transformations', () => {
  it('keep /healthz answering while 100 looping scripts run', async () => {
    const { o } = await setup('function handler() { while (true) {} }');
    const res = await o.publisher('POST', '/events/batch', {
      events: Array.from({ length: 100 }, (_, i) => ({
        event_type: 'payroll.processed',
        payload: { i },
      })),
    });
    expect(res.status).toBe(202);
    const failed = async () =>
      Number(
        (
          await t.db.query(
            "SELECT count(*) AS n FROM deliveries WHERE org_id = $1 AND status = 'failed'",
            [o.orgId],
          )
        ).rows[0].n,
      );
    let answered = 0;
    await until(
      async () => {
        const health = await t.app.inject({ method: 'GET', url: '/healthz' });
        expect(health.statusCode).toBe(200);
        answered++;
        return (await failed()) >= 3;
      },
      30_000,
      () => 'three looping scripts to be stopped',
    );
    expect(answered).toBeGreaterThan(0);
    const att = (
      await t.db.query(
        'SELECT error, error_detail FROM delivery_attempts WHERE org_id = $1 AND error IS NOT NULL LIMIT 1',
        [o.orgId],
      )
    ).rows[0];
    expect(att).toMatchObject({ error: 'transformation_failed' });
    expect(att.error_detail).toMatch(/out of time/);
  });
});
