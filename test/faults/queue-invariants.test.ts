/**
 * Crash-safe queue state: every status transition (pending, sending,
 * succeeded, failed, cancelled, skipped) walked through the real API and the
 * real worker, with the queue's invariants checked over the whole table after
 * each step:
 *  - attempts ≤ 1 + retry_attempts + manual_attempts, and the attempt log agrees;
 *  - a `sending` row holds a lease that has not run out (beyond the reaper's period);
 *  - finished rows hold no lease; a succeeded row's last attempt is its one 2xx;
 *  - a finished row is never sent again by the worker, even when it looks due.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { startTestWorker } from '../support/worker.js';
import { seedDelivery } from '../support/delivery-rows.js';
import {
  startFaultReceiver,
  type FaultMode,
  type FaultReceiver,
} from '../support/fault-receiver.js';
import type { Worker } from '../../src/worker/loop.js';
import { until } from '../support/receiver.js';

// Short enough that the reaper looks every ~3 s, long enough that a live attempt on a loaded
// machine does not outlive its lease (that would be a legitimate at-least-once resend, not a bug).
const LEASE_SECONDS = 10;
let t: TestApp;
let worker: Worker;
let rx: FaultReceiver;
let o: OrgFixture;
/** Finished deliveries as last seen: their attempt counts must never move without a manual retry. */
const finished = new Map<string, { status: string; attempts: number; logged: number }>();

beforeAll(async () => {
  t = await createTestApp({
    retryDelayScale: 0.001,
    timeoutScale: 0.1,
    leaseSeconds: LEASE_SECONDS,
  });
  worker = await startTestWorker(t);
  rx = await startFaultReceiver();
  o = t.org;
  expect((await o.admin('POST', '/event-types', { name: 'queue.step' })).status).toBe(201);
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await rx?.close();
  await t?.close();
});

async function hook(mode: FaultMode, extra: Record<string, unknown> = {}) {
  const url = rx.url(mode);
  const res = await o.admin('POST', '/webhooks', {
    name: 'q',
    url,
    events: ['queue.step'],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, url };
}

async function publish(payload: Record<string, unknown> = {}) {
  const res = await o.publisher('POST', '/events', { event_type: 'queue.step', payload });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

async function deliveryOf(eventId: string, webhookId: string) {
  const { rows } = await t.db.query(
    'SELECT * FROM deliveries WHERE event_id = $1 AND webhook_id = $2',
    [eventId, webhookId],
  );
  return rows[0];
}

async function waitStatus(eventId: string, webhookId: string, status: string, ms = 15_000) {
  await until(
    async () => (await deliveryOf(eventId, webhookId))?.status === status,
    ms,
    async () =>
      `delivery of ${eventId} to be ${status}, is ${JSON.stringify(await deliveryOf(eventId, webhookId))}`,
  );
  return deliveryOf(eventId, webhookId);
}

/** Requests the receiver got for one event on one webhook path. */
const sent = (url: string, eventId: string) => rx.stats(url).ids.get(eventId) ?? 0;

/** Every invariant, over every delivery; returns the violations (empty when all hold). */
async function violations(): Promise<string[]> {
  const out: string[] = [];
  const graceMs = Math.max(200, (LEASE_SECONDS * 1000) / 3) + 1500; // the reaper's period, plus a busy machine
  const { rows } = await t.db.query<{
    id: string;
    status: string;
    attempts: number;
    manual_attempts: number;
    retry_attempts: number;
    is_test: boolean;
    lease_ok: boolean | null;
    lease_expires_at: Date | null;
    worker_id: string | null;
    completed_at: Date | null;
    logged: number;
    last_ok: boolean | null;
    oks: number;
  }>(
    `SELECT d.id, d.status, d.attempts, d.manual_attempts, w.retry_attempts, d.is_test, d.lease_expires_at, d.worker_id, d.completed_at,
            d.lease_expires_at > now() - make_interval(secs => $1) AS lease_ok,
            (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = d.id) AS logged,
            (SELECT a.response_status BETWEEN 200 AND 299 FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempt DESC, a.started_at DESC LIMIT 1) AS last_ok,
            (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = d.id AND a.response_status BETWEEN 200 AND 299) AS oks
       FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id`,
    [graceMs / 1000],
  );
  for (const d of rows) {
    const tag = `${d.id} (${d.status}, attempts ${d.attempts})`;
    if (!d.is_test && d.attempts > 1 + d.retry_attempts + d.manual_attempts)
      out.push(`${tag}: more attempts than 1 + ${d.retry_attempts} + ${d.manual_attempts}`);
    if (!d.is_test && d.logged !== d.attempts) out.push(`${tag}: ${d.logged} attempts logged`);
    if (d.status === 'sending' && (!d.worker_id || !d.lease_ok))
      out.push(
        `${tag}: sending without a live lease (${d.lease_expires_at?.toISOString()}, ${d.worker_id})`,
      );
    if (d.status !== 'sending' && (d.lease_expires_at || d.worker_id))
      out.push(`${tag}: not sending but leased`);
    if (['succeeded', 'failed', 'cancelled', 'skipped'].includes(d.status) && !d.completed_at)
      out.push(`${tag}: finished without completed_at`);
    if (d.status === 'succeeded' && (d.last_ok !== true || d.oks !== 1))
      out.push(`${tag}: succeeded, but ${d.oks} 2xx attempts, last ok ${d.last_ok}`);
    if (d.status !== 'succeeded' && d.oks > 0 && d.status !== 'pending' && d.status !== 'sending')
      out.push(`${tag}: has a 2xx attempt`);
    const before = finished.get(d.id);
    if (before && (before.attempts !== d.attempts || before.logged !== d.logged)) {
      out.push(
        `${tag}: was ${before.status} with ${before.attempts} attempts (${before.logged} logged), sent again`,
      );
    }
    if (['succeeded', 'failed', 'cancelled', 'skipped'].includes(d.status))
      finished.set(d.id, { status: d.status, attempts: d.attempts, logged: d.logged });
    else finished.delete(d.id);
  }
  return out;
}

const invariantsHold = async () => {
  const v = await violations();
  expect(v, v.join('\n')).toEqual([]);
};

/**
 * Makes every finished delivery look due (next_attempt_at in the past), wakes the
 * worker, and waits for a fresh marker event on `marker` to go through: a worker
 * that claimed by time alone would have sent them again by then.
 */
async function tempt(marker: { id: string; url: string }) {
  await t.db.query(
    `UPDATE deliveries SET next_attempt_at = now() - interval '1 minute' WHERE status IN ('succeeded', 'failed', 'cancelled', 'skipped')`,
  );
  worker.wake();
  const m = await publish({ marker: true });
  await until(
    () => sent(marker.url, m) === 1,
    15_000,
    () => 'the marker event to be delivered',
  );
  await waitStatus(m, marker.id, 'succeeded');
}

describe('walking the delivery states', () => {
  let marker: { id: string; url: string };
  beforeAll(async () => {
    marker = await hook({ kind: 'ok' });
  });

  it('pending → sending (leased) → succeeded, and never sent again', async () => {
    const h = await hook({ kind: 'delay', ms: 800 }, { timeout_seconds: 30 });
    const evt = await publish({ step: 'success' });
    const sending = await waitStatus(evt, h.id, 'sending');
    expect(sending.worker_id).toBe(worker.id);
    expect(new Date(sending.lease_expires_at).getTime()).toBeGreaterThan(Date.now());
    await invariantsHold();
    const done = await waitStatus(evt, h.id, 'succeeded');
    expect(done).toMatchObject({
      attempts: 1,
      last_status_code: 200,
      lease_expires_at: null,
      worker_id: null,
    });
    await invariantsHold();
    await tempt(marker);
    expect(sent(h.url, evt)).toBe(1);
    await invariantsHold();
  });

  it('pending → retrying → failed at 1 + retry_attempts; a manual retry grants exactly one more', async () => {
    const h = await hook(
      { kind: 'status', status: 500 },
      { retry_attempts: 2, retry_delay_seconds: 10 },
    );
    const evt = await publish({ step: 'fail' });
    await until(
      async () => (await deliveryOf(evt, h.id))?.attempts >= 1,
      15_000,
      () => 'a first attempt',
    );
    await invariantsHold();
    const failed = await waitStatus(evt, h.id, 'failed');
    expect(failed).toMatchObject({
      attempts: 3,
      manual_attempts: 0,
      last_status_code: 500,
      last_error: 'http_error',
    });
    expect(sent(h.url, evt)).toBe(3);
    await invariantsHold();
    await tempt(marker);
    expect(sent(h.url, evt)).toBe(3);

    const retried = await o.admin('POST', `/deliveries/${failed.id}/retry`);
    expect(retried.status).toBe(200);
    finished.delete(failed.id); // the one legitimate way back
    await until(
      async () => (await deliveryOf(evt, h.id)).attempts === 4,
      15_000,
      () => 'the manual attempt',
    );
    const again = await waitStatus(evt, h.id, 'failed');
    expect(again).toMatchObject({ attempts: 4, manual_attempts: 1 });
    expect(sent(h.url, evt)).toBe(4);
    await invariantsHold();
    await tempt(marker);
    expect(sent(h.url, evt)).toBe(4);
    await invariantsHold();
  });

  it('a webhook disabled while its delivery waits to retry: cancelled, never sent again', async () => {
    const h = await hook(
      { kind: 'status', status: 503 },
      { retry_attempts: 5, retry_delay_seconds: 3600 },
    ); // 3.6 s scaled
    const evt = await publish({ step: 'cancel' });
    await until(
      async () => (await deliveryOf(evt, h.id))?.attempts === 1,
      15_000,
      () => 'a first attempt',
    );
    expect((await deliveryOf(evt, h.id)).status).toBe('pending');
    expect((await o.admin('PATCH', `/webhooks/${h.id}`, { is_active: false })).status).toBe(200);
    // Due now: the worker must look at it and cancel it rather than send.
    await t.db.query(
      `UPDATE deliveries SET next_attempt_at = now() WHERE event_id = $1 AND status = 'pending'`,
      [evt],
    );
    worker.wake();
    const d = await waitStatus(evt, h.id, 'cancelled');
    expect(d.attempts).toBe(1);
    expect(sent(h.url, evt)).toBe(1);
    await invariantsHold();
    // Enabled again: a cancelled delivery stays cancelled.
    rx.setMode(h.url, 'ok');
    expect((await o.admin('PATCH', `/webhooks/${h.id}`, { is_active: true })).status).toBe(200);
    await tempt(marker);
    expect(sent(h.url, evt)).toBe(1);
    await invariantsHold();
  });

  it('fifo: a failing head skipped by an admin is never sent again, and the line behind it moves', async () => {
    const h = await hook(
      { kind: 'status', status: 500 },
      { ordering: 'fifo', retry_attempts: 5, retry_delay_seconds: 3600 },
    );
    const head = await publish({ step: 'head' });
    const next = await publish({ step: 'next' });
    await until(
      async () => (await deliveryOf(head, h.id))?.attempts === 1,
      15_000,
      () => 'the head tried once',
    );
    expect((await deliveryOf(next, h.id)).attempts).toBe(0); // held behind the head
    await invariantsHold();
    rx.setMode(h.url, 'ok');
    const headRow = await deliveryOf(head, h.id);
    expect((await o.admin('POST', `/deliveries/${headRow.id}/skip`)).status).toBe(200);
    await waitStatus(next, h.id, 'succeeded');
    expect((await deliveryOf(head, h.id)).status).toBe('skipped');
    await tempt(marker);
    expect(sent(h.url, head)).toBe(1);
    expect(sent(h.url, next)).toBe(1);
    await invariantsHold();
  });

  it('a delivery left `sending` by a dead worker goes back to the queue once its lease ends, and is delivered', async () => {
    const h = await hook({ kind: 'ok' });
    // Not due, so the live worker cannot claim it before it is made to look orphaned.
    const id = await seedDelivery(t.db, o.orgId, h.id, {
      status: 'pending',
      eventType: 'queue.step',
      nextAttemptAt: new Date(Date.now() + 3_600_000),
    });
    // What a worker killed mid-request leaves behind: claimed, leased to it, never recorded.
    await t.db.query(
      `UPDATE deliveries SET worker_id = 'dead-worker', lease_expires_at = now() + interval '300 milliseconds', next_attempt_at = now() WHERE id = $1`,
      [id],
    );
    const started = Date.now();
    await until(
      async () =>
        (await t.db.query('SELECT status FROM deliveries WHERE id = $1', [id])).rows[0].status ===
        'succeeded',
      15_000,
      () => 'the orphaned delivery to be reaped and delivered',
    );
    // Reaped within about one reaper period after the lease ended, not after a long wait.
    expect(Date.now() - started).toBeLessThan(
      300 + Math.max(200, (LEASE_SECONDS * 1000) / 3) + 3_000,
    );
    const { rows } = await t.db.query(
      'SELECT attempts, worker_id, lease_expires_at FROM deliveries WHERE id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ attempts: 1, worker_id: null, lease_expires_at: null });
    await invariantsHold();
  });
});
