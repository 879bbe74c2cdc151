/**
 * Receivers that misbehave on purpose (docs/receiving.md): each fault of the
 * fault receiver against one HTTP attempt, then end to end through the worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deliveryDispatcher,
  MAX_RESPONSE_BYTES,
  sendAttempt,
  type AttemptMessage,
  type AttemptTarget,
} from '../../src/worker/send.js';
import { nextAttemptDelayMs } from '../../src/core/retry.js';
import { generateSecret } from '../../src/core/signing.js';
import { testConfig } from '../support/config.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';
import { until } from '../support/receiver.js';
import {
  ONE_GIB,
  startFaultReceiver,
  type FaultMode,
  type FaultReceiver,
  type ModeName,
} from '../support/fault-receiver.js';

const dispatcher = deliveryDispatcher(testConfig());
const message: AttemptMessage = {
  eventId: 'evt_0000000000faultsfaultsfa',
  eventType: 'ticket.created',
  createdAt: new Date(),
  payloadText: '{"n":1}',
};
/** Webhook timeouts shrunk: 5 s × 0.1 = 500 ms. */
const timeoutScale = 0.1;

let rx: FaultReceiver;
beforeAll(async () => {
  rx = await startFaultReceiver();
});
afterAll(async () => rx?.close());

const attempt = (mode: FaultMode | ModeName, over: Partial<AttemptTarget> = {}) => {
  const url = rx.url(mode);
  // 3 s unless a test is about the timeout: a loaded machine must not turn a reset into a timeout.
  return sendAttempt({ url, timeoutSeconds: 30, secrets: [generateSecret()], ...over }, message, {
    dispatcher,
    timeoutScale,
  }).then((r) => ({ r, url }));
};

describe('one attempt against each receiver fault', () => {
  it('a slow answer inside the timeout succeeds; one past it is a timeout, cut at the timeout', async () => {
    const { r: fine } = await attempt({ kind: 'delay', ms: 150 }, { timeoutSeconds: 30 });
    expect(fine).toMatchObject({ ok: true, status: 200, error: null });
    expect(fine.durationMs).toBeGreaterThanOrEqual(140);
    const { r: slow } = await attempt({ kind: 'delay', ms: 5_000 }, { timeoutSeconds: 5 });
    expect(slow).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(slow.durationMs).toBeGreaterThanOrEqual(450);
    expect(slow.durationMs).toBeLessThan(4_000);
  });

  it('headers trickled a byte at a time never hold an attempt past its timeout', async () => {
    const { r, url } = await attempt(
      { kind: 'trickle-headers', everyMs: 50 },
      { timeoutSeconds: 5 },
    );
    expect(r).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(r.durationMs).toBeLessThan(4_000);
    await rx.waitUntil(
      () => rx.stats(url).closedEarly,
      5_000,
      () => 'the trickling socket to be closed by Hookline',
    );
  });

  it('a body trickled a byte at a time is cut at the deadline: a timeout, though the status line arrived', async () => {
    // The status line comes at once; the 1,000 bytes would take 20 s; the whole attempt has 500 ms.
    const { r, url } = await attempt(
      { kind: 'trickle-body', bytes: 1_000, everyMs: 20 },
      { timeoutSeconds: 5 },
    );
    expect(r).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(r.durationMs).toBeGreaterThanOrEqual(450);
    expect(r.durationMs).toBeLessThan(4_000);
    await rx.waitUntil(
      () => rx.stats(url).closedEarly,
      5_000,
      () => 'the trickling socket to be closed by Hookline',
    );
  });

  it('a TCP reset is connection_reset', async () => {
    const { r } = await attempt('reset');
    expect(r).toMatchObject({ ok: false, status: null, error: 'connection_reset' });
  });

  it('a connection closed in the middle of the headers is a failed attempt without a status', async () => {
    const { r } = await attempt('close-mid-headers');
    expect(r.ok).toBe(false);
    expect(r.status).toBeNull();
    expect(['connection_reset', 'invalid_response']).toContain(r.error);
  });

  it('bytes that are not HTTP are invalid_response', async () => {
    const { r } = await attempt('garbage');
    expect(r).toMatchObject({ ok: false, status: null, error: 'invalid_response' });
  });

  it('a redirect to a private address is not followed (3xx is a failed attempt; nothing is fetched from the Location)', async () => {
    const url = rx.url({ kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' });
    const r = await sendAttempt({ url, timeoutSeconds: 30, secrets: [generateSecret()] }, message, {
      dispatcher,
      timeoutScale,
    });
    expect(r).toMatchObject({ ok: false, status: 302, error: 'redirect_not_followed' });
    expect(r.errorDetail).toContain('169.254.169.254');
    // Observable proof that no redirect is followed: a 307 pointing at a loopback path of this receiver
    // (allowed in --dev) is never requested.
    const target = rx.url('ok');
    const back = rx.url({ kind: 'redirect', status: 307, location: target });
    const r2 = await sendAttempt(
      { url: back, timeoutSeconds: 30, secrets: [generateSecret()] },
      message,
      { dispatcher, timeoutScale },
    );
    expect(r2).toMatchObject({ ok: false, status: 307, error: 'redirect_not_followed' });
    expect(rx.stats(back).requests).toBe(1);
    expect(rx.stats(target).requests).toBe(0);
  });

  it('410, 429 and 503 are http_error with their status and Retry-After kept', async () => {
    expect((await attempt({ kind: 'status', status: 410 })).r).toMatchObject({
      ok: false,
      status: 410,
      error: 'http_error',
    });
    const { r: r429 } = await attempt({ kind: 'retry-after', status: 429, retryAfter: '7' });
    expect(r429).toMatchObject({ status: 429, error: 'http_error', retryAfter: '7' });
    const date = new Date(Date.now() + 120_000).toUTCString();
    const { r: r503 } = await attempt({ kind: 'retry-after', status: 503, retryAfter: date });
    expect(r503).toMatchObject({ status: 503, error: 'http_error', retryAfter: date });
    // What the worker then schedules (the retry helper it uses).
    expect(
      nextAttemptDelayMs({
        attempts: 1,
        retryDelaySeconds: 60,
        status: 429,
        retryAfter: r429.retryAfter,
      }),
    ).toBe(7_000);
    const fromDate = nextAttemptDelayMs({
      attempts: 1,
      retryDelaySeconds: 60,
      status: 503,
      retryAfter: r503.retryAfter,
    });
    expect(fromDate).toBeGreaterThan(115_000);
    expect(fromDate).toBeLessThanOrEqual(120_000);
  });

  it('a 1 GB answer is cut after 4 KiB: the socket is closed early and memory stays flat', async () => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const { r, url } = await attempt({ kind: 'huge', bytes: ONE_GIB }, { timeoutSeconds: 60 });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.responseBody).toHaveLength(MAX_RESPONSE_BYTES);
    const s = rx.stats(url);
    await rx.waitUntil(
      () => s.closedEarly,
      10_000,
      () => `the 1 GB stream to be cut (${s.bytesWritten} bytes written)`,
    );
    // Socket buffers hold a few MB at most; reading the whole body would be 1 GiB.
    expect(s.bytesWritten).toBeLessThan(64 * 1024 * 1024);
    const growth = process.memoryUsage().rss - rssBefore;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('end to end: a real delivery through the worker to each fault', () => {
  let t: TestApp;
  let worker: Worker;
  let n = 0;
  // retry_delay_seconds 3600 → 36 s: no second attempt can land while a test reads the first one's state.
  const scale = 0.01;
  beforeAll(async () => {
    t = await createTestApp({ retryDelayScale: scale, timeoutScale });
    worker = await startTestWorker(t);
  });
  afterAll(async () => {
    await worker?.stop({ drainMs: 1000 });
    await t?.close();
  });

  /**
   * A webhook of its own on `mode`, one event published to it; resolves once its first attempt is recorded
   * and applied to the webhook's health, which the worker writes in a second statement just after the outcome.
   */
  async function deliverOnce(mode: FaultMode | ModeName, extra: Record<string, unknown> = {}) {
    const type = `fault.c${++n}`;
    expect((await t.org.admin('POST', '/event-types', { name: type })).status).toBe(201);
    const url = rx.url(mode);
    const hook = await t.org.admin('POST', '/webhooks', {
      name: type,
      url,
      events: [type],
      retry_attempts: 3,
      retry_delay_seconds: 3600,
      timeout_seconds: 30,
      ...extra,
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const evt = await t.org.publisher('POST', '/events', { event_type: type, payload: { mode } });
    expect(evt.status).toBe(202);
    await until(
      async () =>
        (await t.db.query('SELECT attempts FROM deliveries WHERE event_id = $1', [evt.body.id]))
          .rows[0]?.attempts >= 1 &&
        (await t.db.query('SELECT last_triggered_at FROM webhooks WHERE id = $1', [hook.body.id]))
          .rows[0].last_triggered_at !== null,
      30_000,
      () => `the first attempt to ${JSON.stringify(mode)}`,
    );
    const delivery = (
      await t.db.query('SELECT * FROM deliveries WHERE event_id = $1', [evt.body.id])
    ).rows[0];
    const attempt = (
      await t.db.query('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt', [
        delivery.id,
      ])
    ).rows[0];
    const webhook = (await t.db.query('SELECT * FROM webhooks WHERE id = $1', [hook.body.id]))
      .rows[0];
    /** ms from the attempt's start to the next one scheduled. */
    const retryIn =
      new Date(delivery.next_attempt_at).getTime() - new Date(attempt.started_at).getTime();
    return { url, delivery, attempt, webhook, retryIn };
  }

  /** Backoff after attempt 1: 3600 s × 2^0 ± 20%, scaled: 28.8–43.2 s. */
  const expectBackoff = (ms: number) => {
    expect(ms).toBeGreaterThanOrEqual(36_000 * 0.8 - 50);
    expect(ms).toBeLessThanOrEqual(36_000 * 1.2 + 3_000);
  };

  // Webhook timeouts are 30 s × 0.1 = 3 s, but 5 s × 0.1 = 500 ms where the timeout is the subject.
  const failures: Array<[string, FaultMode | ModeName, string, number | null, number?]> = [
    ['a receiver slower than the timeout', { kind: 'delay', ms: 5_000 }, 'timeout', null, 5],
    [
      'headers trickled past the timeout',
      { kind: 'trickle-headers', everyMs: 50 },
      'timeout',
      null,
      5,
    ],
    ['a TCP reset', 'reset', 'connection_reset', null],
    ['bytes that are not HTTP', 'garbage', 'invalid_response', null],
    [
      'a redirect to a private address',
      { kind: 'redirect', location: 'http://10.0.0.1/admin' },
      'redirect_not_followed',
      302,
    ],
    ['a 503 without Retry-After', { kind: 'status', status: 503 }, 'http_error', 503],
  ];
  for (const [what, mode, error, status, timeout = 30] of failures) {
    it(`${what}: attempt stored as ${error}, retry on the backoff, failure counted`, async () => {
      const { delivery, attempt, webhook, retryIn } = await deliverOnce(mode, {
        timeout_seconds: timeout,
      });
      expect(attempt).toMatchObject({ attempt: 1, error, response_status: status });
      expect(delivery).toMatchObject({
        status: 'pending',
        attempts: 1,
        last_error: error,
        last_status_code: status,
        lease_expires_at: null,
      });
      expectBackoff(retryIn);
      expect(webhook).toMatchObject({ is_active: true, failure_count: 1, disabled_reason: null });
      expect(webhook.first_failure_at).not.toBeNull();
    });
  }

  it('a connection closed mid-headers: a failed attempt without status, retried on the backoff', async () => {
    const { delivery, attempt, retryIn } = await deliverOnce('close-mid-headers');
    expect(['connection_reset', 'invalid_response']).toContain(attempt.error);
    expect(attempt.response_status).toBeNull();
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expectBackoff(retryIn);
  });

  it('a slow answer inside the timeout succeeds and resets nothing', async () => {
    const { delivery, attempt, webhook } = await deliverOnce({ kind: 'delay', ms: 200 });
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200 });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(190);
    expect(webhook).toMatchObject({ failure_count: 0, is_active: true });
    expect(webhook.last_success_at).not.toBeNull();
  });

  it('a body trickled a byte at a time: the attempt ends at the deadline as a timeout and is retried', async () => {
    const { delivery, attempt, url, retryIn } = await deliverOnce(
      { kind: 'trickle-body', bytes: 10_000, everyMs: 20 },
      { timeout_seconds: 5 },
    );
    expect(attempt).toMatchObject({ error: 'timeout', response_status: null });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(450);
    expect(attempt.duration_ms).toBeLessThan(4_000);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expectBackoff(retryIn);
    await rx.waitUntil(() => rx.stats(url).closedEarly, 5_000);
  });

  it('429 with Retry-After in seconds sets the next attempt instead of the backoff', async () => {
    const { delivery, attempt, retryIn } = await deliverOnce({
      kind: 'retry-after',
      status: 429,
      retryAfter: '1200',
    });
    expect(attempt).toMatchObject({ response_status: 429, error: 'http_error' });
    expect(attempt.response_headers['retry-after']).toBe('1200');
    expect(delivery.status).toBe('pending');
    // 1200 s scaled = 12 s; the backoff would be ≥ 28.8 s.
    expect(retryIn).toBeGreaterThanOrEqual(11_900);
    expect(retryIn).toBeLessThan(20_000);
  });

  it('503 with Retry-After as an HTTP date sets the next attempt from that date', async () => {
    const date = new Date(Date.now() + 1_800_000).toUTCString(); // 1800 s ahead → 18 s scaled
    const { delivery, attempt, retryIn } = await deliverOnce({
      kind: 'retry-after',
      status: 503,
      retryAfter: date,
    });
    expect(attempt).toMatchObject({ response_status: 503, error: 'http_error' });
    expect(delivery.status).toBe('pending');
    expect(retryIn).toBeGreaterThanOrEqual(17_000);
    expect(retryIn).toBeLessThan(27_000);
  });

  it('410 Gone fails the delivery and disables the webhook at once, with a reason', async () => {
    const { delivery, attempt, webhook, url } = await deliverOnce({ kind: 'status', status: 410 });
    expect(attempt).toMatchObject({ response_status: 410, error: 'http_error' });
    await until(
      async () =>
        (await t.db.query('SELECT is_active FROM webhooks WHERE id = $1', [webhook.id])).rows[0]
          .is_active === false,
      10_000,
    );
    const w = (await t.db.query('SELECT * FROM webhooks WHERE id = $1', [webhook.id])).rows[0];
    expect(w.disabled_reason).toMatch(/410/);
    expect(w.failure_count).toBe(1);
    expect(
      (await t.db.query('SELECT status, attempts FROM deliveries WHERE id = $1', [delivery.id]))
        .rows[0],
    ).toEqual({ status: 'failed', attempts: 1 });
    expect(rx.stats(url).requests).toBe(1);
  });

  it('a 1 GB answer: delivered, 4 KiB stored, the socket cut early, memory flat', async () => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const { delivery, attempt, url } = await deliverOnce(
      { kind: 'huge', bytes: ONE_GIB },
      { timeout_seconds: 120 },
    );
    expect(delivery.status).toBe('succeeded');
    expect(attempt.response_body).toHaveLength(MAX_RESPONSE_BYTES);
    const s = rx.stats(url);
    await rx.waitUntil(
      () => s.closedEarly,
      10_000,
      () => `the 1 GB stream to be cut (${s.bytesWritten} bytes written)`,
    );
    expect(s.bytesWritten).toBeLessThan(64 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });
});
