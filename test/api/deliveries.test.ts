import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { auditRows, seedAttempt, seedDelivery, seedWebhook } from '../support/delivery-rows.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';

let t: TestApp;
let hookA: string;
let hookB: string;
const ids: Record<string, string> = {};
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

beforeAll(async () => {
  t = await createTestApp();
  const { orgId } = t.org;
  hookA = await seedWebhook(t.db, orgId, { name: 'a' });
  hookB = await seedWebhook(t.db, orgId, { name: 'b' });
  // Oldest first, so ids (time-ordered) follow the order written here.
  ids.ok = await seedDelivery(t.db, orgId, hookA, {
    status: 'succeeded',
    createdAt: minutesAgo(50),
    lastStatusCode: 200,
  });
  ids.failed = await seedDelivery(t.db, orgId, hookA, {
    status: 'failed',
    attempts: 3,
    createdAt: minutesAgo(40),
    lastStatusCode: 500,
    lastError: 'http_error',
  });
  ids.retrying = await seedDelivery(t.db, orgId, hookA, {
    status: 'pending',
    attempts: 1,
    eventType: 'ticket.updated',
    createdAt: minutesAgo(30),
  });
  ids.pending = await seedDelivery(t.db, orgId, hookB, {
    status: 'pending',
    attempts: 0,
    createdAt: minutesAgo(20),
  });
  ids.test = await seedDelivery(t.db, orgId, hookB, {
    status: 'succeeded',
    isTest: true,
    createdAt: minutesAgo(10),
  });
  ids.cancelled = await seedDelivery(t.db, orgId, hookB, {
    status: 'cancelled',
    attempts: 0,
    createdAt: minutesAgo(5),
  });
  await seedAttempt(t.db, orgId, hookA, ids.failed, {
    attempt: 2,
    durationMs: 40,
    responseStatus: 500,
    error: 'http_error',
    responseBody: 'boom',
  });
  await seedAttempt(t.db, orgId, hookA, ids.failed, {
    attempt: 1,
    durationMs: 30000,
    responseStatus: null,
    error: 'timeout',
  });
  await seedAttempt(t.db, orgId, hookA, ids.failed, {
    attempt: 3,
    durationMs: 12,
    responseStatus: 503,
    error: 'http_error',
  });
});
afterAll(async () => t?.close());

const listIds = async (query: string, call = t.org.admin) => {
  const res = await call('GET', `/deliveries?limit=500${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.map((d: { id: string }) => d.id);
};

describe('the delivery log', () => {
  it('lists every delivery of the organization newest first, in the shape docs/api.md describes', async () => {
    const res = await t.org.admin('GET', '/deliveries');
    expect(res.body.data.map((d: any) => d.id)).toEqual([
      ids.cancelled,
      ids.test,
      ids.pending,
      ids.retrying,
      ids.failed,
      ids.ok,
    ]);
    const failed = res.body.data.find((d: any) => d.id === ids.failed);
    expect(Object.keys(failed).sort()).toEqual([
      'attempts',
      'completed_at',
      'created_at',
      'event_id',
      'event_type',
      'id',
      'is_test',
      'last_attempt_at',
      'last_error',
      'last_status_code',
      'next_attempt_at',
      'status',
      'tenant_id',
      'webhook_id',
    ]);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 3,
      last_status_code: 500,
      last_error: 'http_error',
      next_attempt_at: null,
      webhook_id: hookA,
    });
    expect(res.body.next_cursor).toBeNull();
  });

  it('shows a pending delivery that was tried before as retrying', async () => {
    const res = await t.org.admin('GET', `/deliveries/${ids.retrying}`);
    expect(res.body.status).toBe('retrying');
    expect(res.body.next_attempt_at).not.toBeNull();
    expect((await t.org.admin('GET', `/deliveries/${ids.pending}`)).body.status).toBe('pending');
  });

  it('filters by shown status, so pending and retrying are apart', async () => {
    expect(await listIds('&status=pending')).toEqual([ids.pending]);
    expect(await listIds('&status=retrying')).toEqual([ids.retrying]);
    expect(await listIds('&status=succeeded')).toEqual([ids.test, ids.ok]);
    expect(await listIds('&status=failed')).toEqual([ids.failed]);
    expect(await listIds('&status=cancelled')).toEqual([ids.cancelled]);
    expect(await listIds('&status=skipped')).toEqual([]);
    const bad = await t.org.admin('GET', '/deliveries?status=lost');
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].field).toBe('status');
  });

  it('filters by event type, event, webhook, time range and test flag, combined', async () => {
    expect(await listIds('&event_type=ticket.updated')).toEqual([ids.retrying]);
    expect(await listIds(`&webhook_id=${hookB}`)).toEqual([ids.cancelled, ids.test, ids.pending]);
    expect(
      await listIds(`&since=${minutesAgo(35).toISOString()}&until=${minutesAgo(8).toISOString()}`),
    ).toEqual([ids.test, ids.pending, ids.retrying]);
    expect(await listIds('&is_test=true')).toEqual([ids.test]);
    const failed = (await t.org.admin('GET', `/deliveries/${ids.failed}`)).body;
    expect(await listIds(`&event_id=${failed.event_id}`)).toEqual([ids.failed]);
    expect(await listIds(`&event_id=${failed.event_id}&webhook_id=${hookB}`)).toEqual([]);
    expect(await listIds('&event_id=evt_unknown')).toEqual([]);
    expect(await listIds(`&is_test=false&webhook_id=${hookB}&status=cancelled`)).toEqual([
      ids.cancelled,
    ]);
    expect((await t.org.admin('GET', '/deliveries?since=yesterday')).status).toBe(422);
  });

  it('lists one webhook’s deliveries with the same filters, and 404 for a webhook it does not know', async () => {
    const res = await t.org.admin('GET', `/webhooks/${hookA}/deliveries?status=failed`);
    expect(res.body.data.map((d: any) => d.id)).toEqual([ids.failed]);
    const all = await t.org.admin('GET', `/webhooks/${hookA}/deliveries`);
    expect(all.body.data.map((d: any) => d.id)).toEqual([ids.retrying, ids.failed, ids.ok]);
    expect((await t.org.admin('GET', '/webhooks/wh_nope/deliveries')).status).toBe(404);
  });

  it('pages with cursors without losing or repeating a delivery', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await t.org.admin(
        'GET',
        `/deliveries?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...res.body.data.map((d: any) => d.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(await listIds(''));
    expect((await t.org.admin('GET', '/deliveries?cursor=not-ours!')).status).toBe(422);
  });

  it('shows one delivery with every attempt in order, request and response', async () => {
    const res = await t.org.admin('GET', `/deliveries/${ids.failed}`);
    expect(res.status).toBe(200);
    expect(res.body.attempt_log.map((a: any) => a.attempt)).toEqual([1, 2, 3]);
    expect(res.body.attempt_log[0]).toMatchObject({
      attempt: 1,
      duration_ms: 30000,
      response_status: null,
      response_headers: null,
      response_body: null,
      error: 'timeout',
    });
    expect(res.body.attempt_log[1]).toMatchObject({
      response_status: 500,
      response_body: 'boom',
      error: 'http_error',
      request_headers: { 'webhook-id': 'evt_x', 'content-type': 'application/json' },
      response_headers: { 'content-type': 'text/plain' },
    });
    expect(typeof res.body.attempt_log[1].started_at).toBe('string');
    expect((await t.org.admin('GET', `/deliveries/${ids.ok}`)).body.attempt_log).toEqual([]);
    expect((await t.org.admin('GET', '/deliveries/dlv_missing')).status).toBe(404);
  });
});

describe('manual retry', () => {
  it('queues a failed delivery now with one more attempt in its budget, and audits it', async () => {
    const before = Date.now();
    const res = await t.org.admin('POST', `/deliveries/${ids.failed}/retry`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: ids.failed,
      status: 'retrying',
      attempts: 3,
      completed_at: null,
    });
    expect(Math.abs(new Date(res.body.next_attempt_at).getTime() - before)).toBeLessThan(5000);
    const { rows } = await t.db.query(
      'SELECT status, manual_attempts, lease_expires_at FROM deliveries WHERE id = $1',
      [ids.failed],
    );
    expect(rows[0]).toEqual({ status: 'pending', manual_attempts: 1, lease_expires_at: null });
    const audit = await auditRows(t.db, t.org.orgId, 'delivery.retried');
    expect(audit[0]).toMatchObject({
      target_id: ids.failed,
      changes: { previous_status: 'failed', attempts: 3 },
    });
  });

  it('retries a succeeded delivery too, and a delivery of a disabled webhook is a 409', async () => {
    expect((await t.org.admin('POST', `/deliveries/${ids.ok}/retry`)).body.status).toBe('retrying');
    const off = await seedWebhook(t.db, t.org.orgId, { isActive: false });
    const d = await seedDelivery(t.db, t.org.orgId, off, { status: 'cancelled' });
    const res = await t.org.admin('POST', `/deliveries/${d}/retry`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
  });
});

describe('skip', () => {
  it('skips an unfinished delivery of a fifo webhook, and audits it', async () => {
    const fifo = await seedWebhook(t.db, t.org.orgId, { ordering: 'fifo' });
    const head = await seedDelivery(t.db, t.org.orgId, fifo, { status: 'pending', attempts: 2 });
    const res = await t.org.admin('POST', `/deliveries/${head}/skip`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'skipped', next_attempt_at: null });
    expect(res.body.completed_at).not.toBeNull();
    expect((await auditRows(t.db, t.org.orgId, 'delivery.skipped'))[0].target_id).toBe(head);
    // Once finished it cannot be skipped again.
    expect((await t.org.admin('POST', `/deliveries/${head}/skip`)).status).toBe(409);
  });

  it('answers 409 for a delivery of a webhook without fifo ordering', async () => {
    const res = await t.org.admin('POST', `/deliveries/${ids.pending}/skip`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/fifo/);
    expect((await t.org.admin('GET', `/deliveries/${ids.pending}`)).body.status).toBe('pending');
  });
});

describe('roles and organizations', () => {
  it('lets viewers read the log but not retry or skip; publishers see nothing', async () => {
    expect((await t.org.viewer('GET', '/deliveries')).status).toBe(200);
    expect((await t.org.viewer('GET', `/deliveries/${ids.failed}`)).status).toBe(200);
    expect((await t.org.viewer('GET', `/webhooks/${hookA}/deliveries`)).status).toBe(200);
    expect((await t.org.viewer('POST', `/deliveries/${ids.failed}/retry`)).status).toBe(403);
    expect((await t.org.viewer('POST', `/deliveries/${ids.failed}/skip`)).status).toBe(403);
    expect((await t.org.publisher('GET', '/deliveries')).status).toBe(403);
    expect((await t.org.publisher('GET', `/deliveries/${ids.failed}`)).status).toBe(403);
    expect((await t.org.publisher('POST', `/deliveries/${ids.failed}/retry`)).status).toBe(403);
  });

  it('hides another organization’s deliveries and webhooks behind 404', async () => {
    const other = await t.newOrg();
    expect((await other.admin('GET', '/deliveries')).body.data).toEqual([]);
    expect((await other.admin('GET', `/deliveries?webhook_id=${hookA}`)).body.data).toEqual([]);
    expect((await other.admin('GET', `/deliveries/${ids.failed}`)).status).toBe(404);
    expect((await other.admin('GET', `/webhooks/${hookA}/deliveries`)).status).toBe(404);
    expect((await other.admin('POST', `/deliveries/${ids.failed}/retry`)).status).toBe(404);
    expect((await other.admin('POST', `/deliveries/${ids.failed}/skip`)).status).toBe(404);
  });
});

// With the real worker, on an app of its own: the rows seeded above would be sent too.
describe('retry and skip with the worker', () => {
  let w: TestApp;
  let worker: Worker;
  let rx: Receiver;
  let failing = true;

  beforeAll(async () => {
    w = await createTestApp();
    worker = await startTestWorker(w);
    // Fails until told otherwise; with fifo, only the first event's requests fail.
    rx = await startReceiver((req, res) => {
      const fail = failing || JSON.parse(req.body).data.fail === true;
      res.writeHead(fail ? 500 : 200).end(fail ? 'down' : 'ok');
    });
    for (const name of ['order.placed', 'order.shipped', 'order.returned']) {
      expect((await w.org.admin('POST', '/event-types', { name })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await worker?.stop({ drainMs: 1000 });
    await rx?.close();
    await w?.close();
  });

  // Each test subscribes its webhook to its own event type, so it gets only its own events.
  async function webhook(type: string, extra: Record<string, unknown>): Promise<string> {
    const res = await w.org.admin('POST', '/webhooks', {
      name: 'h',
      url: rx.url,
      events: [type],
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }
  async function publish(type: string, payload: unknown): Promise<string> {
    const res = await w.org.publisher('POST', '/events', { event_type: type, payload });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const event = await w.org.admin('GET', `/events/${res.body.id}`);
    return event.body.deliveries[0].id;
  }
  const delivery = async (id: string) => (await w.org.admin('GET', `/deliveries/${id}`)).body;
  const waitFor = (id: string, status: string) =>
    until(
      async () => (await delivery(id)).status === status,
      15_000,
      () => `${id} to be ${status}`,
    );

  it('sends a failed delivery again after a manual retry, with the same webhook-id', async () => {
    failing = true;
    const hook = await webhook('order.placed', { retry_attempts: 0 });
    const id = await publish('order.placed', { n: 1 });
    await waitFor(id, 'failed');
    expect(rx.requests).toHaveLength(1);
    failing = false;
    const res = await w.org.admin('POST', `/deliveries/${id}/retry`);
    expect(res.status).toBe(200);
    await waitFor(id, 'succeeded');
    const d = await delivery(id);
    expect(d.attempt_log.map((a: any) => [a.attempt, a.response_status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1].headers['webhook-id']).toBe(rx.requests[0].headers['webhook-id']);
    expect(d.webhook_id).toBe(hook);
  });

  it('a retry while the delivery is being sent numbers the next attempt after the one in flight', async () => {
    // A receiver that holds every request until the test lets it go.
    const held: Array<() => void> = [];
    const slow = await startReceiver((_req, res) => {
      held.push(() => res.writeHead(200).end('ok'));
    });
    try {
      expect((await w.org.admin('POST', '/event-types', { name: 'order.held' })).status).toBe(201);
      const hook = await w.org.admin('POST', '/webhooks', {
        name: 'slow',
        url: slow.url,
        events: ['order.held'],
      });
      expect(hook.status, JSON.stringify(hook.body)).toBe(201);
      const id = await publish('order.held', { n: 1 });
      await until(
        async () => held.length === 1,
        15_000,
        () => 'the first request to arrive',
      );
      expect((await delivery(id)).status).toBe('sending');

      expect((await w.org.admin('POST', `/deliveries/${id}/retry`)).status).toBe(200);
      await until(
        async () => held.length === 2,
        15_000,
        () => 'the retry to be sent while the first is held',
      );
      for (const release of held) release();
      await until(
        async () => (await delivery(id)).attempt_log.length === 2,
        15_000,
        () => 'both attempts to be logged',
      );
      const d = await delivery(id);
      expect(d.attempt_log.map((a: any) => a.attempt).sort()).toEqual([1, 2]);
      await waitFor(id, 'succeeded');
      expect((await delivery(id)).attempts).toBe(2);
    } finally {
      await slow.close();
    }
  });

  it('skipping the failing head of a fifo webhook lets the next delivery go', async () => {
    failing = false;
    const before = rx.requests.length;
    // retry_delay_seconds 60: the head's next try is far beyond this test.
    await webhook('order.shipped', {
      ordering: 'fifo',
      retry_attempts: 5,
      retry_delay_seconds: 60,
    });
    const head = await publish('order.shipped', { fail: true });
    const next = await publish('order.shipped', { n: 2 });
    await waitFor(head, 'retrying');
    // The head holds the line: the one behind it was never tried.
    expect(await delivery(next)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(rx.requests.length - before).toBe(1);

    expect((await w.org.admin('POST', `/deliveries/${head}/skip`)).status).toBe(200);
    await waitFor(next, 'succeeded');
    expect((await delivery(head)).status).toBe('skipped');
    const bodies = rx.requests.slice(before).map((r) => JSON.parse(r.body).data);
    expect(bodies).toEqual([{ fail: true }, { n: 2 }]);
  });

  it('a replay re-sends every failed delivery of the webhook through the worker, as many as the dry run counted', async () => {
    failing = true;
    const before = rx.requests.length;
    const hook = await webhook('order.returned', { retry_attempts: 0 });
    const since = new Date(Date.now() - 1000).toISOString();
    const ids = [
      await publish('order.returned', { n: 1 }),
      await publish('order.returned', { n: 2 }),
      await publish('order.returned', { n: 3 }),
    ];
    for (const id of ids) await waitFor(id, 'failed');
    failing = false;
    const dry = await w.org.admin('POST', `/webhooks/${hook}/replay`, { since, dry_run: true });
    expect(dry.body).toEqual({ matched: 3 });
    expect((await w.org.admin('POST', `/webhooks/${hook}/replay`, { since })).body).toEqual({
      queued: 3,
    });
    for (const id of ids) await waitFor(id, 'succeeded');
    expect(rx.requests.length - before).toBe(6);
    // Nothing is left to replay once they succeeded.
    expect(
      (await w.org.admin('POST', `/webhooks/${hook}/replay`, { since, dry_run: true })).body,
    ).toEqual({ matched: 0 });
  });
});
