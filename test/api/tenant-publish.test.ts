import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

// Publish isolation (docs/tenants.md): an event with tenant_id reaches that tenant's active
// webhooks only; one without reaches the organization's own only.

let t: TestApp;
const TENANTS = 1000;

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  await t.org.admin('POST', '/event-types', { name: 'ticket.updated' });
});
afterAll(async () => t?.close());

const hook = (name: string, tenant_id?: string, events = ['*']) => ({
  name,
  url: 'http://127.0.0.1:9/',
  events,
  ...(tenant_id ? { tenant_id } : {}),
});

describe('publishing for tenants', () => {
  it('fans out to the tenant’s webhooks only, and the organization’s events to its own only', async () => {
    const own = (await t.org.admin('POST', '/webhooks', hook('own'))).body.id;
    const a = (await t.org.admin('POST', '/webhooks', hook('a', 'iso-a'))).body.id;
    const b = (await t.org.admin('POST', '/webhooks', hook('b', 'iso-b'))).body.id;
    const pub = (body: Record<string, unknown>) =>
      t.org.publisher('POST', '/events', { event_type: 'ticket.created', payload: {}, ...body });
    expect((await pub({ tenant_id: 'iso-a' })).body.deliveries).toBe(1);
    expect((await pub({})).body.deliveries).toBe(1);
    expect((await pub({ tenant_id: 'never-registered' })).body.deliveries).toBe(0);
    // The transactional path (an idempotency key) fans out the same way.
    const keyed = await pub({ tenant_id: 'iso-b', idempotency_key: 'k1' });
    expect(keyed.body.deliveries).toBe(1);
    const conflict = await pub({ tenant_id: 'iso-a', idempotency_key: 'k1' });
    expect(conflict.status).toBe(409);
    expect((await pub({ tenant_id: 'iso-b', idempotency_key: 'k1' })).status).toBe(200);
    const { rows } = await t.db.query<{ webhook_id: string; tenant_id: string | null }>(
      `SELECT d.webhook_id, e.tenant_id FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.org_id = $1 ORDER BY d.id`,
      [t.org.orgId],
    );
    expect(rows).toEqual([
      { webhook_id: a, tenant_id: 'iso-a' },
      { webhook_id: own, tenant_id: null },
      { webhook_id: b, tenant_id: 'iso-b' },
    ]);
    const events = await t.org.admin('GET', '/events?tenant_id=iso-a');
    expect(events.body.data.map((e: { tenant_id: string }) => e.tenant_id)).toEqual(['iso-a']);
    const deliveries = await t.org.admin('GET', '/deliveries?tenant_id=iso-b');
    expect(deliveries.body.data.map((d: { webhook_id: string }) => d.webhook_id)).toEqual([b]);
    const stats = await t.org.admin('GET', '/stats?tenant_id=iso-a');
    expect(stats.body.total).toBe(1);
  });

  it('records a test send of a tenant’s webhook as an event of that tenant', async () => {
    const id = (await t.org.admin('POST', '/webhooks', hook('tested', 'iso-test'))).body.id;
    const sent = await t.org.admin('POST', `/webhooks/${id}/test`, {});
    expect(sent.status).toBe(200);
    const events = await t.org.admin('GET', '/events?tenant_id=iso-test');
    expect(events.body.data.map((e: { tenant_id: string }) => e.tenant_id)).toEqual(['iso-test']);
  });

  it('gives an inactive tenant no deliveries, and again when it is active', async () => {
    await t.org.admin('POST', '/webhooks', hook('off', 'iso-off'));
    await t.org.admin('PATCH', '/tenants/iso-off', { is_active: false });
    const pub = () =>
      t.org.publisher('POST', '/events/batch', {
        events: [{ event_type: 'ticket.created', payload: {}, tenant_id: 'iso-off' }],
      });
    const single = () =>
      t.org.publisher('POST', '/events', {
        event_type: 'ticket.created',
        payload: {},
        tenant_id: 'iso-off',
      });
    expect((await pub()).body.data[0].deliveries).toBe(0);
    expect((await single()).body.deliveries).toBe(0);
    await t.org.admin('PATCH', '/tenants/iso-off', { is_active: true });
    expect((await pub()).body.data[0].deliveries).toBe(1);
    expect((await single()).body.deliveries).toBe(1);
  });

  it(`keeps ${TENANTS} tenants × 2 webhooks apart when published in batches`, async () => {
    const tenantIds = Array.from({ length: TENANTS }, (_, i) => `bulk-${i}`);
    // Tenants and webhooks by SQL: the API's creation path is tested above; this is about fan-out.
    await t.db.query(`INSERT INTO tenants (org_id, id) SELECT $1, unnest($2::text[])`, [
      t.org.orgId,
      tenantIds,
    ]);
    await t.db.query(
      `INSERT INTO webhooks (id, org_id, tenant_id, name, url, events, secret)
       SELECT 'wh_bulk' || lpad(n::text, 5, '0') || k, $1, ($2::text[])[n], 'bulk', 'http://127.0.0.1:9/',
              CASE k WHEN 'a' THEN ARRAY['ticket.created'] ELSE ARRAY['ticket.*'] END, 'whsec_x'
         FROM generate_series(1, $3::int) AS n, unnest(ARRAY['a', 'b']) AS k`,
      [t.org.orgId, tenantIds, TENANTS],
    );
    for (let i = 0; i < TENANTS; i += 500) {
      const res = await t.org.publisher('POST', '/events/batch', {
        events: tenantIds.slice(i, i + 500).map((tenant_id) => ({
          event_type: 'ticket.created',
          payload: { tenant_id },
          tenant_id,
        })),
      });
      expect(res.status).toBe(202);
      for (const e of res.body.data) expect(e.deliveries).toBe(2);
    }
    // bulk-7 is row 8 (arrays are 1-based). ticket.updated reaches only the "ticket.*" webhook of the one tenant it was published for.
    const one = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.updated',
      payload: {},
      tenant_id: 'bulk-7',
    });
    expect(one.body.deliveries).toBe(1);
    const { rows } = await t.db.query<{ n: number; wrong: number; hooks: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE e.tenant_id IS DISTINCT FROM w.tenant_id)::int AS wrong,
              count(DISTINCT d.webhook_id)::int AS hooks
         FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
        WHERE w.id LIKE 'wh_bulk%'`,
    );
    expect(rows[0]).toEqual({ n: 2 * TENANTS + 1, wrong: 0, hooks: 2 * TENANTS });
    const perHook = await t.db.query<{ webhook_id: string; n: number }>(
      `SELECT webhook_id, count(*)::int AS n FROM deliveries WHERE webhook_id LIKE 'wh_bulk%'
        GROUP BY webhook_id HAVING count(*) <> 1`,
    );
    expect(perHook.rows).toEqual([{ webhook_id: 'wh_bulk00008b', n: 2 }]);
  });
});
