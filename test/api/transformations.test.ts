import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';

// A run limit generous enough for a loaded machine: these tests are about the contract, not speed.
let t: TestApp;
let worker: Worker;
let rx: Receiver;

beforeAll(async () => {
  t = await createTestApp({ retryDelayScale: 0.001, timeoutScale: 0.1, transformTimeoutMs: 1000 });
  worker = await startTestWorker(t);
  rx = await startReceiver();
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await rx?.close();
  await t?.close();
});

async function setup(code: string, extra: Record<string, unknown> = {}) {
  const o = await t.newOrg();
  await o.admin('POST', '/event-types', { name: 'payroll.processed' });
  const hook = await o.admin('POST', '/webhooks', {
    name: 'transformed',
    url: `${rx.url}/original`,
    events: ['payroll.processed'],
    retry_attempts: 0,
    transformation: { code, enabled: true },
    ...extra,
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  return { o, hook: hook.body as { id: string; secret: string } };
}

async function publish(o: OrgFixture, payload: unknown): Promise<string> {
  const res = await o.publisher('POST', '/events', { event_type: 'payroll.processed', payload });
  expect(res.status).toBe(202);
  return res.body.id;
}

async function finished(eventId: string) {
  await until(
    async () =>
      (
        await t.db.query(
          "SELECT 1 FROM deliveries WHERE event_id = $1 AND status IN ('succeeded', 'failed', 'skipped')",
          [eventId],
        )
      ).rows.length > 0,
    20_000,
    () => `the delivery of ${eventId} to finish`,
  );
  const d = (await t.db.query('SELECT * FROM deliveries WHERE event_id = $1', [eventId])).rows[0];
  const attempts = (
    await t.db.query('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt', [
      d.id,
    ])
  ).rows;
  return { d, attempts };
}

describe('transformations at send', () => {
  it('send the transformed body, url and headers, signed over the transformed body', async () => {
    const { o, hook } = await setup(`
      function handler(webhook) {
        webhook.payload.data = { total: webhook.payload.data.amount * 2, kind: webhook.eventType };
        webhook.url = webhook.url.replace('/original', '/rewritten');
        webhook.headers['x-tenant'] = 'acme';
        return webhook;
      }`);
    const id = await publish(o, { amount: 21, ssn: 'secret' });
    const { d } = await finished(id);
    expect(d.status).toBe('succeeded');
    const req = rx.requests.find((r) => r.body.includes(id))!;
    expect(req.url).toMatch(/\/rewritten$/);
    expect(req.headers['x-tenant']).toBe('acme');
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      id,
      type: 'payroll.processed',
      data: { total: 42, kind: 'payroll.processed' },
    });
    expect(
      new Webhook(hook.secret).verify(req.body, req.headers as Record<string, string>),
    ).toEqual(body);
  });

  it('skip the delivery when the handler cancels, with the reason in the attempt', async () => {
    const { o } = await setup(
      'function handler(w) { return w.payload.data.test ? { cancel: true, reason: "test data" } : w }',
    );
    const id = await publish(o, { test: true });
    const { d, attempts } = await finished(id);
    expect(d.status).toBe('skipped');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      error: 'transformation_cancelled',
      error_detail: 'cancelled by the transformation: test data',
      response_status: null,
    });
    expect(rx.requests.some((r) => r.body.includes(id))).toBe(false);
    const detail = await o.admin('GET', `/deliveries/${d.id}`);
    expect(detail.body.status).toBe('skipped');
  });

  it('fail the attempt with transformation_failed when the handler throws or breaks the rules', async () => {
    const { o } = await setup(
      'function handler(w) { if (w.payload.data.bad) throw new Error("no amount"); w.headers.host = "x"; return w }',
    );
    const thrown = await finished(await publish(o, { bad: true }));
    expect(thrown.d.status).toBe('failed');
    expect(thrown.attempts[0]).toMatchObject({ error: 'transformation_failed' });
    expect(thrown.attempts[0].error_detail).toMatch(/Error: no amount/);
    const header = await finished(await publish(o, {}));
    expect(header.attempts[0].error).toBe('transformation_failed');
    expect(header.attempts[0].error_detail).toMatch(/custom_headers\.host/);
  });

  it('guard the transformed url like a saved one', async () => {
    const strict = await createTestApp({ dev: false, transformTimeoutMs: 1000 });
    try {
      const res = await strict.org.admin('POST', '/transformations/simulate', {
        code: 'function handler(w) { w.url = "https://127.0.0.1/steal"; return w }',
        event_type: 'a.b',
        payload: {},
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('TRANSFORMATION_FAILED');
      expect(res.body.error.details[0]).toMatchObject({
        field: 'code',
        code: 'blocked_destination',
      });
      const http = await strict.org.admin('POST', '/transformations/simulate', {
        code: 'function handler(w) { w.url = "http://example.com/"; return w }',
        event_type: 'a.b',
        payload: {},
      });
      expect(http.body.error.details[0].message).toMatch(/https/);
    } finally {
      await strict.close();
    }
  });
});

describe('transformations on test sends', () => {
  async function testSend(o: OrgFixture, id: string, payload: unknown) {
    const res = await o.admin('POST', `/webhooks/${id}/test`, {
      event_type: 'payroll.processed',
      payload,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const d = await o.admin('GET', `/deliveries/${res.body.delivery_id}`);
    return { res: res.body, delivery: d.body };
  }

  it('send the transformed request after include_fields, signed over it', async () => {
    const { o, hook } = await setup(
      'function handler(w) { w.payload.data.seen = Object.keys(w.payload.data); w.headers["x-t"] = "1"; w.url += "/t"; return w }',
      { include_fields: ['id'] },
    );
    const { res, delivery } = await testSend(o, hook.id, { id: 'emp-1', ssn: 'secret' });
    expect(res).toMatchObject({ success: true, status: 'succeeded', error_detail: null });
    expect(delivery.status).toBe('succeeded');
    const req = rx.requests.find((r) => r.body.includes('emp-1'))!;
    expect(req.url).toMatch(/\/original\/t$/);
    expect(req.headers['x-t']).toBe('1');
    expect(JSON.parse(req.body).data).toEqual({ id: 'emp-1', seen: ['id'] });
    expect(
      new Webhook(hook.secret).verify(req.body, req.headers as Record<string, string>),
    ).toEqual(JSON.parse(req.body));
  });

  it('end skipped with the reason when the handler cancels, sending nothing', async () => {
    const { o, hook } = await setup(
      'function handler(w) { return { cancel: true, reason: "not for tests " + w.payload.data.n } }',
    );
    const before = rx.requests.length;
    const { res, delivery } = await testSend(o, hook.id, { n: 7 });
    expect(res).toMatchObject({
      success: false,
      status: 'skipped',
      status_code: null,
      error: 'transformation_cancelled',
      error_detail: 'cancelled by the transformation: not for tests 7',
    });
    expect(delivery.status).toBe('skipped');
    expect(rx.requests.length).toBe(before);
  });

  it('fail with transformation_failed and its message when the handler throws', async () => {
    const { o, hook } = await setup('function handler() { throw new Error("no amount") }');
    const before = rx.requests.length;
    const { res, delivery } = await testSend(o, hook.id, {});
    expect(res).toMatchObject({ success: false, status: 'failed', error: 'transformation_failed' });
    expect(res.error_detail).toMatch(/Error: no amount/);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempt_log[0]).toMatchObject({ error: 'transformation_failed' });
    expect(rx.requests.length).toBe(before);
  });
});

describe('transformations at save and in simulation', () => {
  it('refuse a script that does not parse, naming transformation.code', async () => {
    const res = await t.org.admin('POST', '/webhooks', {
      name: 'x',
      url: `${rx.url}/x`,
      events: ['*'],
      transformation: { code: 'function handler(w) { return w', enabled: true },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      {
        field: 'transformation.code',
        message: expect.stringMatching(/does not parse: SyntaxError/),
      },
    ]);
    const big = await t.org.admin('POST', '/webhooks', {
      name: 'x',
      url: `${rx.url}/x`,
      events: ['*'],
      transformation: { code: 'x'.repeat(64 * 1024 + 1), enabled: true },
    });
    expect(big.status).toBe(422);
    const shape = await t.org.admin('POST', '/webhooks', {
      name: 'x',
      url: `${rx.url}/x`,
      events: ['*'],
      transformation: { code: 'function handler(w) { return w }' },
    });
    expect(shape.status).toBe(422);
  });

  it('simulate a run without sending', async () => {
    const before = rx.requests.length;
    const res = await t.org.viewer('POST', '/transformations/simulate', {
      code: 'function handler(w) { w.payload.data.seen = true; w.headers["x-a"] = "1"; return w }',
      event_type: 'payroll.processed',
      payload: { amount: 1 },
      url: `${rx.url}/sim`,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      cancel: false,
      url: `${rx.url}/sim`,
      headers: { 'x-a': '1' },
      payload: { type: 'payroll.processed', data: { amount: 1, seen: true } },
    });
    const cancelled = await t.org.admin('POST', '/transformations/simulate', {
      code: 'function handler() { return { cancel: true, reason: "nope" } }',
      event_type: 'payroll.processed',
      payload: null,
    });
    expect(cancelled.body).toMatchObject({ cancel: true, payload: null });
    expect(cancelled.body.reason).toMatch(/nope/);
    const thrown = await t.org.admin('POST', '/transformations/simulate', {
      code: 'function handler() { null.x }',
      event_type: 'payroll.processed',
      payload: {},
    });
    expect(thrown.status).toBe(422);
    expect(thrown.body.error.details[0]).toMatchObject({
      field: 'code',
      code: 'transformation_failed',
    });
    expect(thrown.body.error.message).toMatch(/TypeError/);
    expect(rx.requests.length).toBe(before);
  });
});
