import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createClient,
  HooklineApiError,
  parseRetryAfter,
  type ResponseOf,
  type Webhook,
} from '../../sdk/client.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let baseUrl: string;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => new Promise((r) => p.close(r))));
  await t?.close();
});

async function thrown(p: Promise<unknown>): Promise<HooklineApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HooklineApiError);
    return err as HooklineApiError;
  }
  throw new Error('expected the call to fail');
}

/**
 * A fault-injecting proxy in front of the real server: the first `faults` requests get the
 * given status (and headers), the rest pass through. Records every request it saw.
 */
const proxies: Server[] = [];
async function faultyProxy(faults: number, status: number, headers: Record<string, string> = {}) {
  const seen: Array<{ method: string; url: string; idempotencyKey?: string; at: number }> = [];
  let left = faults;
  const server = createServer((req, res) => {
    seen.push({
      method: req.method!,
      url: req.url!,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      at: Date.now(),
    });
    if (left > 0) {
      left--;
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(
        JSON.stringify({
          error: {
            code: status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE',
            message: 'injected',
            details: null,
          },
        }),
      );
      return;
    }
    const upstream = httpRequest(
      baseUrl + req.url!,
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  proxies.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('typed client against a real server', () => {
  it('calls operations with path params, query and body, typed from the OpenAPI document', async () => {
    const c = createClient({ baseUrl, apiKey: t.org.keys.admin });
    const created = await c.request('POST /event-types', {
      body: { name: 'client.created', description: 'from the sdk' },
    });
    expect(created).toMatchObject({
      name: 'client.created',
      category: 'client',
      description: 'from the sdk',
    });
    const got: ResponseOf<'GET /event-types/{name}'> = await c.request('GET /event-types/{name}', {
      params: { name: 'client.created' },
    });
    expect(got.description).toBe('from the sdk');
    const patched = await c.request('PATCH /event-types/{name}', {
      params: { name: 'client.created' },
      body: { description: null },
    });
    expect(patched.description).toBeNull();
    // The base URL may carry /api/v1 already.
    const c2 = createClient({ baseUrl: baseUrl + '/api/v1/', apiKey: t.org.keys.viewer });
    expect(
      (await c2.request('GET /event-types', { query: { category: 'client' } })).data.map(
        (e) => e.name,
      ),
    ).toEqual(['client.created']);
  });

  it('manages webhooks and publishes events through the typed operations', async () => {
    const c = createClient({ baseUrl, apiKey: t.org.keys.admin });
    await c.request('POST /event-types', { body: { name: 'typed.made' } });
    const created = await c.request('POST /webhooks', {
      body: { name: 'typed', url: 'http://127.0.0.1:9/x', events: ['typed.*'] },
    });
    expect(created.secret).toMatch(/^whsec_/);
    const hook: Webhook = await c.request('GET /webhooks/{id}', { params: { id: created.id } });
    expect(hook).toMatchObject({ id: created.id, events: ['typed.*'], is_active: true });
    const publisher = createClient({ baseUrl, apiKey: t.org.keys.publisher });
    const event = await publisher.request('POST /events', {
      body: { event_type: 'typed.made', payload: { n: 1 } },
    });
    expect(event.deliveries).toBe(1);
    const deliveries = [];
    for await (const d of c.paginate('GET /webhooks/{id}/deliveries', {
      params: { id: created.id },
    }))
      deliveries.push(d);
    expect(deliveries.map((d) => d.event_id)).toEqual([event.id]);
  });

  it('iterates every item of a list across pages with the cursor', async () => {
    const c = createClient({ baseUrl, apiKey: t.org.keys.admin });
    for (let i = 0; i < 7; i++)
      await c.request('POST /event-types', { body: { name: `paged.e${i}` } });
    const names: string[] = [];
    for await (const type of c.paginate('GET /event-types', {
      query: { category: 'paged', limit: 3 },
    }))
      names.push(type.name);
    expect(names).toEqual([
      'paged.e0',
      'paged.e1',
      'paged.e2',
      'paged.e3',
      'paged.e4',
      'paged.e5',
      'paged.e6',
    ]);
    const sizes: number[] = [];
    for await (const page of c.pages('GET /event-types', {
      query: { category: 'paged', limit: 3 },
    }))
      sizes.push(page.data.length);
    expect(sizes).toEqual([3, 3, 1]);
    // Stopping early fetches no more pages.
    for await (const type of c.paginate('GET /event-types', {
      query: { category: 'paged', limit: 2 },
    })) {
      expect(type.name).toBe('paged.e0');
      break;
    }
  });

  it('throws HooklineApiError with the API error code, status and details', async () => {
    const admin = createClient({ baseUrl, apiKey: t.org.keys.admin });
    const missing = await thrown(
      admin.request('GET /event-types/{name}', { params: { name: 'no.such' } }),
    );
    expect([missing.status, missing.code]).toEqual([404, 'NOT_FOUND']);
    const invalid = await thrown(
      admin.request('POST /event-types', { body: { name: 'NotValid' } }),
    );
    expect([invalid.status, invalid.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(invalid.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining('name') })]),
    );
    await admin.request('POST /event-types', { body: { name: 'dup.one' } });
    expect(
      (await thrown(admin.request('POST /event-types', { body: { name: 'dup.one' } }))).code,
    ).toBe('CONFLICT');
    const viewer = createClient({ baseUrl, apiKey: t.org.keys.viewer });
    expect(
      (await thrown(viewer.request('POST /event-types', { body: { name: 'v.no' } }))).code,
    ).toBe('FORBIDDEN');
    const nobody = createClient({ baseUrl, apiKey: 'hk_not_a_key', maxRetries: 0 });
    const unauthorized = await thrown(nobody.request('GET /event-types'));
    expect([
      unauthorized.status,
      unauthorized.code,
      unauthorized.method,
      unauthorized.path,
    ]).toEqual([401, 'UNAUTHORIZED', 'GET', '/event-types']);
  });

  it('retries a 503 with backoff and succeeds; a GET is safe to repeat', async () => {
    const proxy = await faultyProxy(2, 503);
    const c = createClient({ baseUrl: proxy.url, apiKey: t.org.keys.admin, minDelayMs: 20 });
    const page = await c.request('GET /event-types', { query: { limit: 1 } });
    expect(page.data).toHaveLength(1);
    expect(proxy.seen).toHaveLength(3);
    expect(proxy.seen[2].at - proxy.seen[0].at).toBeGreaterThanOrEqual(20); // 10–20 ms, then 20–40 ms
  });

  it('does not retry a POST without an idempotency key after a 5xx, but does with one', async () => {
    const proxy = await faultyProxy(1, 500);
    const c = createClient({ baseUrl: proxy.url, apiKey: t.org.keys.admin, minDelayMs: 5 });
    const err = await thrown(c.request('POST /event-types', { body: { name: 'retry.once' } }));
    expect([err.status, proxy.seen.length]).toEqual([500, 1]);
    const proxy2 = await faultyProxy(1, 502);
    const c2 = createClient({ baseUrl: proxy2.url, apiKey: t.org.keys.admin, minDelayMs: 5 });
    await c2.request('POST /event-types', { body: { name: 'retry.twice' }, idempotencyKey: 'k-1' });
    expect(proxy2.seen.map((s) => s.idempotencyKey)).toEqual(['k-1', 'k-1']);
  });

  it('waits the Retry-After of a 429, then succeeds', async () => {
    const proxy = await faultyProxy(1, 429, { 'retry-after': '1' });
    const c = createClient({ baseUrl: proxy.url, apiKey: t.org.keys.admin });
    await c.request('POST /event-types', { body: { name: 'limited.then_ok' } });
    expect(proxy.seen).toHaveLength(2);
    expect(proxy.seen[1].at - proxy.seen[0].at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxRetries, and at once when Retry-After is longer than it will wait', async () => {
    const proxy = await faultyProxy(10, 503);
    const c = createClient({
      baseUrl: proxy.url,
      apiKey: t.org.keys.admin,
      maxRetries: 2,
      minDelayMs: 5,
    });
    const err = await thrown(c.request('GET /event-types'));
    expect([err.status, err.code, proxy.seen.length]).toEqual([503, 'UNAVAILABLE', 3]);
    const slow = await faultyProxy(10, 429, { 'retry-after': '3600' });
    const c2 = createClient({ baseUrl: slow.url, apiKey: t.org.keys.admin });
    const limited = await thrown(c2.request('GET /event-types'));
    expect([limited.code, limited.retryAfterSeconds, slow.seen.length]).toEqual([
      'RATE_LIMITED',
      3600,
      1,
    ]);
  });

  it('reports a server that does not answer as NETWORK_ERROR after retrying', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const c = createClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: t.org.keys.admin,
      maxRetries: 1,
      minDelayMs: 5,
    });
    const err = await thrown(c.request('GET /event-types'));
    expect([err.status, err.code]).toEqual([0, 'NETWORK_ERROR']);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
