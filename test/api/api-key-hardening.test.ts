import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasValidChecksum } from '../../src/core/api-keys.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('API keys (SPEC section 2, issue 4 item 3)', () => {
  it('look like hk_ + at least 32 random characters + a checksum, and are stored only as a hash', async () => {
    const created = await t.org.admin('POST', '/api-keys', { role: 'publisher', name: 'app server' });
    const key = created.body.key as string;
    expect(key).toMatch(/^hk_[0-9A-Za-z]{38,}$/);
    expect(hasValidChecksum(key)).toBe(true);
    // One changed character breaks the checksum: a leaked or mistyped key is recognisable offline.
    const flipped = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    expect(hasValidChecksum(flipped)).toBe(false);
    const { rows } = await t.db.query('SELECT * FROM api_keys WHERE id = $1', [created.body.id]);
    expect(JSON.stringify(rows[0])).not.toContain(key.slice(3, 30));
    // The key is shown once: never again in a list.
    const list = await t.org.admin('GET', '/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(key.slice(3, 30));
  });

  it('keeps last_used_at', async () => {
    const created = await t.org.admin('POST', '/api-keys', { role: 'viewer', name: 'reader' });
    expect(created.body.last_used_at).toBeNull();
    expect((await t.as(created.body.key)('GET', '/webhooks')).status).toBe(200);
    // Written after the answer, off the request path: poll for it.
    const deadline = Date.now() + 10_000;
    let used: string | null = null;
    while (!used && Date.now() < deadline) {
      const { rows } = await t.db.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_keys WHERE id = $1', [created.body.id]);
      used = rows[0].last_used_at?.toISOString() ?? null;
      if (!used) await new Promise((r) => setTimeout(r, 50));
    }
    expect(used).not.toBeNull();
    const listed = (await t.org.admin('GET', '/api-keys')).body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(listed.last_used_at).toBe(used);
  });

  it('refuses a revoked key at once, on every kind of route', async () => {
    const created = await t.org.admin('POST', '/api-keys', { role: 'admin', name: 'temp admin' });
    const as = t.as(created.body.key);
    expect((await as('GET', '/audit-log')).status).toBe(200);
    expect((await t.org.admin('DELETE', `/api-keys/${created.body.id}`)).status).toBe(200);
    for (const [method, path, body] of [['GET', '/audit-log'], ['GET', '/me'], ['POST', '/event-types', { name: 'x.y' }], ['POST', '/events', { event_type: 'x.y', payload: {} }]] as const) {
      const res = await as(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});
