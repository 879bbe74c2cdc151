import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;

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

describe('tenants', () => {
  it('creates with PUT (201), updates with PUT (200) and PATCH, and keeps unsent fields', async () => {
    const created = await t.org.admin('PUT', '/tenants/acme-1', {
      name: 'Acme',
      metadata: { plan: 'pro' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'acme-1',
      name: 'Acme',
      metadata: { plan: 'pro' },
      is_active: true,
    });
    const again = await t.org.admin('PUT', '/tenants/acme-1', { name: 'Acme Inc' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ name: 'Acme Inc', metadata: { plan: 'pro' } });
    const patched = await t.org.admin('PATCH', '/tenants/acme-1', { is_active: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Acme Inc', is_active: false });
    expect((await t.org.admin('PATCH', '/tenants/nobody', { name: 'x' })).status).toBe(404);
    expect((await t.org.viewer('GET', '/tenants/acme-1')).body.name).toBe('Acme Inc');
    expect((await t.org.publisher('GET', '/tenants/acme-1')).status).toBe(200);
    expect((await t.org.viewer('PUT', '/tenants/acme-2', {})).status).toBe(403);
    expect((await t.org.publisher('DELETE', '/tenants/acme-1')).status).toBe(403);
    const audit = await t.org.admin('GET', '/audit-log?target_type=tenant');
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
      'tenant.updated',
      'tenant.updated',
      'tenant.created',
    ]);
  });

  it('refuses bad ids, bad fields and metadata over 4 KiB with a 422 naming the field', async () => {
    for (const id of ['-x', 'a b', 'x'.repeat(65), 'é']) {
      const res = await t.org.admin('PUT', `/tenants/${encodeURIComponent(id)}`, {});
      expect(res.status, id).toBe(422);
      expect(JSON.stringify(res.body.error.details)).toContain('tenant_id');
    }
    const big = await t.org.admin('PUT', '/tenants/big', { metadata: { x: 'y'.repeat(4100) } });
    expect(big.status).toBe(422);
    expect(big.body.error.details[0].field).toBe('metadata');
    const bad = await t.org.admin('PUT', '/tenants/bad', { name: 5, extra: true });
    expect(bad.status).toBe(422);
    expect((await t.org.admin('PUT', '/tenants/ok', { metadata: [] })).status).toBe(422);
    expect((await t.org.admin('GET', '/tenants/big')).status).toBe(404);
  });

  it('lists in cursor pages and finds by a prefix of id or name', async () => {
    for (let i = 0; i < 7; i++)
      await t.org.admin('PUT', `/tenants/list-${i}`, { name: i % 2 ? `Odd ${i}` : `Even ${i}` });
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { body: { data: { id: string }[]; next_cursor: string | null } } =
        await t.org.admin('GET', `/tenants?q=list-&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.data.map((x) => x.id));
      cursor = page.body.next_cursor;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `list-${i}`));
    const odd = await t.org.admin('GET', '/tenants?q=odd');
    expect(odd.body.data.map((x: { id: string }) => x.id)).toEqual(['list-1', 'list-3', 'list-5']);
    expect((await t.org.admin('GET', '/tenants?q=%25')).body.data).toEqual([]);
  });

  it('gives webhooks a fixed tenant_id, creates the tenant implicitly, and filters by it', async () => {
    const made = await t.org.admin('POST', '/webhooks', hook('implicit-1'));
    expect(made.status).toBe(201);
    expect(made.body.tenant_id).toBe('implicit-1');
    expect((await t.org.admin('GET', '/tenants/implicit-1')).body).toMatchObject({
      id: 'implicit-1',
      name: '',
      is_active: true,
    });
    const own = await t.org.admin('POST', '/webhooks', hook());
    expect(own.body.tenant_id).toBeNull();
    const patch = await t.org.admin('PATCH', `/webhooks/${made.body.id}`, { tenant_id: 'other' });
    expect(patch.status).toBe(422);
    expect(JSON.stringify(patch.body.error)).toContain('tenant_id');
    const audit = await t.org.admin('GET', '/audit-log?tenant_id=implicit-1');
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['webhook.created']);
    expect(audit.body.data[0].tenant_id).toBe('implicit-1');
    const list = await t.org.admin('GET', '/webhooks?tenant_id=implicit-1');
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([made.body.id]);
    expect((await t.org.admin('GET', '/webhooks?tenant_id=-bad')).status).toBe(422);
  });

  it('counts every webhook of a tenant against --tenant-webhook-limit', async () => {
    const small = await createTestApp({ tenantWebhookLimit: 2 });
    try {
      await small.org.admin('POST', '/event-types', { name: 'ticket.created' });
      expect((await small.org.admin('POST', '/webhooks', hook('lim'))).status).toBe(201);
      expect((await small.org.admin('POST', '/webhooks', hook('lim'))).status).toBe(201);
      const third = await small.org.admin('POST', '/webhooks', hook('lim'));
      expect(third.status).toBe(422);
      expect(third.body.error.details[0].field).toBe('tenant_id');
      expect((await small.org.admin('POST', '/webhooks', hook('other'))).status).toBe(201);
      expect((await small.org.admin('POST', '/webhooks', hook())).status).toBe(201);
    } finally {
      await small.close();
    }
  });

  it('deletes at once: the webhooks vanish, and the id can be registered again afresh', async () => {
    const w = await t.org.admin('POST', '/webhooks', hook('gone-1'));
    expect((await t.org.admin('DELETE', '/tenants/gone-1')).status).toBe(204);
    expect((await t.org.admin('GET', '/tenants/gone-1')).status).toBe(404);
    expect((await t.org.admin('GET', `/webhooks/${w.body.id}`)).status).toBe(404);
    expect((await t.org.admin('DELETE', '/tenants/gone-1')).status).toBe(404);
    expect((await t.org.admin('PUT', '/tenants/gone-1', { name: 'again' })).status).toBe(201);
    expect((await t.org.admin('GET', '/webhooks?tenant_id=gone-1')).body.data).toEqual([]);
    const ev = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: {},
      tenant_id: 'gone-1',
    });
    expect(ev.body.deliveries).toBe(0);
  });
});
