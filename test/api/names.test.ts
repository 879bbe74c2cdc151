import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, createTestApp, type ApiCall, type TestApp } from '../support/app.js';

// Names beside ids: a webhook's created_by_name/updated_by_name and an audit entry's
// actor_name/target_name (src/store/names.ts), so the UI never has to show "key_01m8…".

let t: TestApp;
let deploy: ApiCall;
let deployId: string;
let webhookId: string;

beforeAll(async () => {
  t = await createTestApp();
  const key = await t.org.admin('POST', '/api-keys', { name: 'Deploy bot', role: 'admin' });
  expect(key.status).toBe(201);
  deployId = key.body.id;
  deploy = caller(t.app, key.body.key);
  expect((await deploy('POST', '/event-types', { name: 'order.placed' })).status).toBe(201);
  const hook = await deploy('POST', '/webhooks', {
    name: 'Billing',
    url: 'http://127.0.0.1:9/x',
    events: ['order.placed'],
  });
  expect(hook.status).toBe(201);
  webhookId = hook.body.id;
  // The bootstrap key (named "bootstrap") changes it afterwards.
  expect((await t.org.admin('PATCH', `/webhooks/${webhookId}`, { description: 'x' })).status).toBe(
    200,
  );
  expect((await deploy('PUT', '/tenants/acme-1', { name: 'Acme Inc' })).status).toBeLessThan(300);
});
afterAll(async () => t?.close());

describe('webhooks name the keys that created and last changed them', () => {
  it('in GET /webhooks/{id}, the list and a PATCH answer', async () => {
    const one = await t.org.viewer('GET', `/webhooks/${webhookId}`);
    expect(one.body).toMatchObject({
      created_by: deployId,
      created_by_name: 'Deploy bot',
      updated_by_name: 'bootstrap',
    });
    const list = await t.org.viewer('GET', '/webhooks');
    expect(list.body.data.find((w: any) => w.id === webhookId)).toMatchObject({
      created_by_name: 'Deploy bot',
      updated_by_name: 'bootstrap',
    });
    const patched = await deploy('PATCH', `/webhooks/${webhookId}`, { description: 'y' });
    expect(patched.body).toMatchObject({
      created_by_name: 'Deploy bot',
      updated_by_name: 'Deploy bot',
    });
  });

  it("never shows the organization's key names to a portal session", async () => {
    const hook = await deploy('POST', '/webhooks', {
      name: 'Acme hook',
      url: 'http://127.0.0.1:9/x',
      events: ['order.placed'],
      tenant_id: 'acme-1',
    });
    const session = await t.org.admin('POST', '/tenants/acme-1/portal-sessions', {});
    expect(session.status).toBe(201);
    const seen = await caller(t.app, session.body.token)('GET', `/webhooks/${hook.body.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.created_by_name).toBeNull();
    expect(seen.body.created_by).toBeNull();
    expect(JSON.stringify(seen.body)).not.toContain('Deploy bot');
    expect(JSON.stringify(seen.body)).not.toContain(hook.body.created_by);
  });
});

describe('audit entries name their actor and target', () => {
  const entries = async (q: string) =>
    (await t.org.admin('GET', `/audit-log?${q}`)).body.data as any[];

  it('the key by its name, and a webhook, key, tenant and event type by theirs', async () => {
    const [created] = await entries(`action=webhook.created&target_id=${webhookId}`);
    expect(created).toMatchObject({ actor_name: 'Deploy bot', target_name: 'Billing' });
    const [key] = await entries(`action=api_key.created&target_id=${deployId}`);
    expect(key).toMatchObject({ actor_name: 'bootstrap', target_name: 'Deploy bot' });
    const [tenant] = await entries('target_type=tenant&target_id=acme-1');
    expect(tenant.target_name).toBe('Acme Inc');
    const [type] = await entries('action=event_type.created');
    expect(type.target_name).toBe('order.placed');
  });

  it('a webhook deleted since keeps the name its entry recorded, where it recorded one', async () => {
    expect((await deploy('DELETE', `/webhooks/${webhookId}`)).status).toBeLessThan(300);
    const all = await entries(`target_type=webhook&target_id=${webhookId}`);
    const names = Object.fromEntries(all.map((e) => [e.action, e.target_name]));
    expect(names['webhook.created']).toBe('Billing');
    expect(names['webhook.deleted']).toBe('Billing');
    // An update that did not rename it recorded no name: the UI shows the id.
    expect(names['webhook.updated']).toBeNull();
  });

  it('Hookline itself has no actor name', async () => {
    const [org] = await entries('action=organization.created');
    expect(org).toMatchObject({ key_id: null, actor_name: null, target_name: 'default' });
  });
});
