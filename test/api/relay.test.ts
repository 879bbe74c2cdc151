import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createMetrics } from '../../src/metrics.js';
import { generateSecret } from '../../src/core/signing.js';
import { caller, createTestApp, type TestApp } from '../support/app.js';
import { startReceiver, until } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';

let t: TestApp;
const secret = generateSecret();

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'relay.poked' });
  await t.org.admin('POST', '/event-types', { name: 'other.thing' });
});
afterAll(async () => t?.close());

const start = (session = 's1', extra: Record<string, unknown> = {}) =>
  t.org.admin('POST', '/relay', { session, secret, events: ['relay.*'], ...extra });

const result = (lease: string, status = 200) => ({
  lease,
  ok: status < 300,
  started_at: new Date().toISOString(),
  duration_ms: 3,
  request_headers: { 'webhook-id': 'x' },
  status,
  response_headers: {},
  response_body: 'ok',
  error: status < 300 ? null : 'http_error',
  error_detail: null,
});

describe('relay webhooks (hookline listen)', () => {
  it('creates a relay webhook per session and resumes it with the same id', async () => {
    const first = await start('resume');
    expect(first).toMatchObject({
      status: 200,
      body: {
        id: expect.stringMatching(/^wh_/),
        relay: true,
        created: true,
        is_active: true,
        events: ['relay.*'],
      },
    });
    const again = await start('resume', { events: ['*'] });
    expect(again.body).toMatchObject({ id: first.body.id, created: false, events: ['*'] });
    const { rows } = await t.db.query<{ relay: boolean }>(
      'SELECT relay FROM webhooks WHERE id = $1',
      [first.body.id],
    );
    expect(rows[0].relay).toBe(true);
    expect((await t.org.admin('GET', `/webhooks/${first.body.id}/secret`)).body.secret).toBe(
      secret,
    );
  });

  it('validates what it is given and needs an admin key', async () => {
    const bad = await t.org.admin('POST', '/relay', {
      session: 'x y',
      secret: 'nope',
      events: ['Bad Pattern'],
    });
    expect(bad.status).toBe(422);
    const secretBad = await t.org.admin('POST', '/relay', {
      session: 'ok',
      secret: 'whsec_short',
      events: ['*'],
    });
    expect(secretBad.body.error.details).toEqual([expect.objectContaining({ field: 'secret' })]);
    expect((await t.org.viewer('POST', '/relay', { session: 'v', secret })).status).toBe(403);
    const id = (await start('admin-only')).body.id;
    expect((await t.org.viewer('GET', `/relay/${id}/next?wait=0`)).status).toBe(403);
  });

  it('hands a due delivery out once, under a lease, with what is needed to sign it', async () => {
    const id = (await start('lease')).body.id;
    expect((await t.org.admin('GET', `/relay/${id}/next?wait=0`)).body).toEqual({
      deliveries: [],
      target: null,
    });
    const ev = await t.org.admin('POST', '/events', {
      event_type: 'relay.poked',
      payload: { a: [1, 2] },
    });
    const [a, b] = await Promise.all([
      t.org.admin('GET', `/relay/${id}/next?wait=0`),
      t.org.admin('GET', `/relay/${id}/next?wait=0`),
    ]);
    const got = [...a.body.deliveries, ...b.body.deliveries];
    expect(got).toHaveLength(1);
    const d = got[0];
    expect(d).toMatchObject({
      event_id: ev.body.id,
      event_type: 'relay.poked',
      attempt: 1,
      payload_text: '{"a":[1,2]}',
      lease: expect.stringMatching(/^relay:/),
    });
    const target = (a.body.deliveries.length ? a : b).body.target;
    expect(target).toEqual({ timeout_seconds: 30, custom_headers: {}, secrets: [secret] });
    const { rows } = await t.db.query<{ status: string; worker_id: string; leased: boolean }>(
      'SELECT status, worker_id, lease_expires_at > now() AS leased FROM deliveries WHERE id = $1',
      [d.id],
    );
    expect(rows[0]).toEqual({ status: 'sending', worker_id: d.lease, leased: true });

    const stale = await t.org.admin(
      'POST',
      `/relay/${id}/deliveries/${d.id}/result`,
      result('relay:not-mine'),
    );
    expect([stale.status, stale.body.error.code]).toEqual([409, 'CONFLICT']);
    const done = await t.org.admin(
      'POST',
      `/relay/${id}/deliveries/${d.id}/result`,
      result(d.lease),
    );
    expect(done.body).toEqual({ outcome: 'succeeded', attempt: 1 });
    const again = await t.org.admin(
      'POST',
      `/relay/${id}/deliveries/${d.id}/result`,
      result(d.lease),
    );
    expect(again.status).toBe(409);
    const shown = await t.org.admin('GET', `/deliveries/${d.id}`);
    expect(shown.body).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200 });
    expect(shown.body.attempt_log).toHaveLength(1);
  });

  it('schedules a retry after a failed relayed attempt and gives up after the budget', async () => {
    const id = (await start('retry')).body.id;
    await t.db.query('UPDATE webhooks SET retry_attempts = 1 WHERE id = $1', [id]);
    await t.org.admin('POST', '/events', { event_type: 'relay.poked', payload: {} });
    const first = (await t.org.admin('GET', `/relay/${id}/next?wait=0`)).body.deliveries[0];
    expect(
      (
        await t.org.admin(
          'POST',
          `/relay/${id}/deliveries/${first.id}/result`,
          result(first.lease, 500),
        )
      ).body,
    ).toEqual({ outcome: 'retrying', attempt: 1 });
    const { rows } = await t.db.query<{ status: string; later: boolean }>(
      "SELECT status, next_attempt_at > now() + interval '5 seconds' AS later FROM deliveries WHERE id = $1",
      [first.id],
    );
    expect(rows[0]).toEqual({ status: 'pending', later: true }); // backoff from retry_delay_seconds (10 s ± 20%)
    await t.db.query('UPDATE deliveries SET next_attempt_at = now() WHERE id = $1', [first.id]);
    const second = (await t.org.admin('GET', `/relay/${id}/next?wait=0`)).body.deliveries[0];
    expect(second).toMatchObject({ id: first.id, attempt: 2 });
    expect(
      (
        await t.org.admin(
          'POST',
          `/relay/${id}/deliveries/${first.id}/result`,
          result(second.lease, 503),
        )
      ).body,
    ).toEqual({ outcome: 'failed', attempt: 2 });
  });

  it("records a relayed 410 in the webhook's health and leaves the session on, with no operational event", async () => {
    const id = (await start('gone')).body.id;
    await t.db.query('UPDATE webhooks SET retry_attempts = 0 WHERE id = $1', [id]);
    await t.org.admin('POST', '/events', { event_type: 'relay.poked', payload: {} });
    const d = (await t.org.admin('GET', `/relay/${id}/next?wait=0`)).body.deliveries[0];
    const done = await t.org.admin(
      'POST',
      `/relay/${id}/deliveries/${d.id}/result`,
      result(d.lease, 410),
    );
    expect(done.body).toEqual({ outcome: 'failed', attempt: 1 });
    const hook = (await t.org.admin('GET', `/webhooks/${id}`)).body;
    expect(hook).toMatchObject({ is_active: true, disabled_reason: null, failure_count: 1 });
    expect(hook.last_triggered_at).not.toBeNull();
    const { rows } = await t.db.query(
      "SELECT 1 FROM events WHERE org_id = $1 AND event_type LIKE 'hookline.%' AND payload->>'webhook_id' = $2",
      [t.org.orgId, id],
    );
    expect(rows).toEqual([]);
  });

  it('wakes a waiting long-poll on another API process when an event is published', async () => {
    const id = (await start('wake')).body.id;
    // A second API process on the same database.
    const other = await buildApp({
      db: t.db,
      config: t.config,
      metrics: createMetrics(),
      wake: () => {},
    });
    await other.ready();
    try {
      const began = Date.now();
      const waiting = caller(other, t.org.keys.admin)('GET', `/relay/${id}/next?wait=20`);
      await new Promise((r) => setTimeout(r, 200)); // let it start waiting (its outcome does not depend on this)
      const ev = await t.org.publisher('POST', '/events', {
        event_type: 'relay.poked',
        payload: { woke: true },
      });
      const res = await waiting;
      expect(res.body.deliveries.map((d: { event_id: string }) => d.event_id)).toEqual([
        ev.body.id,
      ]);
      expect(Date.now() - began).toBeLessThan(10_000);
    } finally {
      await other.close();
    }
  });

  it('stops: no more deliveries are handed out until the session starts again', async () => {
    const id = (await start('stop')).body.id;
    expect((await t.org.admin('POST', `/relay/${id}/stop`)).body).toEqual({ stopped: true });
    expect((await t.org.admin('GET', `/webhooks/${id}`)).body.is_active).toBe(false);
    expect((await t.org.admin('GET', `/relay/${id}/next?wait=0`)).status).toBe(409);
    expect((await start('stop')).body).toMatchObject({ id, is_active: true });
  });

  it('is invisible to other organizations and refuses plain webhooks', async () => {
    const id = (await start('private')).body.id;
    const other = await t.newOrg();
    expect((await other.admin('GET', `/relay/${id}/next?wait=0`)).status).toBe(404);
    expect((await other.admin('POST', `/relay/${id}/stop`)).status).toBe(404);
    const plain = await t.org.admin('POST', '/webhooks', {
      name: 'plain',
      url: 'http://127.0.0.1:9/x',
      events: ['*'],
    });
    expect((await t.org.admin('GET', `/relay/${plain.body.id}/next?wait=0`)).status).toBe(404);
  });

  it('is skipped by the worker: a relay delivery waits for its CLI while a normal one is sent', async () => {
    await t.org.admin('POST', '/event-types', { name: 'solo.poked' });
    const id = (await start('worker', { events: ['solo.*'] })).body.id;
    const receiver = await startReceiver();
    const plain = await t.org.admin('POST', '/webhooks', {
      name: 'normal',
      url: receiver.url,
      events: ['solo.poked'],
    });
    const worker = await startTestWorker(t);
    try {
      const ev = await t.org.publisher('POST', '/events', {
        event_type: 'solo.poked',
        payload: { both: true },
      });
      await receiver.waitFor(1);
      await until(
        async () =>
          (
            await t.db.query<{ status: string }>(
              'SELECT status FROM deliveries WHERE webhook_id = $1 AND event_id = $2',
              [plain.body.id, ev.body.id],
            )
          ).rows[0]?.status === 'succeeded',
        10_000,
        () => 'the normal delivery to succeed',
      );
      // The worker has had its chance at the relay delivery (it claims oldest due first): it left it alone.
      const { rows } = await t.db.query<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM deliveries WHERE webhook_id = $1 AND event_id = $2',
        [id, ev.body.id],
      );
      expect(rows[0]).toEqual({ status: 'pending', attempts: 0 });
      expect(receiver.requests).toHaveLength(1);
      const next = await t.org.admin('GET', `/relay/${id}/next?wait=0`);
      expect(next.body.deliveries.map((d: { event_id: string }) => d.event_id)).toEqual([
        ev.body.id,
      ]);
    } finally {
      await worker.stop();
      await receiver.close();
    }
  });
});
