import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type TestApp } from '../support/app.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';

let t: TestApp;
let worker: Worker;
let rx: Receiver;

beforeAll(async () => {
  t = await createTestApp({ retryDelayScale: 0.001, timeoutScale: 0.1 });
  worker = await startTestWorker(t);
  rx = await startReceiver();
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await rx?.close();
  await t?.close();
});

const payload = {
  employee: { id: 'emp_1', name: 'Dana', ssn: '123-45-6789' },
  lines: [
    { code: 'BASE', iban: 'FR76…' },
    { code: 'BONUS', iban: 'FR76…' },
  ],
  amount: 1500,
};

/** The request that carried event `id`, once it arrived. */
async function arrival(id: string) {
  await until(
    async () => rx.requests.some((r) => r.body.includes(id)),
    15_000,
    () => `event ${id}`,
  );
  return rx.requests.find((r) => r.body.includes(id))!;
}

describe('include_fields', () => {
  it('sends only the listed paths of data, signed over what is sent', async () => {
    const o = await t.newOrg();
    await o.admin('POST', '/event-types', { name: 'payroll.processed' });
    const hook = await o.admin('POST', '/webhooks', {
      name: 'less',
      url: `${rx.url}/less`,
      events: ['payroll.processed'],
      include_fields: ['employee.id', 'lines.1.code', 'amount'],
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    expect(hook.body.include_fields).toEqual(['employee.id', 'lines.1.code', 'amount']);
    const sent = await o.publisher('POST', '/events', { event_type: 'payroll.processed', payload });
    const req = await arrival(sent.body.id);
    const body = JSON.parse(req.body);
    expect(body.data).toEqual({
      employee: { id: 'emp_1' },
      lines: [{ code: 'BONUS' }],
      amount: 1500,
    });
    expect(
      new Webhook(hook.body.secret).verify(req.body, req.headers as Record<string, string>),
    ).toEqual(body);

    // The test send is shaped the same way; null sends the whole payload again.
    const test = await o.admin('POST', `/webhooks/${hook.body.id}/test`, {
      event_type: 'payroll.processed',
      payload,
    });
    expect(test.body.success).toBe(true);
    // The test send is answered after it was received: it is the latest request.
    const testReq = rx.requests.at(-1)!;
    expect(JSON.parse(testReq.body).data).toEqual({
      employee: { id: 'emp_1' },
      lines: [{ code: 'BONUS' }],
      amount: 1500,
    });
    const patched = await o.admin('PATCH', `/webhooks/${hook.body.id}`, { include_fields: null });
    expect(patched.body.include_fields).toBeNull();
    const full = await o.publisher('POST', '/events', { event_type: 'payroll.processed', payload });
    const fullReq = await arrival(full.body.id);
    expect(JSON.parse(fullReq.body).data).toEqual(payload);
  });

  it('refuses bad lists with a 422 naming the entry', async () => {
    const bad = async (include_fields: unknown) =>
      t.org.admin('POST', '/webhooks', {
        name: 'x',
        url: `${rx.url}/x`,
        events: ['*'],
        include_fields,
      });
    const spaced = await bad(['ok', 'not ok']);
    expect(spaced.status).toBe(422);
    expect(spaced.body.error.details).toEqual([
      { field: 'include_fields.1', message: expect.stringMatching(/dot-separated/) },
    ]);
    expect((await bad(Array.from({ length: 101 }, (_, i) => `f${i}`))).status).toBe(422);
    expect((await bad(['x'.repeat(201)])).status).toBe(422);
    expect((await bad([])).status).toBe(422);
    expect((await bad('employee.id')).status).toBe(422);
  });
});
