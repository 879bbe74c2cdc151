import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createMetrics } from '../../src/metrics.js';
import { MAX_JSON_DEPTH } from '../../src/api/plugins/json-body.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let server: FastifyInstance;
let port: number;

/** Sends raw bytes (optionally in timed pieces) and returns the status and parsed JSON body of the answer. */
function raw(
  chunks: string[],
  { pauseMs = 0 } = {},
): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      let body: unknown = null;
      try {
        body = JSON.parse(bodyText);
      } catch {
        body = bodyText;
      }
      resolve({ status, body, text });
    });
    socket.on('connect', async () => {
      try {
        for (const c of chunks) {
          socket.write(c);
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
        }
      } catch (err) {
        reject(err);
      }
    });
    setTimeout(() => socket.destroy(), 15_000).unref();
  });
}

const spec = (code: string) => ({ error: { code, message: expect.any(String), details: null } });

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  // A second app on the same database that really listens, with short request timeouts:
  // Node's parser limits only apply on a real socket, not through inject().
  server = await buildApp(
    { db: t.db, config: t.config, metrics: createMetrics(), wake: () => {} },
    { limits: { requestTimeoutMs: 1500, headersTimeoutMs: 1000, timeoutCheckIntervalMs: 200 } },
  );
  await server.listen({ port: 0, host: '127.0.0.1' });
  port = (server.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

describe('limits on headers, URL and time (real socket)', () => {
  it('answers oversized headers with 431 in the error format', async () => {
    const res = await raw([
      `GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]);
    expect(res.status).toBe(431);
    expect(res.body).toEqual(spec('HEADERS_TOO_LARGE'));
  });

  it('answers a URL longer than the header limit with 431, and garbage with 400, in the error format', async () => {
    expect(
      (await raw([`GET /api/v1/me?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`])).body,
    ).toEqual(spec('HEADERS_TOO_LARGE'));
    const garbage = await raw(['HELLO THERE\r\n\r\n']);
    expect(garbage.status).toBe(400);
    expect(garbage.body).toEqual(spec('BAD_REQUEST'));
  });

  it('answers 408 to a body that never finishes and to headers sent byte by byte (slowloris)', async () => {
    const started = Date.now();
    const auth = `Authorization: Bearer ${t.org.keys.admin}`;
    const body = await raw([
      `POST /api/v1/event-types HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na`,
    ]);
    expect(body.status).toBe(408);
    expect(body.body).toEqual(spec('REQUEST_TIMEOUT'));
    expect(Date.now() - started).toBeLessThan(10_000);
    const loris = await raw(
      ['GET /api/v1/me HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n'],
      { pauseMs: 400 },
    );
    expect(loris.status).toBe(408);
  });

  it('still answers /healthz afterwards', async () => {
    const res = await raw(['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(res.status).toBe(200);
  });
});

describe('limits checked by the app', () => {
  it('refuses more than 100 header lines with 431 and a URL over 8 KiB with 414', async () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${i}`, 'v']));
    const res = await t.org.admin('GET', '/me', undefined, many);
    expect(res.status).toBe(431);
    expect(res.body.error.code).toBe('HEADERS_TOO_LARGE');
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x-h${i}`, 'v']));
    expect((await t.org.admin('GET', '/me', undefined, fifty)).status).toBe(200);
    const long = await t.org.admin('GET', `/event-types?category=${'a'.repeat(9000)}`);
    expect(long.status).toBe(414);
    expect(long.body.error.code).toBe('URI_TOO_LONG');
  });

  it('answers router errors in the error format: an over-long path segment is 404, a malformed URL 400', async () => {
    for (const [method, path] of [
      ['POST', '/webhooks/{x}/test'],
      ['DELETE', '/api-keys/{x}'],
      ['GET', '/deliveries/{x}'],
    ] as const) {
      const res = await t.org.admin(
        method,
        path.replace('{x}', 'a'.repeat(300)),
        method === 'POST' ? {} : undefined,
      );
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe('NOT_FOUND');
    }
    const bad = await t.org.admin('GET', '/webhooks/%zz');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BAD_REQUEST');
  });

  it('bounds bodies: 1 MiB on management routes, the publish routes their own', async () => {
    const big = JSON.stringify({ name: 'a.b', description: 'x'.repeat(1024 * 1024) });
    expect((await t.org.admin('POST', '/event-types', big)).status).toBe(413);
    // Publish takes a body over 1 MiB (escapes in the text can make it several times its payload)
    // but not a payload over 256 KiB: here 1.2 MB of \u0061 escapes are a 200 KiB payload.
    const escaped = `{"event_type":"ticket.created","payload":{"s":"${'\\u0061'.repeat(200 * 1024)}"}}`;
    expect(escaped.length).toBeGreaterThan(1024 * 1024);
    expect((await t.org.publisher('POST', '/events', escaped)).status).toBe(202);
    const tooBig = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: { s: 'x'.repeat(300 * 1024) },
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const huge = await t.org.publisher(
      'POST',
      '/events',
      JSON.stringify({ event_type: 'ticket.created', payload: { s: 'x'.repeat(3 * 1024 * 1024) } }),
    );
    expect(huge.status).toBe(413);
  });

  it('bounds list sizes: batch, subscriptions, custom headers, page size', async () => {
    const batch = Array.from({ length: 501 }, () => ({
      event_type: 'ticket.created',
      payload: {},
    }));
    const b = await t.org.publisher('POST', '/events/batch', { events: batch });
    expect(b.status).toBe(422);
    expect(b.body.error.details[0].field).toBe('events');
    const hook = { name: 'w', url: 'http://127.0.0.1:9/', events: ['ticket.created'] };
    const subs = await t.org.admin('POST', '/webhooks', {
      ...hook,
      events: Array.from({ length: 257 }, () => 'ticket.created'),
    });
    expect(subs.status).toBe(422);
    expect(subs.body.error.details[0].field).toBe('events');
    const headers = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`X-H${i}`, 'v']));
    const ch = await t.org.admin('POST', '/webhooks', { ...hook, custom_headers: headers });
    expect(ch.status).toBe(422);
    expect(ch.body.error.details[0].field).toBe('custom_headers');
    expect((await t.org.admin('GET', '/events?limit=501')).status).toBe(422);
    expect((await t.org.admin('GET', '/deliveries?limit=0')).status).toBe(422);
  });

  it(`bounds JSON depth at ${MAX_JSON_DEPTH} on every route, payloads included`, async () => {
    const nest = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const deep = await t.org.publisher(
      'POST',
      '/events',
      `{"event_type":"ticket.created","payload":${nest(MAX_JSON_DEPTH)}}`,
    );
    expect(deep.status).toBe(400);
    expect(deep.body.error.code).toBe('BAD_REQUEST');
    const ok = await t.org.publisher(
      'POST',
      '/events',
      `{"event_type":"ticket.created","payload":${nest(MAX_JSON_DEPTH - 2)}}`,
    );
    expect(ok.status).toBe(202);
    // Brackets inside strings are not nesting.
    const strings = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: { s: '['.repeat(500) },
    });
    expect(strings.status).toBe(202);
  });

  it('refuses CR/LF in custom header names and values (header injection)', async () => {
    const hook = { name: 'w', url: 'http://127.0.0.1:9/', events: ['ticket.created'] };
    for (const custom_headers of [
      { 'X-A': 'ok\r\nX-Injected: 1' },
      { 'X-A': 'ok\nX-Injected: 1' },
      { 'X-A': 'ok\rX' },
      { 'X-A\r\nX-Injected': 'v' },
      { 'X-A: b\r\n': 'v' },
    ]) {
      const res = await t.org.admin('POST', '/webhooks', { ...hook, custom_headers });
      expect(res.status, JSON.stringify(custom_headers)).toBe(422);
      expect(res.body.error.details[0].field).toMatch(/^custom_headers/);
    }
    const created = (await t.org.admin('POST', '/webhooks', hook)).body;
    expect(
      (
        await t.org.admin('PATCH', `/webhooks/${created.id}`, {
          custom_headers: { 'X-A': 'a\r\nb' },
        })
      ).status,
    ).toBe(422);
  });
});
