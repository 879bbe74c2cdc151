import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { startReceiver, until, type Handler, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';
import { generateSecret } from '../../src/core/signing.js';

// Retry delays run at 1/1000 scale (retry_delay_seconds 200 → 200 ms); timeouts at 1/10 (5 s → 500 ms).
let t: TestApp;
let worker: Worker;
const receivers: Receiver[] = [];

beforeAll(async () => {
  t = await createTestApp({ retryDelayScale: 0.001, timeoutScale: 0.1 });
  worker = await startTestWorker(t, { random: () => 0.5 }); // no jitter: exact spacing
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  for (const r of receivers) await r.close();
  await t?.close();
});

async function receiver(h?: Handler): Promise<Receiver> {
  const r = await startReceiver(h);
  receivers.push(r);
  return r;
}

/** A fresh organization with one event type and one webhook on `rx`. */
async function setup(rx: Receiver, hook: Record<string, unknown> = {}, type = 'thing.happened') {
  const o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: type })).status).toBe(201);
  const res = await o.admin('POST', '/webhooks', {
    name: 'hook',
    url: rx.url,
    events: [type],
    ...hook,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { o, hook: res.body as { id: string; secret: string } };
}

async function publish(
  o: OrgFixture,
  payload: unknown = {},
  type = 'thing.happened',
): Promise<string> {
  const res = await o.publisher('POST', '/events', { event_type: type, payload });
  expect(res.status).toBe(202);
  return res.body.id;
}

const deliveryOf = async (eventId: string) =>
  (await t.db.query('SELECT * FROM deliveries WHERE event_id = $1', [eventId])).rows[0];
const attemptsOf = async (deliveryId: string) =>
  (
    await t.db.query('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt', [
      deliveryId,
    ])
  ).rows;
const webhookRow = async (id: string) =>
  (await t.db.query('SELECT * FROM webhooks WHERE id = $1', [id])).rows[0];

async function waitStatus(eventId: string, status: string, ms = 15_000) {
  await until(
    async () => (await deliveryOf(eventId))?.status === status,
    ms,
    () => `delivery of ${eventId} to be ${status}`,
  );
  return deliveryOf(eventId);
}

describe('delivering', () => {
  it('retries 500, 500 then succeeds on 200, spacing attempts by the doubling backoff', async () => {
    const rx = await receiver((_r, res, n) =>
      res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? 'down' : 'ok'),
    );
    const { o, hook } = await setup(rx, { retry_delay_seconds: 200 });
    const eventId = await publish(o, { n: 1 });
    const d = await waitStatus(eventId, 'succeeded');
    expect(rx.requests).toHaveLength(3);
    const [a, b, c] = rx.requests.map((r) => r.at);
    // 200 ms then 400 ms (scaled seconds), no jitter. The lower bounds are exact; the upper ones are
    // generous for a busy machine, but well below the worker's 10 s safety-net poll.
    expect(b - a).toBeGreaterThanOrEqual(195);
    expect(b - a).toBeLessThan(3000);
    expect(c - b).toBeGreaterThanOrEqual(395);
    expect(c - b).toBeLessThan(3500);
    // The same webhook-id on every retry, so receivers can de-duplicate.
    expect(new Set(rx.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect(d).toMatchObject({ attempts: 3, last_status_code: 200, last_error: null });
    const attempts = await attemptsOf(d.id);
    expect(attempts.map((x) => [x.attempt, x.response_status, x.error])).toEqual([
      [1, 500, 'http_error'],
      [2, 500, 'http_error'],
      [3, 200, null],
    ]);
    expect(attempts[0].response_body).toBe('down');
    // The webhook's health is the worker's next statement after the outcome: wait for it, not for a race.
    await until(
      async () => (await webhookRow(hook.id)).last_success_at !== null,
      5_000,
      () => 'the success applied to the webhook',
    );
    const w = await webhookRow(hook.id);
    expect(w.failure_count).toBe(0);
    expect(w.first_failure_at).toBeNull();
    expect(w.last_success_at).not.toBeNull();
    expect(w.last_triggered_at).not.toBeNull();
  });

  it('logs each attempt with the headers its receiver got, storing only the signatures per attempt', async () => {
    const rx = await receiver((_r, res, n) => res.writeHead(n === 1 ? 500 : 200).end());
    const { o } = await setup(rx, {
      retry_delay_seconds: 10,
      custom_headers: { 'X-Tenant': 'acme', 'x-trace': 'a b' },
    });
    const eventId = await publish(o);
    const d = await waitStatus(eventId, 'succeeded');
    const detail = await o.admin('GET', `/deliveries/${d.id}`);
    expect(detail.status).toBe(200);
    const logged = detail.body.attempt_log.map(
      (a: { request_headers: Record<string, string> }) => a.request_headers,
    );
    expect(logged).toHaveLength(2);
    for (const [i, headers] of logged.entries()) {
      const got = rx.requests[i].headers;
      // undici's own transport headers (host, content-length, connection) are not Hookline's to log.
      const sent = Object.fromEntries(
        Object.entries(got).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
      );
      // The log keeps a custom header's name as configured; HTTP names are case-insensitive.
      const named = Object.fromEntries(
        Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]),
      );
      expect(named).toEqual(sent);
      expect(headers['webhook-id']).toBe(eventId);
      expect(headers['X-Tenant']).toBe('acme');
    }
    const rows = await attemptsOf(d.id);
    for (const r of rows)
      expect(Object.keys(r.request_headers).sort()).toEqual([
        'webhook-signature',
        'x-webhook-signature',
      ]);
    expect(rows[0].header_set).toBe(rows[1].header_set);
    const sets = await t.db.query(
      'SELECT headers, derived FROM request_header_sets WHERE id = $1',
      [rows[0].header_set],
    );
    expect(sets.rows[0].headers).toMatchObject({ 'X-Tenant': 'acme', 'x-trace': 'a b' });
    expect([...sets.rows[0].derived].sort()).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'x-webhook-event',
      'x-webhook-timestamp',
    ]);
  });

  it('signs so that the standardwebhooks package verifies, with both secrets during a rotation grace', async () => {
    const rx = await receiver();
    const { o, hook } = await setup(rx);
    const old = generateSecret();
    await t.db.query('UPDATE webhooks SET previous_secrets = $2 WHERE id = $1', [
      hook.id,
      JSON.stringify([
        { secret: old, expires_at: new Date(Date.now() + 3600_000).toISOString() },
        { secret: generateSecret(), expires_at: '2000-01-01T00:00:00Z' },
      ]),
    ]);
    const eventId = await publish(o, { hello: 'world', n: [1, 2.5] });
    const [req] = await rx.waitFor(1);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2); // the expired one no longer signs
    for (const s of [hook.secret, old]) {
      expect(new Webhook(s).verify(req.body, req.headers as Record<string, string>)).toEqual({
        id: eventId,
        type: 'thing.happened',
        timestamp: expect.any(String),
        data: { hello: 'world', n: [1, 2.5] },
      });
    }
    expect(() =>
      new Webhook(generateSecret()).verify(req.body, req.headers as Record<string, string>),
    ).toThrow();
  });

  it('does not follow a redirect: 3xx is a failed attempt', async () => {
    const rx = await receiver((req, res) =>
      req.url === '/hook'
        ? res.writeHead(301, { location: '/moved' }).end()
        : res.writeHead(200).end(),
    );
    const { o } = await setup(rx, { retry_attempts: 0 });
    const eventId = await publish(o);
    const d = await waitStatus(eventId, 'failed');
    expect(rx.requests.map((r) => r.url)).toEqual(['/hook']);
    expect((await attemptsOf(d.id))[0]).toMatchObject({
      response_status: 301,
      error: 'redirect_not_followed',
    });
  });

  it('honours Retry-After on 429 instead of the backoff', async () => {
    const rx = await receiver((_r, res, n) =>
      n === 1 ? res.writeHead(429, { 'retry-after': '300' }).end() : res.writeHead(200).end(),
    );
    // Backoff alone would wait 3600 scaled seconds = 3.6 s; Retry-After asks for 300 → 300 ms.
    const { o } = await setup(rx, { retry_delay_seconds: 3600 });
    const eventId = await publish(o);
    await waitStatus(eventId, 'succeeded', 3000);
    const [a, b] = rx.requests.map((r) => r.at);
    expect(b - a).toBeGreaterThanOrEqual(295);
    expect(b - a).toBeLessThan(2500);
  });

  it('times out on a receiver that hangs, and records it', async () => {
    const rx = await receiver(() => {}); // never answers
    const { o } = await setup(rx, { timeout_seconds: 5, retry_attempts: 0 });
    const eventId = await publish(o);
    const d = await waitStatus(eventId, 'failed');
    const [a] = await attemptsOf(d.id);
    expect(a).toMatchObject({ error: 'timeout', response_status: null });
    expect(a.duration_ms).toBeGreaterThanOrEqual(450);
  });

  it('stores only the first 4 KiB of a 10 MB answer', async () => {
    const rx = await receiver((_r, res) => {
      res.writeHead(200);
      res.on('error', () => {});
      res.end(Buffer.alloc(10 * 1024 * 1024, 'y'));
    });
    const { o } = await setup(rx);
    const eventId = await publish(o);
    const d = await waitStatus(eventId, 'succeeded');
    const [a] = await attemptsOf(d.id);
    expect(a.response_body).toHaveLength(4096);
  });

  it('marks a delivery failed once its attempts are exhausted and tells subscribers of hookline.delivery.exhausted', async () => {
    const rx = await receiver((_r, res) => res.writeHead(503).end());
    const ops = await receiver();
    const { o, hook } = await setup(rx, { retry_attempts: 2, retry_delay_seconds: 10 });
    await o.admin('POST', '/webhooks', {
      name: 'ops',
      url: ops.url,
      events: ['hookline.delivery.exhausted'],
    });
    const eventId = await publish(o);
    const d = await waitStatus(eventId, 'failed');
    expect(d.attempts).toBe(3);
    expect(rx.requests).toHaveLength(3);
    const [note] = await ops.waitFor(1);
    expect(JSON.parse(note.body)).toMatchObject({
      type: 'hookline.delivery.exhausted',
      data: {
        delivery_id: d.id,
        webhook_id: hook.id,
        event_id: eventId,
        attempts: 3,
        last_status_code: 503,
      },
    });
    const w = await webhookRow(hook.id);
    expect(w.failure_count).toBe(3);
    expect(w.first_failure_at).not.toBeNull();
    expect(w.is_active).toBe(true);
  });
});

describe('switching webhooks off', () => {
  it('disables a webhook that answers 410, cancels its pending deliveries and says so', async () => {
    let gone = false;
    const rx = await receiver((_r, res) => {
      gone = true;
      res.writeHead(410).end();
    });
    const ops = await receiver();
    const { o, hook } = await setup(rx, { ordering: 'fifo' });
    await o.admin('POST', '/webhooks', { name: 'ops', url: ops.url, events: ['hookline.*'] });
    const first = await publish(o);
    const second = await publish(o); // held behind the fifo head, then cancelled
    await waitStatus(first, 'failed');
    expect(gone).toBe(true);
    expect((await waitStatus(second, 'cancelled')).attempts).toBe(0);
    const w = await webhookRow(hook.id);
    expect(w.is_active).toBe(false);
    expect(w.disabled_reason).toMatch(/410/);
    const [note] = await ops.waitFor(1);
    expect(JSON.parse(note.body)).toMatchObject({
      type: 'hookline.webhook.disabled',
      data: { webhook_id: hook.id },
    });
    const shown = await o.admin('GET', `/webhooks/${hook.id}`);
    expect(shown.body).toMatchObject({
      is_active: false,
      disabled_reason: expect.stringMatching(/410/),
    });
  });

  it('disables a webhook whose deliveries have all failed for disableAfterDays', async () => {
    const rx = await receiver((_r, res) => res.writeHead(500).end());
    const { o, hook } = await setup(rx, { retry_attempts: 0 });
    await t.db.query(
      `UPDATE webhooks SET failure_count = 40, first_failure_at = now() - interval '6 days' WHERE id = $1`,
      [hook.id],
    );
    await publish(o);
    await until(async () => (await webhookRow(hook.id)).is_active === false);
    expect((await webhookRow(hook.id)).disabled_reason).toMatch(/failed for 5 days/);
  });

  it('cancels deliveries of a webhook switched off before they went out', async () => {
    const rx = await receiver();
    const { o, hook } = await setup(rx);
    await worker.stop({ drainMs: 1000 });
    const eventId = await publish(o);
    await o.admin('PATCH', `/webhooks/${hook.id}`, { is_active: false });
    worker = await startTestWorker(t, { random: () => 0.5 });
    expect((await waitStatus(eventId, 'cancelled')).attempts).toBe(0);
    expect(rx.requests).toHaveLength(0);
  });

  it('tells subscribers when a failing webhook recovers, and resets its failure count', async () => {
    const rx = await receiver((_r, res, n) => res.writeHead(n === 1 ? 500 : 200).end());
    const ops = await receiver();
    const { o, hook } = await setup(rx, { retry_delay_seconds: 10 });
    await o.admin('POST', '/webhooks', {
      name: 'ops',
      url: ops.url,
      events: ['hookline.webhook.recovered'],
    });
    const eventId = await publish(o);
    await waitStatus(eventId, 'succeeded');
    const [note] = await ops.waitFor(1);
    expect(JSON.parse(note.body)).toMatchObject({
      type: 'hookline.webhook.recovered',
      data: { webhook_id: hook.id, failed_attempts: 1 },
    });
    expect((await webhookRow(hook.id)).failure_count).toBe(0);
  });
});

describe('ordering and pacing', () => {
  it('delivers a fifo webhook one at a time in event order, a failing head holding the rest', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const rx = await receiver(async (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const n = JSON.parse(req.body).data.n;
      // The head (n = 0) fails twice before it succeeds.
      const failsSoFar = rx.requests.filter((r) => JSON.parse(r.body).data.n === 0).length;
      res.writeHead(n === 0 && failsSoFar <= 2 ? 500 : 200).end();
    });
    const { o } = await setup(rx, { ordering: 'fifo', retry_delay_seconds: 20 });
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) ids.push(await publish(o, { n }));
    await rx.waitFor(10);
    await until(async () =>
      (await Promise.all(ids.map(deliveryOf))).every((d) => d.status === 'succeeded'),
    );
    expect(rx.requests.map((r) => JSON.parse(r.body).data.n)).toEqual([
      0, 0, 0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(maxInFlight).toBe(1);
  });

  it('keeps to rate_limit_per_second', async () => {
    const rx = await receiver();
    const { o } = await setup(rx, { rate_limit_per_second: 5 });
    const res = await o.publisher('POST', '/events/batch', {
      events: Array.from({ length: 9 }, (_, n) => ({
        event_type: 'thing.happened',
        payload: { n },
      })),
    });
    expect(res.status).toBe(202);
    await rx.waitFor(9, 10_000);
    const times = rx.requests.map((r) => r.at).sort((a, b) => a - b);
    // A burst of 5 (one second's worth), then one every 200 ms: the 9th 800 ms after the burst was sent
    // (less the time the burst's first connections took). Unlimited, all 9 arrive within a few ms.
    expect(times[8] - times[0]).toBeGreaterThanOrEqual(500);
    expect(times.filter((x) => x - times[0] < 150).length).toBeLessThanOrEqual(6);
  });
});

describe('metrics', () => {
  it('counts deliveries by outcome and observes attempt durations', async () => {
    const succeeded =
      (await t.metrics.deliveries.get()).values.find((v) => v.labels.outcome === 'succeeded')
        ?.value ?? 0;
    expect(succeeded).toBeGreaterThan(0);
    const text = await t.metrics.registry.metrics();
    expect(text).toMatch(/hookline_attempt_duration_seconds_count \d+/);
    expect(text).toMatch(/hookline_deliveries_total\{outcome="retrying"\} \d+/);
  });
});
