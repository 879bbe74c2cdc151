import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type ApiCall, type OrgFixture, type TestApp } from '../support/app.js';
import { fillPath, operations, sampleOf, type Operation } from '../support/openapi.js';

// Walks /openapi.json: every route with a path parameter is called by organization A with
// organization B's real ids, and must answer exactly as it does for an id that does not exist
// (404 for an admin; for other roles, whatever that role gets for a missing id). A route added
// later is walked too; one with a parameter this file cannot fill fails the test until it can.

let t: TestApp;
let a: OrgFixture;
let b: OrgFixture;
const MARKER = 'b_only_marker_7f3k';
const ids = {
  eventType: '',
  webhook: '',
  event: '',
  delivery: '',
  key: '',
  adminKey: '',
  secret: '',
  relay: '',
  tenant: '',
  portalSession: '',
};
// Routes that create or update by the caller's own id (docs/tenants.md): A naming an id B
// also uses makes A's own tenant, never touches B's. Checked at the end instead of walked.
const upsertsByOwnId = new Set([
  'PUT /tenants/{tenant_id}',
  'POST /tenants/{tenant_id}/portal-sessions',
]);
/** Every answer A got in this file, to check none carries B's data. */
const seenByA: string[] = [];

/** B's id for the resource named by the path segment before the parameter, and a missing one of the same shape. */
function idsFor(op: Operation, param: string): { theirs: string; missing: string } {
  const segments = op.path.split('/');
  const resource = segments[segments.indexOf(`{${param}}`) - 1];
  const table: Record<string, { theirs: string; missing: string }> = {
    'event-types': { theirs: ids.eventType, missing: 'nobody.has_this' },
    webhooks: { theirs: ids.webhook, missing: 'wh_0000000000aaaaaaaaaaaaaaaa' },
    deliveries: { theirs: ids.delivery, missing: 'dlv_0000000000aaaaaaaaaaaaaaaa' },
    events: { theirs: ids.event, missing: 'evt_0000000000aaaaaaaaaaaaaaaa' },
    'api-keys': { theirs: ids.key, missing: 'key_0000000000aaaaaaaaaaaaaaaa' },
    relay: { theirs: ids.relay, missing: 'wh_0000000000aaaaaaaaaaaaaaaa' },
    tenants: { theirs: ids.tenant, missing: 'nobody-has-this-tenant' },
    'portal-sessions': { theirs: ids.portalSession, missing: 'ps_0000000000aaaaaaaaaaaaaaaa' },
  };
  const found = table[resource];
  if (!found)
    throw new Error(
      `${op.method} ${op.path}: no resource of another organization is known for {${param}}; add "${resource}" to this test`,
    );
  return found;
}

/** B's value for a query parameter that names a resource (…_id, event_type). */
function queryValueFor(op: Operation, name: string): string | undefined {
  const table: Record<string, string> = {
    webhook_id: ids.webhook,
    target_id: ids.webhook,
    key_id: ids.adminKey,
    event_id: ids.event,
    delivery_id: ids.delivery,
    event_type: ids.eventType,
    tenant_id: ids.tenant,
  };
  if (name in table) return table[name];
  if (name.endsWith('_id'))
    throw new Error(`${op.method} ${op.path}: query ${name} names a resource; add it to this test`);
  return undefined;
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

async function call(who: ApiCall, op: Operation, path: string) {
  const res = await who(op.method, path, bodyFor(op));
  seenByA.push(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  return res;
}

beforeAll(async () => {
  t = await createTestApp();
  a = t.org;
  b = await t.newOrg();
  expect((await a.admin('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
  await a.admin('POST', '/webhooks', { name: 'mine', url: 'http://127.0.0.1:9/', events: ['*'] });
  // B's things, each marked so that a leak into any answer to A is visible.
  ids.eventType = `${MARKER}.created`;
  expect(
    (await b.admin('POST', '/event-types', { name: ids.eventType, description: MARKER })).status,
  ).toBe(201);
  const hook = await b.admin('POST', '/webhooks', {
    name: MARKER,
    url: 'http://127.0.0.1:9/',
    events: ['*'],
    ordering: 'fifo',
  });
  ids.webhook = hook.body.id;
  ids.secret = hook.body.secret;
  const ev = await b.publisher('POST', '/events', {
    event_type: ids.eventType,
    payload: { marker: MARKER },
  });
  ids.event = ev.body.id;
  const { rows } = await t.db.query<{ id: string }>(
    'SELECT id FROM deliveries WHERE event_id = $1',
    [ids.event],
  );
  ids.delivery = rows[0].id;
  ids.key = (await b.admin('POST', '/api-keys', { role: 'viewer', name: MARKER })).body.id;
  // B's relay webhook (hookline listen), made after the event so B's deliveries stay as they are.
  ids.relay = (
    await b.admin('POST', '/relay', {
      session: MARKER,
      secret: 'whsec_' + Buffer.alloc(32, 9).toString('base64'),
      events: [ids.eventType],
    })
  ).body.id;
  ids.tenant = 'b-only-tenant';
  expect((await b.admin('PUT', `/tenants/${ids.tenant}`, { name: MARKER })).status).toBe(201);
  expect(
    (
      await b.admin('POST', '/webhooks', {
        name: MARKER,
        url: 'http://127.0.0.1:9/',
        events: ['*'],
        tenant_id: ids.tenant,
      })
    ).status,
  ).toBe(201);
  const session = await b.admin('POST', `/tenants/${ids.tenant}/portal-sessions`, {});
  expect(session.status).toBe(201);
  ids.portalSession = session.body.id;
  const keys = await t.db.query<{ id: string }>(
    "SELECT id FROM api_keys WHERE org_id = $1 AND role = 'admin'",
    [b.orgId],
  );
  ids.adminKey = keys.rows[0].id;
});
afterAll(async () => t?.close());

describe('isolation on every route of the OpenAPI document', () => {
  it('walks a document that has the routes with ids', () => {
    const withParams = operations(t.app).filter((o) => o.pathParams.length > 0);
    expect(withParams.length).toBeGreaterThanOrEqual(15);
  });

  it("answers 404 to an admin for another organization's id, on every route with a path parameter", async () => {
    const wrong: string[] = [];
    for (const op of operations(t.app).filter((o) => o.pathParams.length > 0)) {
      if (upsertsByOwnId.has(`${op.method} ${op.path}`)) continue;
      const theirs = Object.fromEntries(op.pathParams.map((p) => [p, idsFor(op, p).theirs]));
      const res = await call(a.admin, op, fillPath(op.path, theirs));
      if (res.status !== 404 || res.body?.error?.code !== 'NOT_FOUND')
        wrong.push(
          `${op.method} ${op.path}: ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`,
        );
    }
    expect(wrong).toEqual([]);
  });

  it('gives viewers and publishers the same answer for another organization’s id as for a missing one', async () => {
    const wrong: string[] = [];
    for (const op of operations(t.app).filter((o) => o.pathParams.length > 0)) {
      const theirs = Object.fromEntries(op.pathParams.map((p) => [p, idsFor(op, p).theirs]));
      const missing = Object.fromEntries(op.pathParams.map((p) => [p, idsFor(op, p).missing]));
      for (const [role, who] of [
        ['viewer', a.viewer],
        ['publisher', a.publisher],
      ] as const) {
        const got = await call(who, op, fillPath(op.path, theirs));
        const none = await call(who, op, fillPath(op.path, missing));
        if (got.status !== none.status || ![403, 404].includes(got.status)) {
          wrong.push(
            `${role} ${op.method} ${op.path}: theirs ${got.status}, missing ${none.status}`,
          );
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('finds nothing of another organization through query filters that name its resources', async () => {
    const wrong: string[] = [];
    for (const op of operations(t.app).filter(
      (o) => o.method === 'GET' && o.pathParams.length === 0,
    )) {
      for (const q of op.query) {
        const value = queryValueFor(op, q.name);
        if (value === undefined) continue;
        const res = await call(a.admin, op, `${op.path}?${q.name}=${encodeURIComponent(value)}`);
        const leaked =
          res.status === 200 && Array.isArray(res.body.data) && res.body.data.length > 0;
        if (leaked || res.status >= 500)
          wrong.push(
            `${op.method} ${op.path}?${q.name}=…: ${res.status}, ${res.body?.data?.length ?? '-'} rows`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('leaves every one of B’s things as it was, and never showed A any of them', async () => {
    expect((await b.admin('GET', `/webhooks/${ids.webhook}`)).body).toMatchObject({
      name: MARKER,
      is_active: true,
    });
    expect((await b.admin('GET', `/webhooks/${ids.webhook}/secret`)).body.secret).toBe(ids.secret);
    expect((await b.admin('GET', `/event-types/${ids.eventType}`)).body.archived).toBe(false);
    const key = (await b.admin('GET', '/api-keys?include_revoked=true&limit=500')).body.data.find(
      (k: { id: string }) => k.id === ids.key,
    );
    expect(key.revoked_at).toBeNull();
    const delivery = await b.admin('GET', `/deliveries/${ids.delivery}`);
    expect(delivery.body).toMatchObject({ status: 'pending', attempts: 0 });
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND key_id NOT IN (SELECT id FROM api_keys WHERE org_id = $1)',
      [b.orgId],
    );
    expect(rows[0].n).toBe(0);
    // A's PUT with B's tenant id made A's own tenant; B's is as it was.
    const mine = await a.admin('PUT', `/tenants/${ids.tenant}`, { name: 'a-side' });
    expect(mine.status).toBe(201);
    expect((await b.admin('GET', `/tenants/${ids.tenant}`)).body.name).toBe(MARKER);
    expect((await b.admin('GET', `/webhooks?tenant_id=${ids.tenant}`)).body.data).toHaveLength(1);
    expect((await a.admin('GET', `/webhooks?tenant_id=${ids.tenant}`)).body.data).toEqual([]);
    const sessions = await b.admin('GET', `/tenants/${ids.tenant}/portal-sessions`);
    expect(sessions.body.data.map((s: { id: string }) => s.id)).toEqual([ids.portalSession]);
    expect(seenByA.length).toBeGreaterThan(50);
    const leaks = seenByA.filter(
      (text) => text.includes(MARKER) || text.includes(ids.secret.slice(6)),
    );
    expect(leaks).toEqual([]);
  });
});
