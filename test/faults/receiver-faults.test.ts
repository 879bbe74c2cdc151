/**
 * Receivers that misbehave on purpose (SPEC section 4): each fault of the
 * fault receiver against one HTTP attempt, then end to end through the worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryDispatcher, MAX_RESPONSE_BYTES, sendAttempt, type AttemptMessage, type AttemptTarget } from '../../src/worker/attempt.js';
import { nextAttemptDelayMs } from '../../src/core/retry.js';
import { generateSecret } from '../../src/core/signing.js';
import { testConfig } from '../../src/config.js';
import { ONE_GIB, startFaultReceiver, type FaultMode, type FaultReceiver, type ModeName } from '../support/fault-receiver.js';

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
  return sendAttempt({ url, timeoutSeconds: 5, secrets: [generateSecret()], ...over }, message, { dispatcher, timeoutScale }).then(
    (r) => ({ r, url }),
  );
};

describe('one attempt against each receiver fault', () => {
  it('a slow answer inside the timeout succeeds; one past it is a timeout, cut at the timeout', async () => {
    const { r: fine } = await attempt({ kind: 'delay', ms: 150 });
    expect(fine).toMatchObject({ ok: true, status: 200, error: null });
    expect(fine.durationMs).toBeGreaterThanOrEqual(140);
    const { r: slow } = await attempt({ kind: 'delay', ms: 5_000 });
    expect(slow).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(slow.durationMs).toBeGreaterThanOrEqual(450);
    expect(slow.durationMs).toBeLessThan(2_000);
  });

  it('headers trickled a byte at a time never hold an attempt past its timeout', async () => {
    const { r, url } = await attempt({ kind: 'trickle-headers', everyMs: 50 });
    expect(r).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(r.durationMs).toBeLessThan(2_000);
    await rx.waitUntil(() => rx.stats(url).closedEarly, 5_000, () => 'the trickling socket to be closed by Hookline');
  });

  it('a body trickled a byte at a time is cut at the timeout: the attempt ends, the status that arrived counts', async () => {
    const { r, url } = await attempt({ kind: 'trickle-body', bytes: 1_000, everyMs: 20 });
    expect(r.durationMs).toBeLessThan(2_000);
    // The status line arrived (200) before the timeout: the receiver accepted the event.
    expect(r.status).toBe(200);
    expect(r.responseBody!.length).toBeLessThan(1_000);
    await rx.waitUntil(() => rx.stats(url).closedEarly, 5_000, () => 'the trickling socket to be closed by Hookline');
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
    const r = await sendAttempt({ url, timeoutSeconds: 5, secrets: [generateSecret()] }, message, { dispatcher, timeoutScale });
    expect(r).toMatchObject({ ok: false, status: 302, error: 'redirect_not_followed' });
    expect(r.errorDetail).toContain('169.254.169.254');
    // Observable proof that no redirect is followed: a 307 pointing at a loopback path of this receiver
    // (allowed in --dev) is never requested.
    const target = rx.url('ok');
    const back = rx.url({ kind: 'redirect', status: 307, location: target });
    const r2 = await sendAttempt({ url: back, timeoutSeconds: 5, secrets: [generateSecret()] }, message, { dispatcher, timeoutScale });
    expect(r2).toMatchObject({ ok: false, status: 307, error: 'redirect_not_followed' });
    expect(rx.stats(back).requests).toBe(1);
    expect(rx.stats(target).requests).toBe(0);
  });

  it('410, 429 and 503 are http_error with their status and Retry-After kept', async () => {
    expect((await attempt({ kind: 'status', status: 410 })).r).toMatchObject({ ok: false, status: 410, error: 'http_error' });
    const { r: r429 } = await attempt({ kind: 'retry-after', status: 429, retryAfter: '7' });
    expect(r429).toMatchObject({ status: 429, error: 'http_error', retryAfter: '7' });
    const date = new Date(Date.now() + 120_000).toUTCString();
    const { r: r503 } = await attempt({ kind: 'retry-after', status: 503, retryAfter: date });
    expect(r503).toMatchObject({ status: 503, error: 'http_error', retryAfter: date });
    // What the worker then schedules (the retry helper it uses).
    expect(nextAttemptDelayMs({ attempts: 1, retryDelaySeconds: 60, status: 429, retryAfter: r429.retryAfter })).toBe(7_000);
    const fromDate = nextAttemptDelayMs({ attempts: 1, retryDelaySeconds: 60, status: 503, retryAfter: r503.retryAfter });
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
    await rx.waitUntil(() => s.closedEarly, 10_000, () => `the 1 GB stream to be cut (${s.bytesWritten} bytes written)`);
    // Socket buffers hold a few MB at most; reading the whole body would be 1 GiB.
    expect(s.bytesWritten).toBeLessThan(64 * 1024 * 1024);
    const growth = process.memoryUsage().rss - rssBefore;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  });
});
