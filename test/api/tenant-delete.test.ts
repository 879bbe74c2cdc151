import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { purgeDeletedWebhooks, purgeIsDue } from '../../src/worker/tenant-purge.js';

// Deleting a tenant answers at once; its webhooks, deliveries and attempts are removed by the
// worker's purge in bounded batches (src/worker/tenant-purge.ts) while the API goes on answering.

let t: TestApp;
const ROWS = 20_000;

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
});
afterAll(async () => t?.close());

const hook = (tenant_id?: string) => ({
  name: 'w',
  url: 'http://127.0.0.1:9/',
  events: ['ticket.created'],
  ...(tenant_id ? { tenant_id } : {}),
});

async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>(sql, params);
  return rows[0].n;
}

describe('deleting a tenant with many deliveries', () => {
  it('answers at once, hides everything, and the purge removes it in batches', async () => {
    const mine = await t.org.admin('POST', '/webhooks', hook('big'));
    const other = await t.org.admin('POST', '/webhooks', hook('stays'));
    const own = await t.org.admin('POST', '/webhooks', hook());
    const ev = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: {},
      tenant_id: 'big',
    });
    expect(ev.body.deliveries).toBe(1);
    await t.db.query(
      `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, state)
       SELECT 'dlv_bulk' || lpad(n::text, 6, '0'), $1, $2, $3, 'ticket.created', 'failed'
         FROM generate_series(1, $4::int) AS n`,
      [t.org.orgId, mine.body.id, ev.body.id, ROWS],
    );
    await t.db.query(
      `INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms)
       SELECT 'att_bulk' || lpad(n::text, 6, '0'), $1, 'dlv_bulk' || lpad(n::text, 6, '0'), $2, 1, now(), 5
         FROM generate_series(1, $3::int) AS n`,
      [t.org.orgId, mine.body.id, ROWS / 2],
    );
    await t.org.admin('POST', '/tenants/big/portal-sessions', {});

    expect((await t.org.admin('DELETE', '/tenants/big')).status).toBe(204);
    // Gone for the API at once, rows still there.
    expect((await t.org.admin('GET', `/webhooks/${mine.body.id}`)).status).toBe(404);
    expect((await t.org.admin('GET', '/deliveries/dlv_bulk000001')).status).toBe(404);
    const listed = await t.org.admin('GET', '/deliveries?limit=500');
    expect(
      listed.body.data.some((d: { webhook_id: string }) => d.webhook_id === mine.body.id),
    ).toBe(false);
    expect(
      await count('SELECT count(*)::int AS n FROM portal_sessions WHERE tenant_id = $1', ['big']),
    ).toBe(0);
    // The id can be registered again, without the old webhooks.
    expect((await t.org.admin('PUT', '/tenants/big', {})).status).toBe(201);
    expect((await t.org.admin('GET', '/webhooks?tenant_id=big')).body.data).toEqual([]);
    const again = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: {},
      tenant_id: 'big',
    });
    expect(again.body.deliveries).toBe(0);

    // Bounded passes; the API answers between them.
    let passes = 0;
    while (await purgeIsDue(t.db)) {
      const r = await purgeDeletedWebhooks(t.db, { batchSize: 2000, maxBatches: 3 });
      expect(r.deliveries + r.attempts).toBeLessThanOrEqual(3 * 2000);
      expect((await t.org.admin('GET', `/webhooks/${other.body.id}`)).status).toBe(200);
      expect(++passes).toBeLessThan(100);
    }
    expect(passes).toBeGreaterThan(3);
    expect(
      await count('SELECT count(*)::int AS n FROM deliveries WHERE webhook_id = $1', [
        mine.body.id,
      ]),
    ).toBe(0);
    expect(
      await count('SELECT count(*)::int AS n FROM delivery_attempts WHERE webhook_id = $1', [
        mine.body.id,
      ]),
    ).toBe(0);
    expect(
      await count('SELECT count(*)::int AS n FROM webhooks WHERE id = $1', [mine.body.id]),
    ).toBe(0);
    expect((await t.org.admin('GET', `/webhooks/${other.body.id}`)).status).toBe(200);
    expect((await t.org.admin('GET', `/webhooks/${own.body.id}`)).status).toBe(200);
    const audit = await t.org.admin('GET', '/audit-log?action=tenant.deleted');
    expect(audit.body.data[0]).toMatchObject({ target_id: 'big', changes: { webhooks: 1 } });
  });
});
