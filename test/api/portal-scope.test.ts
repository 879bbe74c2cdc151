import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, createTestApp, type ApiCall, type TestApp } from '../support/app.js';
import { fillPath, operations, sampleOf, type Operation } from '../support/openapi.js';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';

// Walks /openapi.json with portal session tokens (docs/tenants.md, "Portal scope"): a route the
// portal may use answers for the token's own tenant only (another tenant's ids and the
// organization's own are 404), every other route is 403, read-only sessions make no change
// and see no secret, and expired or revoked sessions are 401. A route added later is closed to
// portal tokens until it declares otherwise, and this walk finds it.

let t: TestApp;
const MARKER = 'b_tenant_marker_q8';
/** What a read-write session may call; everything else must be 403. */
const portalMay = new Set([
  'GET /me',
  'GET /webhooks',
  'POST /webhooks',
  'GET /webhooks/{id}',
  'PATCH /webhooks/{id}',
  'DELETE /webhooks/{id}',
  'GET /webhooks/{id}/secret',
  'POST /webhooks/{id}/rotate-secret',
  'POST /webhooks/{id}/replay',
  'POST /webhooks/{id}/test',
  'POST /webhooks/{id}/circuit/reset',
  'GET /webhooks/{id}/stats',
  'GET /webhooks/{id}/deliveries',
  'GET /deliveries',
  'GET /deliveries/{id}',
  'POST /deliveries/{id}/retry',
  'GET /stats',
  'GET /stats/webhooks',
  'GET /event-types',
  'GET /event-types/{name}',
  'POST /filters/test',
  'POST /transformations/simulate',
]);
/** The editors' helpers change nothing, so a read-only session may call them too. */
const readOnlyMay = new Set(
  [...portalMay].filter(
    (op) =>
      (op.startsWith('GET ') && op !== 'GET /webhooks/{id}/secret') ||
      op === 'POST /filters/test' ||
      op === 'POST /transformations/simulate',
  ),
);

const ids = {
  aWebhook: '',
  aDelivery: '',
  bWebhook: '',
  bDelivery: '',
  bSecret: '',
  orgWebhook: '',
  orgDelivery: '',
};
let tokenA = '';
let readOnlyA = '';
let sessionA = '';
let asA: ApiCall;
let asReadOnly: ApiCall;
const seenByA: string[] = [];

async function mint(tenant: string, body: Record<string, unknown> = {}) {
  const res = await t.org.admin('POST', `/tenants/${tenant}/portal-sessions`, body);
  expect(res.status).toBe(201);
  return res.body as { id: string; token: string; url: string; expires_at: string };
}

const hook = (name: string, tenant_id?: string) => ({
  name,
  url: 'http://127.0.0.1:9/',
  events: ['ticket.created'],
  ...(tenant_id ? { tenant_id } : {}),
});

async function publishFor(tenant: string | undefined): Promise<string> {
  const ev = await t.org.publisher('POST', '/events', {
    event_type: 'ticket.created',
    payload: { marker: tenant === 'tenant-b' ? MARKER : 'x' },
    ...(tenant ? { tenant_id: tenant } : {}),
  });
  expect(ev.body.deliveries).toBe(1);
  const { rows } = await t.db.query<{ id: string }>(
    'SELECT id FROM deliveries WHERE event_id = $1',
    [ev.body.id],
  );
  return rows[0].id;
}

function bodyFor(op: Operation): unknown {
  if (op.method === 'GET' || op.method === 'DELETE') return undefined;
  return (
    sampleOf(op.body, {
      event_type: 'ticket.created',
      url: 'http://127.0.0.1:9/',
      events: ['ticket.created'],
      role: 'viewer',
    }) ?? {}
  );
}

const fillUnknown = (path: string) => path.replace(/\{[^}]+\}/g, 'x_unknown');

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  await t.org.admin('POST', '/event-types', { name: 'ticket.old' });
  await t.org.admin('DELETE', '/event-types/ticket.old');
  await t.org.admin('PUT', '/tenants/tenant-a', { name: 'Tenant A' });
  await t.org.admin('PUT', '/tenants/tenant-b', { name: MARKER });
  ids.aWebhook = (await t.org.admin('POST', '/webhooks', hook('a', 'tenant-a'))).body.id;
  const b = await t.org.admin('POST', '/webhooks', hook(MARKER, 'tenant-b'));
  ids.bWebhook = b.body.id;
  ids.bSecret = b.body.secret;
  ids.orgWebhook = (await t.org.admin('POST', '/webhooks', hook(MARKER))).body.id;
  ids.aDelivery = await publishFor('tenant-a');
  ids.bDelivery = await publishFor('tenant-b');
  ids.orgDelivery = await publishFor(undefined);
  const s = await mint('tenant-a');
  tokenA = s.token;
  sessionA = s.id;
  readOnlyA = (await mint('tenant-a', { read_only: true })).token;
  asA = caller(t.app, tokenA);
  asReadOnly = caller(t.app, readOnlyA);
});
afterAll(async () => t?.close());

describe('portal session tokens on every route of the OpenAPI document', () => {
  it('are hlp_ tokens with a checksum, in a URL fragment', async () => {
    expect(tokenA).toMatch(/^hlp_[0-9A-Za-z]{46}$/);
    const s = await mint('tenant-a', { expires_in: 60 });
    expect(s.url).toBe(`http://127.0.0.1:8080/portal#token=${s.token}`);
    expect(Date.parse(s.expires_at) - Date.now()).toBeLessThanOrEqual(61_000);
    const { rows } = await t.db.query('SELECT * FROM portal_sessions WHERE id = $1', [s.id]);
    expect(JSON.stringify(rows)).not.toContain(s.token);
    const bad = tokenA.slice(0, -1) + (tokenA.endsWith('A') ? 'B' : 'A');
    expect((await t.as(bad)('GET', '/webhooks')).status).toBe(401);
  });

  it('are 403 on every route not open to the portal, and reach the others', async () => {
    const wrong: string[] = [];
    for (const op of operations(t.app)) {
      const name = `${op.method} ${op.path}`;
      const res = await asA(op.method, fillUnknown(op.path), bodyFor(op));
      seenByA.push(JSON.stringify(res.body));
      if (portalMay.has(name) ? res.status === 403 : res.status !== 403)
        wrong.push(`${name}: ${res.status} ${JSON.stringify(res.body).slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('make no change and see no secret when read-only', async () => {
    const wrong: string[] = [];
    for (const op of operations(t.app)) {
      const name = `${op.method} ${op.path}`;
      // The session's own real ids where the route takes them, so the answer is not a plain 404.
      const real = !op.pathParams.every((p) => p === 'id' || p === 'name')
        ? fillUnknown(op.path)
        : op.path.startsWith('/deliveries/{id}')
          ? fillPath(op.path, { id: ids.aDelivery })
          : fillPath(op.path, { id: ids.aWebhook, name: 'ticket.created' });
      const res = await asReadOnly(op.method, real, bodyFor(op));
      if (readOnlyMay.has(name) ? res.status === 403 || res.status >= 500 : res.status !== 403)
        wrong.push(`${name}: ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect((await asReadOnly('GET', `/webhooks/${ids.aWebhook}`)).status).toBe(200);
  });

  it("answers 404 for another tenant's and the organization's own ids, on every open route", async () => {
    const wrong: string[] = [];
    for (const op of operations(t.app)) {
      const name = `${op.method} ${op.path}`;
      if (!portalMay.has(name) || op.pathParams.length === 0) continue;
      const resource = op.path.split('/')[1];
      const theirs: Record<string, string[]> = {
        webhooks: [ids.bWebhook, ids.orgWebhook],
        deliveries: [ids.bDelivery, ids.orgDelivery],
        'event-types': ['ticket.old', 'hookline.webhook.disabled'],
      };
      if (!theirs[resource]) throw new Error(`${name}: add "${resource}" to this test`);
      for (const id of theirs[resource]) {
        const param = op.pathParams[0];
        const res = await asA(op.method, fillPath(op.path, { [param]: id }), bodyFor(op));
        seenByA.push(JSON.stringify(res.body));
        if (res.status !== 404 || res.body.error.code !== 'NOT_FOUND')
          wrong.push(`${name} with ${id}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lists and counts only its own tenant, whatever tenant_id it asks for', async () => {
    for (const path of ['/webhooks', '/deliveries']) {
      for (const q of ['', '?tenant_id=tenant-b']) {
        const res = await asA('GET', `${path}${q}`);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeGreaterThan(0);
        for (const row of res.body.data) expect(row.tenant_id).toBe('tenant-a');
        seenByA.push(JSON.stringify(res.body));
      }
    }
    const stats = await asA('GET', '/stats?tenant_id=tenant-b');
    expect(stats.body.total).toBe(1);
    const types = await asA('GET', '/event-types?include_archived=true&limit=500');
    expect(types.body.data.map((e: { name: string }) => e.name)).toEqual(['ticket.created']);
  });

  it('creates webhooks for its own tenant only, with every URL rule', async () => {
    const made = await asA('POST', '/webhooks', hook('mine'));
    expect(made.status).toBe(201);
    expect(made.body.tenant_id).toBe('tenant-a');
    const same = await asA('POST', '/webhooks', hook('mine too', 'tenant-a'));
    expect(same.status).toBe(201);
    const other = await asA('POST', '/webhooks', hook('theirs', 'tenant-b'));
    expect(other.status).toBe(422);
    expect(other.body.error.details[0].field).toBe('tenant_id');
    const ops = await asA('POST', '/webhooks', { ...hook('ops'), events: ['hookline.*'] });
    expect(ops.status).toBe(422);
    const bad = await asA('POST', '/webhooks', { ...hook('bad'), url: 'ftp://example.com/' });
    expect(bad.status).toBe(422);
    expect((await asA('GET', `/webhooks/${made.body.id}/secret`)).body.secret).toBe(
      made.body.secret,
    );
    expect((await asReadOnly('GET', `/webhooks/${made.body.id}/secret`)).status).toBe(403);
    const retried = await asA('POST', `/deliveries/${ids.aDelivery}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.tenant_id).toBe('tenant-a');
    const audit = await t.org.admin('GET', `/audit-log?target_id=${made.body.id}`);
    expect(audit.body.data[0].key_id).toBe(sessionA);
  });

  it('tells the portal who it is, with the organization’s portal settings', async () => {
    await t.org.admin('PATCH', '/portal-settings', {
      title: 'Acme hooks',
      accent_color: '#112233',
    });
    const me = await asReadOnly('GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body.portal).toMatchObject({
      tenant_id: 'tenant-a',
      tenant_name: 'Tenant A',
      read_only: true,
      settings: { title: 'Acme hooks', accent_color: '#112233', logo_url: null },
    });
    expect((await t.org.viewer('GET', '/me')).body.portal).toBeNull();
  });

  it('are 401 once expired, revoked, or their tenant switched off or deleted', async () => {
    const expired = await mint('tenant-a', { expires_in: 60 });
    expect((await t.as(expired.token)('GET', '/webhooks')).status).toBe(200);
    await t.db.query(
      "UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE id = $1",
      [expired.id],
    );
    expect((await t.as(expired.token)('GET', '/webhooks')).status).toBe(401);

    const revoked = await mint('tenant-a');
    const listed = await t.org.admin('GET', '/tenants/tenant-a/portal-sessions?limit=500');
    expect(listed.body.data.map((s: { id: string }) => s.id)).toContain(revoked.id);
    expect(JSON.stringify(listed.body)).not.toContain('hlp_');
    expect((await t.org.admin('DELETE', `/portal-sessions/${revoked.id}`)).status).toBe(204);
    expect((await t.as(revoked.token)('GET', '/webhooks')).status).toBe(401);
    expect((await t.org.admin('DELETE', `/portal-sessions/${revoked.id}`)).status).toBe(404);

    const c = await mint('tenant-c');
    expect((await t.as(c.token)('GET', '/webhooks')).status).toBe(200);
    await t.org.admin('PATCH', '/tenants/tenant-c', { is_active: false });
    await t.org.admin('PATCH', '/tenants/tenant-c', { is_active: true });
    expect((await t.as(c.token)('GET', '/webhooks')).status).toBe(401);
    const d = await mint('tenant-c');
    await t.org.admin('DELETE', '/tenants/tenant-c');
    expect((await t.as(d.token)('GET', '/webhooks')).status).toBe(401);
    expect((await t.org.admin('POST', '/tenants/tenant-c/portal-sessions', {})).status).toBe(201);
  });

  it('never write the token or its URL to the server log', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      { write: (line: string) => void lines.push(line) },
    ) as unknown as FastifyBaseLogger;
    const logged = await createTestApp({}, { logger });
    try {
      const s = await logged.org.admin('POST', '/tenants/logged/portal-sessions', {});
      expect(s.status).toBe(201);
      const as = logged.as(s.body.token);
      expect((await as('GET', '/me')).status).toBe(200);
      expect((await as('GET', '/api-keys')).status).toBe(403);
      await logged.app.inject({ method: 'GET', url: '/portal', headers: { referer: 'x' } });
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.filter((l) => l.includes(s.body.token.slice(4)))).toEqual([]);
    } finally {
      await logged.close();
    }
  });

  it('are rate-limited per session', async () => {
    const small = await createTestApp({ portalRateLimitPerMinute: 3 });
    try {
      const one = await small.org.admin('POST', '/tenants/x/portal-sessions', {});
      const two = await small.org.admin('POST', '/tenants/x/portal-sessions', {});
      const first = small.as(one.body.token);
      for (let i = 0; i < 3; i++) expect((await first('GET', '/webhooks')).status).toBe(200);
      const limited = await first('GET', '/webhooks');
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect((await small.as(two.body.token)('GET', '/webhooks')).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it("left tenant B's and the organization's things as they were, and never showed them", async () => {
    expect((await t.org.admin('GET', `/webhooks/${ids.bWebhook}`)).body.name).toBe(MARKER);
    expect((await t.org.admin('GET', `/webhooks/${ids.orgWebhook}`)).status).toBe(200);
    expect((await t.org.admin('GET', `/webhooks/${ids.bWebhook}/secret`)).body.secret).toBe(
      ids.bSecret,
    );
    expect((await t.org.admin('GET', `/deliveries/${ids.bDelivery}`)).body.attempts).toBe(0);
    expect(seenByA.length).toBeGreaterThan(30);
    expect(seenByA.filter((x) => x.includes(MARKER) || x.includes(ids.bSecret))).toEqual([]);
  });
});
