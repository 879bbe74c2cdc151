import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, registerRateLimit } from '../../src/api/plugins/rate-limit.js';
import { registerErrorHandling } from '../../src/api/plugins/errors.js';
import { testConfig } from '../support/config.js';
import type { AppDeps } from '../../src/api/context.js';
import { createTestApp, type TestApp } from '../support/app.js';

describe('token bucket', () => {
  it('allows a burst of the per-minute limit, then one per 60/limit seconds', () => {
    const limiter = createRateLimiter(6); // one token per 10 s
    const t0 = 1_000_000;
    for (let i = 0; i < 6; i++) expect(limiter.take('k', t0)).toBe(0);
    expect(limiter.take('k', t0)).toBe(10_000);
    expect(limiter.take('k', t0 + 9_999)).toBe(1);
    expect(limiter.take('k', t0 + 10_000)).toBe(0);
    expect(limiter.take('other', t0)).toBe(0);
  });
});

describe('rate limits on the real app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ rateLimitPerMinute: 5, publishRateLimitPerMinute: 3 });
    // Uses one of the admin's 5 management requests.
    expect((await t.org.admin('POST', '/event-types', { name: 'rl.thing' })).status).toBe(201);
  });
  afterAll(async () => t?.close());

  it('answers 429 in the error format with Retry-After once a key used its minute, and only for that key', async () => {
    for (let i = 0; i < 5; i++) {
      const ok = await t.org.viewer('GET', '/event-types');
      expect(ok.status).toBe(200);
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(4 - i));
    }
    const limited = await t.org.viewer('GET', '/event-types');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({
      code: 'RATE_LIMITED',
      details: { bucket: 'management', limit_per_minute: 5 },
    });
    const retryAfter = Number(limited.headers['retry-after']);
    // 5 a minute: the next token comes 12 s after the first was spent.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(12);
    // Another key of the same organization has its own bucket; reads and writes share it.
    for (let i = 0; i < 3; i++) expect((await t.org.admin('GET', '/event-types')).status).toBe(200);
    expect((await t.org.admin('PATCH', '/event-types/rl.thing', { description: 'x' })).status).toBe(
      200,
    );
    expect((await t.org.admin('PATCH', '/event-types/rl.thing', { description: 'y' })).status).toBe(
      429,
    );
  });

  it('does not count requests refused by auth (403) against the key', async () => {
    // More forbidden calls than the limit: still 403 each, and the key's bucket is untouched.
    for (let i = 0; i < 8; i++)
      expect((await t.org.publisher('POST', '/event-types', { name: 'rl.nope' })).status).toBe(403);
    for (let i = 0; i < 5; i++)
      expect((await t.org.publisher('GET', '/event-types')).status).toBe(200);
    expect((await t.org.publisher('GET', '/event-types')).status).toBe(429);
  });

  it('gives publishing its own bucket: a key out of management requests still publishes, up to its publish limit', async () => {
    // The publisher's management bucket is empty after the test above.
    for (let i = 0; i < 2; i++)
      expect(
        (await t.org.publisher('POST', '/events', { event_type: 'rl.thing', payload: { i } }))
          .status,
      ).toBe(202);
    expect(
      (
        await t.org.publisher('POST', '/events/batch', {
          events: [{ event_type: 'rl.thing', payload: {} }],
        })
      ).status,
    ).toBe(202);
    const limited = await t.org.publisher('POST', '/events', {
      event_type: 'rl.thing',
      payload: {},
    });
    expect(limited.status).toBe(429);
    expect(limited.body.error.details.bucket).toBe('publish');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('publish bucket is separate', () => {
  // POST /events is another helper's route; the plugin is exercised here on a minimal
  // app with the same prefix and route paths so the bucket choice is tested on its own.
  async function miniApp(
    config = testConfig({ rateLimitPerMinute: 2, publishRateLimitPerMinute: 3 }),
  ) {
    const app = Fastify();
    app.decorate('deps', { config } as unknown as AppDeps);
    registerErrorHandling(app);
    await app.register(
      async (api) => {
        api.decorateRequest('auth', null as never);
        api.addHook('onRequest', async (req) => {
          req.auth = { orgId: 'org', keyId: String(req.headers['x-key']), role: 'admin' };
        });
        registerRateLimit(api);
        api.post('/events', async () => ({ ok: true }));
        api.post('/events/batch', async () => ({ ok: true }));
        api.get('/events', async () => ({ ok: true }));
      },
      { prefix: '/api/v1' },
    );
    return app;
  }

  it('counts POST /events and /events/batch in one bucket and everything else in another', async () => {
    const app = await miniApp();
    const call = (method: 'GET' | 'POST', url: string, key = 'k1') =>
      app
        .inject({ method, url: `/api/v1${url}`, headers: { 'x-key': key } })
        .then((r) => r.statusCode);
    expect([
      await call('POST', '/events'),
      await call('POST', '/events/batch'),
      await call('POST', '/events'),
    ]).toEqual([200, 200, 200]);
    expect(await call('POST', '/events')).toBe(429);
    // The management bucket is untouched by publishing (GET /events is reading, not publishing).
    expect([
      await call('GET', '/events'),
      await call('GET', '/events'),
      await call('GET', '/events'),
    ]).toEqual([200, 200, 429]);
    expect(await call('POST', '/events', 'k2')).toBe(200);
    await app.close();
  });

  it('turns off with a limit of 0', async () => {
    const app = await miniApp(testConfig({ rateLimitPerMinute: 0, publishRateLimitPerMinute: 0 }));
    for (let i = 0; i < 20; i++)
      expect(
        (await app.inject({ method: 'POST', url: '/api/v1/events', headers: { 'x-key': 'k' } }))
          .statusCode,
      ).toBe(200);
    await app.close();
  });
});
