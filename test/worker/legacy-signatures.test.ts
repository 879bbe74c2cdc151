import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startPythonReceiver, type PythonReceiver } from '../support/python-receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';
import { verify, verifySignature } from '../../sdk/index.js';

// Receivers written before Hookline keep working: an imported plain secret (keyed by its
// UTF-8 bytes) and the legacy x-webhook-signature in the form they check, through real
// deliveries to receivers on loopback, verified by code that is not Hookline's.
const PLAIN = 'fastapi-design-secret:0123456789abcdef';
const ROTATED = 'the-next-imported-secret-0123456789';

let t: TestApp;
let worker: Worker;
let o: OrgFixture;
let rx: Receiver;
let py: PythonReceiver;

beforeAll(async () => {
  t = await createTestApp({
    retryDelayScale: 0.001,
    encryptionKey: Buffer.alloc(32, 3).toString('base64'),
  });
  worker = await startTestWorker(t, { random: () => 0.5 });
  o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
  rx = await startReceiver();
  py = await startPythonReceiver(PLAIN);
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await py?.close();
  await rx?.close();
  await t?.close();
});

async function hook(url: string, extra: Record<string, unknown>): Promise<string> {
  const res = await o.admin('POST', '/webhooks', {
    name: 'legacy receiver',
    url,
    events: ['ticket.created'],
    retry_attempts: 0,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Publishes one event to exactly `webhookId` (the others are paused) and waits for its outcome. */
async function deliverTo(webhookId: string) {
  const { rows: active } = await t.db.query<{ id: string }>(
    'SELECT id FROM webhooks WHERE org_id = $1 AND is_active',
    [o.orgId],
  );
  for (const { id } of active)
    if (id !== webhookId) await o.admin('PATCH', `/webhooks/${id}`, { is_active: false });
  await o.admin('PATCH', `/webhooks/${webhookId}`, { is_active: true });
  const pub = await o.publisher('POST', '/events', {
    event_type: 'ticket.created',
    payload: { ticket: 42, subject: 'Printer on fire' },
  });
  expect(pub.status).toBe(202);
  expect(pub.body.deliveries).toBe(1);
  const row = async () =>
    (await t.db.query('SELECT status FROM deliveries WHERE event_id = $1', [pub.body.id])).rows[0];
  await until(async () => ['succeeded', 'failed'].includes((await row())?.status), 15_000);
  return (await row()).status as string;
}

describe('legacy_signature with an imported plain secret, through real deliveries', () => {
  it('body: the FastAPI design’s Python verifier accepts it; the timestamped form it refuses', async () => {
    const body = await hook(py.url, { secret: PLAIN, legacy_signature: 'body' });
    expect(await deliverTo(body)).toBe('succeeded');
    expect(py.verdicts).toEqual(['verified']);
    // The same receiver refuses what it was not written for: the check is real.
    const timestamped = await hook(py.url, { secret: PLAIN });
    expect(await deliverTo(timestamped)).toBe('failed');
    expect(py.verdicts).toEqual(['verified', 'rejected']);
  });

  it('body: @octokit/webhooks-methods verifies x-webhook-signature, the SDK the Standard Webhooks one', async () => {
    const id = await hook(rx.url, { secret: PLAIN, legacy_signature: 'body' });
    const before = rx.requests.length;
    expect(await deliverTo(id)).toBe('succeeded');
    const req = rx.requests[before];
    const signature = String(req.headers['x-webhook-signature']);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await octokitVerify(PLAIN, req.body, signature)).toBe(true);
    expect(await octokitVerify(PLAIN, `${req.body} `, signature)).toBe(false);
    expect(verify(req.body, req.headers, PLAIN)).toMatchObject({ type: 'ticket.created' });
  });

  it('timestamped (the default) with a plain secret: the SDK verifies the legacy headers alone', async () => {
    const id = await hook(rx.url, { secret: PLAIN });
    const before = rx.requests.length;
    expect(await deliverTo(id)).toBe('succeeded');
    const { headers, body } = rx.requests[before];
    const legacyOnly = {
      'x-webhook-timestamp': String(headers['x-webhook-timestamp']),
      'x-webhook-signature': String(headers['x-webhook-signature']),
    };
    expect(verifySignature(body, legacyOnly, PLAIN).scheme).toBe('legacy');
    expect(await octokitVerify(PLAIN, body, legacyOnly['x-webhook-signature'])).toBe(false);
  });

  it('none: no x-webhook-signature, the Standard Webhooks signature still there', async () => {
    const id = await hook(rx.url, { secret: PLAIN, legacy_signature: 'none' });
    const before = rx.requests.length;
    expect(await deliverTo(id)).toBe('succeeded');
    const { headers, body } = rx.requests[before];
    expect(headers).not.toHaveProperty('x-webhook-signature');
    expect(headers['x-webhook-event']).toBe('ticket.created');
    expect(verifySignature(body, headers, PLAIN).scheme).toBe('standard');
  });

  it('a rotation to an imported secret signs with both during the grace; legacy with the new one', async () => {
    const id = await hook(rx.url, { secret: PLAIN, legacy_signature: 'body' });
    const rotated = await o.admin('POST', `/webhooks/${id}/rotate-secret`, {
      secret: ROTATED,
      grace_seconds: 3600,
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.secret).toBe(ROTATED);
    expect((await o.admin('GET', `/webhooks/${id}/secret`)).body.secret).toBe(ROTATED);
    const before = rx.requests.length;
    expect(await deliverTo(id)).toBe('succeeded');
    const { headers, body } = rx.requests[before];
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifySignature(body, headers, ROTATED).scheme).toBe('standard');
    expect(verifySignature(body, headers, PLAIN).scheme).toBe('standard');
    expect(await octokitVerify(ROTATED, body, String(headers['x-webhook-signature']))).toBe(true);
  });
});
