import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let webhookId: string;
let viewerKeyId: string;

/** Every /api/v1 operation the OpenAPI document lists (so routes added later are covered too). */
function operations(): Array<{ method: string; path: string }> {
  const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
  const out: Array<{ method: string; path: string }> = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const method of Object.keys(ops)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
        out.push({ method: method.toUpperCase(), path: path.slice('/api/v1'.length) });
    }
  }
  return out;
}

// docs/api.md, "Authentication and roles": a publisher may publish events and read event types, nothing else
// (and ask who it is, which the admin UI needs to pick what to show).
const publisherMay = new Set([
  'POST /events',
  'POST /events/batch',
  'GET /event-types',
  'GET /event-types/{name}',
  'GET /me',
  // docs/tenants.md: publishers may read tenants (an application server checks what it registered).
  'GET /tenants',
  'GET /tenants/{tenant_id}',
]);
// GETs that reveal credentials or the audit trail, or that take work (the relay's long-poll
// claims deliveries under a lease): admin only. A new one belongs here, deliberately.
const adminOnlyReads = new Set([
  'GET /api-keys',
  'GET /webhooks/{id}/secret',
  'GET /audit-log',
  'GET /relay/{id}/next',
  'GET /tenants/{tenant_id}/portal-sessions',
]);

// POSTs that compute an answer and change nothing: a viewer may try a filter or a transformation.
const readOnlyPosts = new Set(['POST /filters/test', 'POST /transformations/simulate']);

const fill = (path: string) => path.replace(/\{[^}]+\}/g, 'x_unknown');

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  webhookId = (
    await t.org.admin('POST', '/webhooks', { name: 'w', url: 'http://127.0.0.1:9/', events: ['*'] })
  ).body.id;
  const { rows } = await t.db.query<{ id: string }>(
    "SELECT id FROM api_keys WHERE org_id = $1 AND role = 'viewer'",
    [t.org.orgId],
  );
  viewerKeyId = rows[0].id;
});
afterAll(async () => t?.close());

describe('roles on every route', () => {
  it('covers the routes that exist today', () => {
    const names = operations().map((o) => `${o.method} ${o.path}`);
    for (const expected of [
      'GET /webhooks',
      'POST /webhooks',
      'GET /webhooks/{id}/secret',
      'DELETE /api-keys/{id}',
      'PATCH /event-types/{name}',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('answers 401 without a key, with an unknown key, and with a mistyped one', async () => {
    const bad = [
      undefined,
      'hk_' + 'A'.repeat(46),
      'not-a-key',
      t.org.keys.admin.slice(0, -1) + (t.org.keys.admin.endsWith('A') ? 'B' : 'A'),
    ];
    for (const { method, path } of operations()) {
      for (const key of bad) {
        const res = await t.as(key)(
          method as 'GET',
          fill(path),
          method === 'GET' || method === 'DELETE' ? undefined : {},
        );
        expect(res.status, `${method} ${path} with ${key}`).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('gives viewers every GET but the admin-only ones, and nothing that changes state', async () => {
    for (const { method, path } of operations()) {
      const res = await t.org.viewer(
        method as 'GET',
        fill(path),
        method === 'GET' || method === 'DELETE' ? undefined : {},
      );
      const name = `${method} ${path}`;
      if ((method === 'GET' && !adminOnlyReads.has(name)) || readOnlyPosts.has(name))
        expect(res.status, name).not.toBe(403);
      else {
        expect(res.status, name).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      }
    }
  });

  it('gives publishers only publishing and the event type catalog', async () => {
    for (const { method, path } of operations()) {
      const res = await t.org.publisher(
        method as 'GET',
        fill(path),
        method === 'GET' || method === 'DELETE' ? undefined : {},
      );
      const name = `${method} ${path}`;
      if (publisherMay.has(name)) expect(res.status, name).not.toBe(403);
      else expect(res.status, name).toBe(403);
    }
  });

  it('never answers 403 to an admin', async () => {
    for (const { method, path } of operations()) {
      const res = await t.org.admin(
        method as 'GET',
        fill(path),
        method === 'GET' || method === 'DELETE' ? undefined : {},
      );
      expect(res.status, `${method} ${path}`).not.toBe(403);
    }
  });

  it('lets each role do what it may on real resources', async () => {
    expect((await t.org.viewer('GET', `/webhooks/${webhookId}`)).status).toBe(200);
    expect((await t.org.viewer('GET', '/event-types/ticket.created')).status).toBe(200);
    expect((await t.org.publisher('GET', '/event-types/ticket.created')).status).toBe(200);
    expect((await t.org.viewer('GET', '/me')).body).toMatchObject({
      role: 'viewer',
      org_name: 'default',
    });
    expect((await t.org.viewer('GET', '/api-keys')).status).toBe(403);
    expect((await t.org.viewer('DELETE', `/api-keys/${viewerKeyId}`)).status).toBe(403);
    expect((await t.org.viewer('GET', '/me')).status).toBe(200);
  });

  it('a revoked key is refused at once, and a key cannot be revoked by a lesser role', async () => {
    const created = await t.org.admin('POST', '/api-keys', { role: 'viewer', name: 'short-lived' });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await t.as(key)('GET', '/webhooks')).status).toBe(200);
    expect((await t.as(key)('DELETE', `/api-keys/${created.body.id}`)).status).toBe(403);
    expect((await t.org.admin('DELETE', `/api-keys/${created.body.id}`)).status).toBe(200);
    expect((await t.as(key)('GET', '/webhooks')).status).toBe(401);
  });
});
