import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver, type ReceivedRequest } from '../support/receiver.js';
import { auditRows, seedDelivery, seedWebhook } from '../support/delivery-rows.js';
import { MAX_PREVIOUS_SECRETS, REPLAY_BATCH } from '../../src/api/routes/webhook-actions.js';

let t: TestApp;
let receiver: Receiver;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

beforeAll(async () => {
  // With an encryption key, so the test can see that rotated secrets are stored sealed.
  t = await createTestApp({ encryptionKey: randomBytes(32).toString('base64') });
  receiver = await startReceiver();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
});

async function createWebhook(
  url = receiver.url,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; secret: string }> {
  const res = await t.org.admin('POST', '/webhooks', {
    name: 'hook',
    url,
    events: ['ticket.created'],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function verifies(secret: string, req: ReceivedRequest): boolean {
  const h = req.headers as Record<string, string>;
  try {
    new Webhook(secret).verify(req.body, {
      'webhook-id': h['webhook-id'],
      'webhook-timestamp': h['webhook-timestamp'],
      'webhook-signature': h['webhook-signature'],
    });
    return true;
  } catch {
    return false;
  }
}

/** Sends a test through the API and returns the request the receiver got for it. */
async function sendTest(hookId: string): Promise<ReceivedRequest> {
  const before = receiver.requests.length;
  const res = await t.org.admin('POST', `/webhooks/${hookId}/test`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.success).toBe(true);
  return (await receiver.waitFor(before + 1))[before];
}

describe('POST /webhooks/{id}/test', () => {
  it('sends one signed request now and records it as a finished test delivery', async () => {
    const hook = await createWebhook();
    const before = receiver.requests.length;
    const res = await t.org.admin('POST', `/webhooks/${hook.id}/test`, {
      payload: { hello: 'world' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      status_code: 200,
      response_body: 'ok',
      error: null,
    });
    expect(res.body.duration_ms).toBeGreaterThanOrEqual(0);
    const req = receiver.requests[before];
    expect(JSON.parse(req.body)).toMatchObject({
      type: 'ticket.created',
      data: { hello: 'world' },
    });
    expect(verifies(hook.secret, req)).toBe(true);

    const detail = await t.org.admin('GET', `/deliveries/${res.body.delivery_id}`);
    expect(detail.body).toMatchObject({
      is_test: true,
      status: 'succeeded',
      attempts: 1,
      webhook_id: hook.id,
      last_status_code: 200,
    });
    expect(detail.body.attempt_log).toHaveLength(1);
    expect(detail.body.attempt_log[0]).toMatchObject({
      attempt: 1,
      response_status: 200,
      response_body: 'ok',
    });
    expect(detail.body.attempt_log[0].request_headers['webhook-id']).toBe(
      req.headers['webhook-id'],
    );
    // Finished in the same transaction that wrote it: never due for a worker.
    const { rows } = await t.db.query('SELECT status, completed_at FROM deliveries WHERE id = $1', [
      res.body.delivery_id,
    ]);
    expect(rows[0].status).toBe('succeeded');
    expect(rows[0].completed_at).not.toBeNull();
    expect((await auditRows(t.db, t.org.orgId, 'webhook.tested'))[0].target_id).toBe(hook.id);
  });

  it('reports a receiver answering 500 as a failed test with its body', async () => {
    const failing = await startReceiver((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('database down');
    });
    try {
      const hook = await createWebhook(failing.url);
      const res = await t.org.admin('POST', `/webhooks/${hook.id}/test`, {
        event_type: 'custom.ping',
      });
      expect(res.body).toMatchObject({
        success: false,
        status_code: 500,
        response_body: 'database down',
        error: 'http_error',
      });
      expect(JSON.parse(failing.requests[0].body).type).toBe('custom.ping');
      const detail = await t.org.admin('GET', `/deliveries/${res.body.delivery_id}`);
      expect(detail.body).toMatchObject({
        status: 'failed',
        is_test: true,
        last_error: 'http_error',
        next_attempt_at: null,
      });
    } finally {
      await failing.close();
    }
  });

  it('reports an unreachable receiver as connection_refused without a status', async () => {
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    const hook = await createWebhook(url);
    const res = await t.org.admin('POST', `/webhooks/${hook.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: false,
      status_code: null,
      response_body: null,
      error: 'connection_refused',
    });
  });

  it('allows five tests a minute per webhook; the sixth is a 429 with Retry-After', async () => {
    const hook = await createWebhook();
    for (let i = 0; i < 5; i++)
      expect((await t.org.admin('POST', `/webhooks/${hook.id}/test`)).status).toBe(200);
    const sixth = await t.org.admin('POST', `/webhooks/${hook.id}/test`);
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(sixth.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The limit is per webhook: another one may still be tested.
    const other = await createWebhook();
    expect((await t.org.admin('POST', `/webhooks/${other.id}/test`)).status).toBe(200);
  });
});

describe('POST /webhooks/{id}/rotate-secret', () => {
  it('signs with both secrets during the grace period and only the new one after it', async () => {
    const hook = await createWebhook();
    const rotated = await t.org.admin('POST', `/webhooks/${hook.id}/rotate-secret`, {
      grace_seconds: 3600,
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(hook.secret);
    expect(new Date(rotated.body.previous_secret_expires_at).getTime()).toBeGreaterThan(
      Date.now() + 3500_000,
    );
    expect((await t.org.admin('GET', `/webhooks/${hook.id}/secret`)).body.secret).toBe(fresh);

    const during = await sendTest(hook.id);
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(fresh, during)).toBe(true);
    expect(verifies(hook.secret, during)).toBe(true);

    // The old secret is stored encrypted, like the current one.
    const { rows } = await t.db.query(
      'SELECT secret, previous_secrets FROM webhooks WHERE id = $1',
      [hook.id],
    );
    expect(rows[0].secret).toMatch(/^enc:v1:/);
    expect(rows[0].previous_secrets[0].secret).toMatch(/^enc:v1:/);

    // The grace period ends (moved into the past rather than waited for).
    await t.db.query(
      `UPDATE webhooks SET previous_secrets = jsonb_build_array(jsonb_set(previous_secrets->0, '{expires_at}', to_jsonb($2::text)))
        WHERE id = $1`,
      [hook.id, new Date(Date.now() - 1000).toISOString()],
    );
    const after = await sendTest(hook.id);
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(fresh, after)).toBe(true);
    expect(verifies(hook.secret, after)).toBe(false);

    // The next rotation prunes the expired entry and keeps only the one it adds.
    await t.org.admin('POST', `/webhooks/${hook.id}/rotate-secret`);
    const pruned = await t.db.query('SELECT previous_secrets FROM webhooks WHERE id = $1', [
      hook.id,
    ]);
    expect(pruned.rows[0].previous_secrets).toHaveLength(1);
    expect(new Date(pruned.rows[0].previous_secrets[0].expires_at).getTime()).toBeGreaterThan(
      Date.now() + 86000_000,
    );
  });

  it('with grace 0 stops the old secret at once, and audits without any secret', async () => {
    const hook = await createWebhook();
    const rotated = await t.org.admin('POST', `/webhooks/${hook.id}/rotate-secret`, {
      grace_seconds: 0,
    });
    expect(rotated.body.previous_secret_expires_at).toBeNull();
    const req = await sendTest(hook.id);
    expect(verifies(rotated.body.secret, req)).toBe(true);
    expect(verifies(hook.secret, req)).toBe(false);
    const audit = (await auditRows(t.db, t.org.orgId, 'webhook.secret_rotated')).find(
      (a) => a.target_id === hook.id,
    );
    expect(audit?.changes).toEqual({
      grace_seconds: 0,
      secret_imported: false,
      previous_secret_expires_at: null,
    });
    expect(JSON.stringify(audit)).not.toMatch(/whsec_|enc:v1/);
  });

  it('keeps at most MAX_PREVIOUS_SECRETS earlier secrets signing, however often it rotates', async () => {
    const hook = await createWebhook();
    let latest = '';
    for (let i = 0; i < MAX_PREVIOUS_SECRETS + 2; i++) {
      latest = (
        await t.org.admin('POST', `/webhooks/${hook.id}/rotate-secret`, { grace_seconds: 3600 + i })
      ).body.secret;
    }
    const { rows } = await t.db.query('SELECT previous_secrets FROM webhooks WHERE id = $1', [
      hook.id,
    ]);
    expect(rows[0].previous_secrets).toHaveLength(MAX_PREVIOUS_SECRETS);
    const req = await sendTest(hook.id);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(
      MAX_PREVIOUS_SECRETS + 1,
    );
    expect(verifies(latest, req)).toBe(true);
    // The first secrets (shortest grace) were dropped.
    expect(verifies(hook.secret, req)).toBe(false);
  });

  it('refuses a grace period outside 0 to 30 days', async () => {
    const hook = await createWebhook();
    for (const grace_seconds of [-1, 2_592_001, 1.5]) {
      const res = await t.org.admin('POST', `/webhooks/${hook.id}/rotate-secret`, {
        grace_seconds,
      });
      expect(res.status, String(grace_seconds)).toBe(422);
      expect(res.body.error.details[0].field).toBe('grace_seconds');
    }
  });
});

describe('POST /webhooks/{id}/replay', () => {
  it('queues again exactly what the dry run counted, with the manual-retry semantics', async () => {
    const hook = await seedWebhook(t.db, t.org.orgId);
    const { orgId } = t.org;
    const failedOld = await seedDelivery(t.db, orgId, hook, {
      status: 'failed',
      createdAt: hoursAgo(5),
    });
    const failedNew = await seedDelivery(t.db, orgId, hook, {
      status: 'failed',
      createdAt: hoursAgo(1),
    });
    const failedOtherType = await seedDelivery(t.db, orgId, hook, {
      status: 'failed',
      eventType: 'ticket.updated',
      createdAt: hoursAgo(1),
    });
    const succeeded = await seedDelivery(t.db, orgId, hook, {
      status: 'succeeded',
      createdAt: hoursAgo(1),
    });
    const pending = await seedDelivery(t.db, orgId, hook, {
      status: 'pending',
      createdAt: hoursAgo(1),
    });
    await seedDelivery(t.db, orgId, hook, {
      status: 'failed',
      isTest: true,
      createdAt: hoursAgo(1),
    });
    await seedDelivery(t.db, orgId, hook, { status: 'failed', createdAt: hoursAgo(30) });

    const since = hoursAgo(6).toISOString();
    const replay = (body: object) =>
      t.org.admin('POST', `/webhooks/${hook}/replay`, { since, ...body });
    expect((await replay({ dry_run: true })).body).toEqual({ matched: 3 });
    expect((await replay({ dry_run: true, event_type: 'ticket.created' })).body).toEqual({
      matched: 2,
    });
    expect((await replay({ dry_run: true, until: hoursAgo(2).toISOString() })).body).toEqual({
      matched: 1,
    });
    expect((await replay({ dry_run: true, status: 'all' })).body).toEqual({ matched: 4 });

    const res = await replay({ event_type: 'ticket.created' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ queued: 2 });
    const { rows } = await t.db.query<{ id: string; status: string; manual_attempts: number }>(
      'SELECT id, status, manual_attempts FROM deliveries WHERE webhook_id = $1',
      [hook],
    );
    const queued = rows
      .filter((r) => r.manual_attempts === 1)
      .map((r) => r.id)
      .sort();
    expect(queued).toEqual([failedOld, failedNew].sort());
    expect(rows.find((r) => r.id === failedOld)?.status).toBe('pending');
    expect(rows.find((r) => r.id === failedOtherType)?.status).toBe('failed');
    expect(rows.find((r) => r.id === succeeded)?.status).toBe('succeeded');
    expect(rows.find((r) => r.id === pending)?.manual_attempts).toBe(0);
    const audit = (await auditRows(t.db, orgId, 'webhook.replayed'))[0];
    expect(audit).toMatchObject({
      target_id: hook,
      changes: { queued: 2, status: 'failed', event_type: 'ticket.created' },
    });
  });

  it('re-queues a replay bigger than one batch completely, in several transactions', async () => {
    const hook = await seedWebhook(t.db, t.org.orgId);
    const eventId = (
      await t.db.query<{ event_id: string }>('SELECT event_id FROM deliveries WHERE id = $1', [
        await seedDelivery(t.db, t.org.orgId, hook, { status: 'failed', createdAt: hoursAgo(2) }),
      ])
    ).rows[0].event_id;
    const n = REPLAY_BATCH * 2 + 50;
    await t.db.query(
      `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, state, attempts, created_at)
       SELECT 'dlv_bulk' || lpad(g::text, 8, '0'), $1, $2, $3, 'ticket.created', 'failed', 6, now() - interval '1 hour'
         FROM generate_series(1, $4::int) g`,
      [t.org.orgId, hook, eventId, n - 1],
    );
    const since = hoursAgo(3).toISOString();
    expect(
      (await t.org.admin('POST', `/webhooks/${hook}/replay`, { since, dry_run: true })).body,
    ).toEqual({ matched: n });
    expect((await t.org.admin('POST', `/webhooks/${hook}/replay`, { since })).body).toEqual({
      queued: n,
    });
    const { rows } = await t.db.query<{ status: string; c: number }>(
      'SELECT status, count(*)::int AS c FROM deliveries WHERE webhook_id = $1 GROUP BY status',
      [hook],
    );
    expect(rows).toEqual([{ status: 'pending', c: n }]);
  });

  it('needs since, refuses until before since, and refuses to queue for a disabled webhook', async () => {
    const hook = await seedWebhook(t.db, t.org.orgId, { isActive: false });
    const missing = await t.org.admin('POST', `/webhooks/${hook}/replay`, {});
    expect(missing.status).toBe(422);
    expect(missing.body.error.details[0].field).toBe('since');
    const backwards = await t.org.admin('POST', `/webhooks/${hook}/replay`, {
      since: hoursAgo(1).toISOString(),
      until: hoursAgo(2).toISOString(),
    });
    expect(backwards.status).toBe(422);
    expect(
      (
        await t.org.admin('POST', `/webhooks/${hook}/replay`, {
          since: hoursAgo(1).toISOString(),
          dry_run: true,
        })
      ).body,
    ).toEqual({ matched: 0 });
    expect(
      (await t.org.admin('POST', `/webhooks/${hook}/replay`, { since: hoursAgo(1).toISOString() }))
        .status,
    ).toBe(409);
  });
});

describe('roles and organizations', () => {
  it('lets only admins act; another organization gets 404 for every action', async () => {
    const hook = await createWebhook();
    const since = hoursAgo(1).toISOString();
    for (const call of [t.org.viewer, t.org.publisher]) {
      expect((await call('POST', `/webhooks/${hook.id}/test`)).status).toBe(403);
      expect((await call('POST', `/webhooks/${hook.id}/rotate-secret`)).status).toBe(403);
      expect((await call('POST', `/webhooks/${hook.id}/replay`, { since })).status).toBe(403);
    }
    const other = await t.newOrg();
    expect((await other.admin('POST', `/webhooks/${hook.id}/test`)).status).toBe(404);
    expect((await other.admin('POST', `/webhooks/${hook.id}/rotate-secret`)).status).toBe(404);
    expect((await other.admin('POST', `/webhooks/${hook.id}/replay`, { since })).status).toBe(404);
    expect(
      (await other.admin('POST', `/webhooks/${hook.id}/replay`, { since, dry_run: true })).status,
    ).toBe(404);
    // Nothing was sent or changed by those calls.
    expect((await t.org.admin('GET', `/webhooks/${hook.id}/secret`)).body.secret).toBe(hook.secret);
  });
});
