import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const URL_OK = 'http://127.0.0.1:9/hook';
const SECRET = 'whsec_' + Buffer.alloc(32, 3).toString('base64');
const HEADER_VALUE = 'Bearer sk_live_header_value_that_is_a_credential';

async function auditRows(orgId = t.org.orgId) {
  const { rows } = await t.db.query<{
    action: string;
    target_id: string | null;
    changes: unknown;
    key_id: string | null;
  }>(
    'SELECT action, target_id, changes, key_id FROM audit_log WHERE org_id = $1 ORDER BY created_at, id',
    [orgId],
  );
  return rows;
}

let webhookId: string;
let newKeyId: string;
beforeAll(async () => {
  t = await createTestApp();
  // One of every state change the API offers today; each test below reads the log they left.
  await t.org.admin('POST', '/event-types', { name: 'ticket.created', description: 'opened' });
  await t.org.admin('PATCH', '/event-types/ticket.created', { description: 'a ticket was opened' });
  await t.org.admin('POST', '/event-types', { name: 'ticket.gone' });
  await t.org.admin('DELETE', '/event-types/ticket.gone');
  const key = await t.org.admin('POST', '/api-keys', { role: 'viewer', name: 'auditor' });
  newKeyId = key.body.id;
  await t.org.admin('DELETE', `/api-keys/${newKeyId}`);
  const wh = await t.org.admin('POST', '/webhooks', {
    name: 'Audited',
    url: URL_OK,
    events: ['ticket.created'],
    secret: SECRET,
    custom_headers: { Authorization: HEADER_VALUE },
  });
  expect(wh.status).toBe(201);
  webhookId = wh.body.id;
  expect(
    (
      await t.org.admin('PATCH', `/webhooks/${webhookId}`, {
        name: 'Audited 2',
        custom_headers: { 'X-Token': HEADER_VALUE },
      })
    ).status,
  ).toBe(200);
  expect(
    (await t.org.publisher('POST', '/events', { event_type: 'ticket.created', payload: { n: 1 } }))
      .status,
  ).toBe(202);
  const { rows } = await t.db.query<{ id: string }>(
    'SELECT id FROM deliveries WHERE webhook_id = $1',
    [webhookId],
  );
  expect((await t.org.admin('POST', `/deliveries/${rows[0].id}/retry`)).status).toBe(200);
  expect(
    (await t.org.admin('POST', `/webhooks/${webhookId}/rotate-secret`, { grace_seconds: 60 }))
      .status,
  ).toBe(200);
  expect(
    (
      await t.org.admin('POST', `/webhooks/${webhookId}/replay`, {
        since: '2000-01-01T00:00:00Z',
        status: 'all',
      })
    ).status,
  ).toBe(200);
  expect((await t.org.admin('POST', `/webhooks/${webhookId}/test`, {})).status).toBe(200);
  // A `hookline listen` relay session brings its own secret: it must not reach the log either.
  expect(
    (
      await t.org.admin('POST', '/relay', {
        session: 'audit-test',
        secret: SECRET,
        events: ['ticket.created'],
      })
    ).status,
  ).toBe(200);
  const gone = await t.org.admin('POST', '/webhooks', {
    name: 'Deleted',
    url: URL_OK,
    events: ['ticket.created'],
  });
  expect((await t.org.admin('DELETE', `/webhooks/${gone.body.id}`)).status).toBe(204);
});
afterAll(async () => t?.close());

describe('audit log', () => {
  it('records every state change made through the API, with the key that made it', async () => {
    const rows = await auditRows();
    expect(rows.map((r) => r.action)).toEqual([
      // The first start: made by Hookline itself, so without a key.
      'organization.created',
      'api_key.created',
      'event_type.created',
      'event_type.updated',
      'event_type.created',
      'event_type.archived',
      'api_key.created',
      'api_key.revoked',
      'webhook.created',
      'webhook.updated',
      'delivery.retried',
      'webhook.secret_rotated',
      'webhook.replayed',
      'webhook.tested',
      'webhook.created',
      'webhook.created',
      'webhook.deleted',
    ]);
    const { rows: admin } = await t.db.query<{ id: string }>(
      "SELECT id FROM api_keys WHERE org_id = $1 AND role = 'admin'",
      [t.org.orgId],
    );
    expect(rows.slice(0, 2).map((r) => r.key_id)).toEqual([null, null]);
    for (const r of rows.slice(2)) expect(r.key_id).toBe(admin[0].id);
  });

  it('never stores a secret, an API key or a custom header value', async () => {
    const text = JSON.stringify(await auditRows());
    expect(text).not.toContain('whsec_');
    expect(text).not.toContain('hk_');
    expect(text).not.toContain(SECRET.slice(6));
    expect(text).not.toContain('sk_live');
  });

  it('is served newest first with the changed fields, to admins only', async () => {
    const res = await t.org.admin('GET', '/audit-log');
    expect(res.status).toBe(200);
    const ids = res.body.data.map((e: { id: string }) => e.id);
    expect(ids).toEqual([...ids].sort().reverse());
    const deleted = res.body.data.find((e: { action: string }) => e.action === 'webhook.deleted');
    expect(deleted).toMatchObject({ target_type: 'webhook', changes: { name: 'Deleted' } });
    const updated = res.body.data.find((e: { action: string }) => e.action === 'webhook.updated');
    expect(updated).toMatchObject({ target_id: webhookId, changes: { name: 'Audited 2' } });
    expect(updated.created_at).toMatch(/Z$/);
    expect((await t.org.viewer('GET', '/audit-log')).status).toBe(403);
    expect((await t.org.publisher('GET', '/audit-log')).status).toBe(403);
    expect((await t.as(undefined)('GET', '/audit-log')).status).toBe(401);
  });

  it('filters by action (exact or resource.*), target, key and time', async () => {
    // Sorted: ids order by millisecond, and two quick requests can share one.
    const only = async (qs: string) =>
      (await t.org.admin('GET', `/audit-log?${qs}`)).body.data
        .map((e: { action: string }) => e.action)
        .sort();
    expect(await only('action=api_key.revoked')).toEqual(['api_key.revoked']);
    expect(await only('action=event_type.*')).toEqual([
      'event_type.archived',
      'event_type.created',
      'event_type.created',
      'event_type.updated',
    ]);
    expect(await only(`target_type=webhook&target_id=${webhookId}`)).toEqual([
      'webhook.created',
      'webhook.replayed',
      'webhook.secret_rotated',
      'webhook.tested',
      'webhook.updated',
    ]);
    expect(await only(`target_id=${newKeyId}`)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(await only('key_id=key_nobody')).toEqual([]);
    expect(await only('since=2999-01-01T00:00:00Z')).toEqual([]);
    expect(await only('until=2000-01-01T00:00:00Z')).toEqual([]);
    expect((await only('since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z')).length).toBe(17);
    expect((await t.org.admin('GET', '/audit-log?since=yesterday')).status).toBe(422);
    expect(
      (await t.org.admin('GET', '/audit-log?since=2020-01-02T00:00:00Z&until=2020-01-01T00:00:00Z'))
        .status,
    ).toBe(422);
    expect((await t.org.admin('GET', '/audit-log?colour=red')).status).toBe(422);
  });

  it('pages with cursors without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.org.admin(
        'GET',
        `/audit-log?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.body.data.length).toBeLessThanOrEqual(4);
      seen.push(...res.body.data.map((e: { id: string }) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    const all = (await t.org.admin('GET', '/audit-log?limit=500')).body.data.map(
      (e: { id: string }) => e.id,
    );
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(17);
  });

  it('shows each organization only its own entries', async () => {
    const other = await t.newOrg();
    await other.admin('POST', '/event-types', { name: 'other.thing' });
    const res = await other.admin('GET', '/audit-log');
    expect(res.body.data.map((e: { action: string }) => e.action).sort()).toEqual([
      'event_type.created',
      'organization.created',
    ]);
    expect((await other.admin('GET', `/audit-log?target_id=${webhookId}`)).body.data).toEqual([]);
  });
});
