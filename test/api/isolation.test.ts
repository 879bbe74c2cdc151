import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';

let t: TestApp;
let a: OrgFixture;
let b: OrgFixture;

beforeAll(async () => {
  t = await createTestApp();
  a = t.org;
  b = await t.newOrg('other');
});
afterAll(async () => t?.close());

describe('isolation between two organizations', () => {
  it('keeps event type catalogs apart: the same name lives in both, changes stay in one', async () => {
    expect(
      (await a.admin('POST', '/event-types', { name: 'ticket.created', description: 'A' })).status,
    ).toBe(201);
    expect(
      (await b.admin('POST', '/event-types', { name: 'ticket.created', description: 'B' })).status,
    ).toBe(201);
    await b.admin('PATCH', '/event-types/ticket.created', { description: 'B2' });
    await b.admin('DELETE', '/event-types/ticket.created');
    expect((await a.viewer('GET', '/event-types/ticket.created')).body).toMatchObject({
      description: 'A',
      archived: false,
    });
    expect((await b.admin('POST', '/event-types', { name: 'only.b' })).status).toBe(201);
    expect((await a.admin('GET', '/event-types/only.b')).status).toBe(404);
    const listA = (
      await a.admin('GET', '/event-types?limit=500&include_archived=true')
    ).body.data.map((e: { name: string }) => e.name);
    expect(listA).not.toContain('only.b');
  });

  it("answers 404, never 403, to any role asking for another organization's things", async () => {
    await b.admin('POST', '/event-types', { name: 'secret.plan' });
    const hook = (
      await b.admin('POST', '/webhooks', {
        name: 'b',
        url: 'http://127.0.0.1:9/',
        events: ['secret.plan'],
      })
    ).body;
    const keys = (await b.admin('GET', '/api-keys')).body.data as Array<{ id: string }>;
    for (const path of [
      '/event-types/secret.plan',
      `/webhooks/${hook.id}`,
      `/webhooks/${hook.id}/secret`,
    ]) {
      const res = await a.admin('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    // A viewer is refused /secret by role before any lookup, so its answer cannot tell whether the id exists.
    expect((await a.viewer('GET', `/webhooks/${hook.id}`)).status).toBe(404);
    expect((await a.viewer('GET', '/event-types/secret.plan')).status).toBe(404);
    expect((await a.publisher('GET', '/event-types/secret.plan')).status).toBe(404);
    for (const [method, path, body] of [
      ['PATCH', '/event-types/secret.plan', { description: 'x' }],
      ['DELETE', '/event-types/secret.plan'],
      ['PATCH', `/webhooks/${hook.id}`, { is_active: false }],
      ['DELETE', `/webhooks/${hook.id}`],
      ['DELETE', `/api-keys/${keys[0].id}`],
    ] as const) {
      const res = await a.admin(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Nothing of b's changed.
    expect((await b.admin('GET', `/webhooks/${hook.id}`)).body.is_active).toBe(true);
    expect((await b.admin('GET', '/event-types/secret.plan')).body.archived).toBe(false);
    expect((await b.admin('GET', '/api-keys')).body.data).toHaveLength(keys.length);
  });

  it('lists only its own webhooks and keys', async () => {
    const listA = await a.admin('GET', '/webhooks?limit=500');
    expect(listA.body.data).toEqual([]);
    const keysA = (await a.admin('GET', '/api-keys?limit=500')).body.data as Array<{ id: string }>;
    const keysB = (await b.admin('GET', '/api-keys?limit=500')).body.data as Array<{ id: string }>;
    expect(keysA.length).toBeGreaterThan(0);
    expect(keysA.filter((k) => keysB.some((kb) => kb.id === k.id))).toEqual([]);
    expect((await a.admin('GET', '/me')).body.org_name).toBe('default');
    expect((await b.admin('GET', '/me')).body.org_name).toBe('other');
  });

  it("cannot subscribe a webhook to another organization's event types", async () => {
    const res = await a.admin('POST', '/webhooks', {
      name: 'x',
      url: 'http://127.0.0.1:9/',
      events: ['secret.plan'],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('events.0');
    const cat = await a.admin('POST', '/webhooks', {
      name: 'x',
      url: 'http://127.0.0.1:9/',
      events: ['secret.*'],
    });
    expect(cat.status).toBe(422);
  });

  it('cannot page into another organization with a cursor made from its ids', async () => {
    const hook = (await b.admin('GET', '/webhooks')).body.data[0];
    // A cursor is the id of the last item seen; one made from b's newest id must still show only a's rows.
    const cursor = Buffer.from(hook.id + 'z', 'utf8').toString('base64url');
    const res = await a.admin('GET', `/webhooks?cursor=${cursor}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });
});
