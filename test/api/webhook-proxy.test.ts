import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import type { ResolveHost } from '../../src/net/resolve.js';

// A webhook's proxy_url (docs/endpoint-security.md, "Egress proxy"): http://host:port only,
// its host checked like a destination outside --dev, its password sealed and never shown,
// and the organization's alone: a portal session can neither set nor see it.
const KEY = Buffer.alloc(32, 4).toString('base64');
const resolveHost: ResolveHost = async (host) => {
  if (host === 'hooks.test' || host === 'proxy.test')
    return [{ address: '93.184.216.34', family: 4 }];
  if (host === 'inside.test') return [{ address: '10.1.2.3', family: 4 }];
  throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
};

let t: TestApp;
let o: OrgFixture;

beforeAll(async () => {
  t = await createTestApp({ dev: false, resolveHost, encryptionKey: KEY });
  o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

const base = { name: 'hook', url: 'https://hooks.test/in', events: ['thing.happened'] };
const create = (extra: Record<string, unknown>, call = o.admin) =>
  call('POST', '/webhooks', { ...base, ...extra });
const stored = async (id: string) =>
  JSON.stringify(
    (await t.db.query('SELECT endpoint_security FROM webhooks WHERE id = $1', [id])).rows[0],
  );

describe('proxy_url', () => {
  it('is shown without its password, which is sealed at rest and kept out of the audit log', async () => {
    const res = await create({ proxy_url: 'http://egress:pr0xy-pass%40x@proxy.test:3128' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.proxy_url).toBe('http://egress@proxy.test:3128');
    expect(res.body.proxy_has_password).toBe(true);
    for (const r of [
      await o.admin('GET', `/webhooks/${res.body.id}`),
      await o.viewer('GET', '/webhooks'),
      await o.admin('GET', `/webhooks/${res.body.id}/secret`),
    ])
      expect(JSON.stringify(r.body)).not.toContain('pr0xy-pass');
    expect(await stored(res.body.id)).not.toContain('pr0xy-pass');
    expect(await stored(res.body.id)).toMatch(/"password":"enc:v1:/);
    const audit = await t.db.query('SELECT changes FROM audit_log WHERE target_id = $1', [
      res.body.id,
    ]);
    expect(JSON.stringify(audit.rows)).toContain('http://egress@proxy.test:3128');
    expect(JSON.stringify(audit.rows)).not.toContain('pr0xy-pass');
  });

  it('PATCH sets, replaces and removes it; a webhook without one shows null', async () => {
    const res = await create({});
    expect(res.body.proxy_url).toBeNull();
    expect(res.body.proxy_has_password).toBe(false);
    const set = await o.admin('PATCH', `/webhooks/${res.body.id}`, {
      proxy_url: 'http://proxy.test:8080',
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.proxy_url).toBe('http://proxy.test:8080');
    expect(set.body.proxy_has_password).toBe(false);
    const cleared = await o.admin('PATCH', `/webhooks/${res.body.id}`, { proxy_url: null });
    expect(cleared.body.proxy_url).toBeNull();
    expect(await stored(res.body.id)).not.toContain('proxy.test');
  });

  it.each([
    ['https://proxy.test:3128', /http:\/\//],
    ['socks5://proxy.test:1080', /http:\/\//],
    ['http://proxy.test', /port/],
    ['http://proxy.test:3128/path', /without a path/],
    ['not a url', /valid URL/],
    ['http://inside.test:3128', /blocked destination/],
    ['http://10.0.0.1:3128', /blocked destination/],
    ['http://nowhere.test:3128', /does not resolve/],
  ])('refuses %s with a 422 on proxy_url', async (proxy_url, message) => {
    const res = await create({ proxy_url });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ field: 'proxy_url', message: expect.stringMatching(message) }),
    ]);
  });

  it('a portal session cannot set it (403) nor see it, and its edits leave it alone', async () => {
    const admin = await create({ tenant_id: 'acme', proxy_url: 'http://proxy.test:3128' });
    expect(admin.status, JSON.stringify(admin.body)).toBe(201);
    const session = await o.admin('POST', '/tenants/acme/portal-sessions', {});
    expect(session.status).toBe(201);
    const portal = t.as(session.body.token);

    const created = await create({ proxy_url: 'http://proxy.test:3128' }, portal);
    expect(created.status).toBe(403);
    expect(created.body.error).toMatchObject({
      code: 'FORBIDDEN',
      details: [expect.objectContaining({ field: 'proxy_url' })],
    });
    for (const proxy_url of ['http://proxy.test:9999', null]) {
      const patched = await portal('PATCH', `/webhooks/${admin.body.id}`, { proxy_url });
      expect(patched.status).toBe(403);
    }
    const own = await create({}, portal);
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    for (const r of [
      own,
      await portal('GET', `/webhooks/${admin.body.id}`),
      await portal('GET', '/webhooks'),
      await portal('PATCH', `/webhooks/${admin.body.id}`, { name: 'renamed by the tenant' }),
    ]) {
      expect(r.status).toBeLessThan(300);
      expect(JSON.stringify(r.body)).not.toMatch(/proxy_url|proxy_has_password|proxy\.test/);
    }
    expect((await o.admin('GET', `/webhooks/${admin.body.id}`)).body).toMatchObject({
      name: 'renamed by the tenant',
      proxy_url: 'http://proxy.test:3128',
    });
  });
});
