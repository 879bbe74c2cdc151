import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasValidChecksum } from '../../src/core/api-keys.js';
import { buildApp } from '../../src/api/app.js';
import { KEY_CACHE_MS } from '../../src/api/plugins/auth.js';
import { createMetrics } from '../../src/metrics.js';
import { openPostgres } from '../../src/store/postgres.js';
import { caller, createTestApp, type ApiCall, type TestApp } from '../support/app.js';
import { testStore } from '../support/db.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('API keys (docs/api.md, "Authentication and roles")', () => {
  it('look like hk_ + at least 32 random characters + a checksum, and are stored only as a hash', async () => {
    const created = await t.org.admin('POST', '/api-keys', {
      role: 'publisher',
      name: 'app server',
    });
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
      const { rows } = await t.db.query<{ last_used_at: Date | null }>(
        'SELECT last_used_at FROM api_keys WHERE id = $1',
        [created.body.id],
      );
      used = rows[0].last_used_at?.toISOString() ?? null;
      if (!used) await new Promise((r) => setTimeout(r, 50));
    }
    expect(used).not.toBeNull();
    const listed = (await t.org.admin('GET', '/api-keys')).body.data.find(
      (k: { id: string }) => k.id === created.body.id,
    );
    expect(listed.last_used_at).toBe(used);
  });

  it('refuses a revoked key at once, on every kind of route', async () => {
    const created = await t.org.admin('POST', '/api-keys', { role: 'admin', name: 'temp admin' });
    const as = t.as(created.body.key);
    expect((await as('GET', '/audit-log')).status).toBe(200);
    expect((await t.org.admin('DELETE', `/api-keys/${created.body.id}`)).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/audit-log'],
      ['GET', '/me'],
      ['POST', '/event-types', { name: 'x.y' }],
      ['POST', '/events', { event_type: 'x.y', payload: {} }],
    ] as const) {
      const res = await as(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  // Keys are remembered per process for KEY_CACHE_MS (src/api/plugins/auth.ts): the publish hot path
  // then makes no key lookup. What bounds that memory:
  async function statusWithin(
    as: ApiCall,
    want: number,
    ms: number,
  ): Promise<{ status: number; after: number }> {
    const start = Date.now();
    let status = 0;
    do {
      status = (await as('GET', '/me')).status;
      if (status === want) break;
      await new Promise((r) => setTimeout(r, 25));
    } while (Date.now() - start < ms);
    return { status, after: Date.now() - start };
  }

  it('remembers a key for at most KEY_CACHE_MS when it is revoked behind the API (SQL), then refuses it', async () => {
    const created = await t.org.admin('POST', '/api-keys', {
      role: 'viewer',
      name: 'revoked by hand',
    });
    const as = t.as(created.body.key);
    expect((await as('GET', '/me')).status).toBe(200);
    await t.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [created.body.id]);
    // Remembered: still accepted right after (this process was not told).
    expect((await as('GET', '/me')).status).toBe(200);
    const { status } = await statusWithin(as, 401, KEY_CACHE_MS + 5_000);
    expect(status).toBe(401);
  });

  // Two API processes on one PostgreSQL: a second app with its own pool and its own LISTEN connection.
  it.skipIf(testStore !== 'postgres')(
    'refuses a key revoked through another process without waiting for KEY_CACHE_MS (NOTIFY)',
    async () => {
      const db2 = await openPostgres(t.database.url!, { max: 2 });
      // Keys remembered for 10 minutes there: only the NOTIFY can make it forget one within the test.
      const app2 = await buildApp(
        { db: db2, config: t.config, metrics: createMetrics(), wake: () => {} },
        { apiKeyCacheMs: 10 * 60_000 },
      );
      try {
        await app2.ready();
        const created = await t.org.admin('POST', '/api-keys', {
          role: 'publisher',
          name: 'used elsewhere',
        });
        const elsewhere = caller(app2, created.body.key);
        expect((await elsewhere('GET', '/me')).status).toBe(200); // now remembered by app2
        expect((await t.org.admin('DELETE', `/api-keys/${created.body.id}`)).status).toBe(200);
        const { status } = await statusWithin(elsewhere, 401, 20_000);
        expect(status).toBe(401);
      } finally {
        await app2.close();
        await db2.close();
      }
    },
  );
});
