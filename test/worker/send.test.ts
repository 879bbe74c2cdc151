import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer } from 'node:net';
import { Webhook } from 'standardwebhooks';
import {
  buildBody,
  deliveryDispatcher,
  MAX_RESPONSE_BYTES,
  sendAttempt,
  USER_AGENT,
  type AttemptMessage,
} from '../../src/worker/send.js';
import { insertAttempt } from '../../src/store/attempts.js';
import { listAttempts } from '../../src/store/delivery-log.js';
import { generateSecret } from '../../src/core/signing.js';
import { testConfig } from '../support/config.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const dispatcher = deliveryDispatcher(testConfig());
const secret = generateSecret();
const message: AttemptMessage = {
  eventId: 'evt_0000000000aaaaaaaaaaaaaaaa',
  eventType: 'ticket.created',
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
  payloadText: '{"b": 2,  "a":[1, 2.50]}',
};

let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => rx?.close());

const target = (over: Partial<Parameters<typeof sendAttempt>[0]> = {}) => ({
  url: rx.url,
  timeoutSeconds: 5,
  secrets: [secret],
  ...over,
});

describe('one delivery attempt', () => {
  it('keeps the payload text byte for byte inside the envelope', () => {
    expect(buildBody(message)).toBe(
      '{"id":"evt_0000000000aaaaaaaaaaaaaaaa","type":"ticket.created","timestamp":"2026-01-02T03:04:05.678Z","data":{"b": 2,  "a":[1, 2.50]}}',
    );
    expect(JSON.parse(buildBody(message)).data).toEqual({ b: 2, a: [1, 2.5] });
  });

  it('posts a body and headers the standardwebhooks package verifies, with every active secret', async () => {
    const previous = generateSecret();
    rx.handle((_r, res) => res.writeHead(204).end());
    const before = rx.requests.length;
    const result = await sendAttempt(
      target({ secrets: [secret, previous], customHeaders: { 'x-tenant': 'acme' } }),
      message,
      { dispatcher },
    );
    expect(result).toMatchObject({ ok: true, status: 204, error: null });
    const req = rx.requests[before];
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe(USER_AGENT);
    expect(req.headers['x-tenant']).toBe('acme');
    expect(req.headers['x-webhook-event']).toBe('ticket.created');
    expect(req.headers['webhook-id']).toBe(message.eventId);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // Each secret alone verifies the request: receivers on either side of a rotation accept it.
    for (const s of [secret, previous]) {
      expect(new Webhook(s).verify(req.body, req.headers as Record<string, string>)).toMatchObject({
        id: message.eventId,
        data: { b: 2 },
      });
    }
    expect(result.requestHeaders['webhook-signature']).toBe(req.headers['webhook-signature']);
  });

  it('records a 500 as http_error with status, headers and body', async () => {
    rx.handle((_r, res) => res.writeHead(500, { 'x-why': 'boom' }).end('internal'));
    const r = await sendAttempt(target(), message, { dispatcher });
    expect(r).toMatchObject({
      ok: false,
      status: 500,
      error: 'http_error',
      responseBody: 'internal',
    });
    expect(r.responseHeaders?.['x-why']).toBe('boom');
  });

  it('does not follow a redirect', async () => {
    const before = rx.requests.length;
    rx.handle((req, res) =>
      req.url === '/elsewhere'
        ? res.writeHead(200).end()
        : res.writeHead(302, { location: '/elsewhere' }).end(),
    );
    const r = await sendAttempt(target(), message, { dispatcher });
    expect(r).toMatchObject({ ok: false, status: 302, error: 'redirect_not_followed' });
    await new Promise((res) => setTimeout(res, 50));
    expect(rx.requests.slice(before).map((q) => q.url)).toEqual(['/hook']);
  });

  it('reads only the first 4 KiB of a 10 MB answer', async () => {
    let written = 0;
    rx.handle((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < 10 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
    });
    const r = await sendAttempt(target(), message, { dispatcher });
    expect(r.ok).toBe(true);
    expect(r.responseBody).toHaveLength(MAX_RESPONSE_BYTES);
    // The socket was dropped long before the sender could push all 10 MB.
    expect(written).toBeLessThan(10 * 1024 * 1024);
  });

  it('times out on a receiver that never answers', async () => {
    rx.handle(() => {}); // never responds
    const r = await sendAttempt(target({ timeoutSeconds: 5 }), message, {
      dispatcher,
      timeoutScale: 0.05,
    });
    expect(r).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(r.durationMs).toBeGreaterThanOrEqual(200);
    expect(r.durationMs).toBeLessThan(3000);
  });

  it('classifies a refused connection and a connection reset', async () => {
    const closed = createNetServer();
    await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((res) => closed.close(() => res()));
    const refused = await sendAttempt(target({ url: `http://127.0.0.1:${port}/x` }), message, {
      dispatcher,
    });
    expect(refused).toMatchObject({ ok: false, error: 'connection_refused' });

    const rude = createNetServer((s) => s.destroy());
    await new Promise<void>((res) => rude.listen(0, '127.0.0.1', res));
    const reset = await sendAttempt(
      target({ url: `http://127.0.0.1:${(rude.address() as { port: number }).port}/x` }),
      message,
      { dispatcher },
    );
    rude.close();
    expect(reset).toMatchObject({ ok: false, error: 'connection_reset' });
  });

  it('classifies an unresolvable host and garbage instead of HTTP', async () => {
    const dns = await sendAttempt(target({ url: 'http://no-such-host.invalid/x' }), message, {
      dispatcher,
    });
    expect(dns.error).toBe('dns_failed');
    const junk = createNetServer((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    await new Promise<void>((res) => junk.listen(0, '127.0.0.1', res));
    const bad = await sendAttempt(
      target({ url: `http://127.0.0.1:${(junk.address() as { port: number }).port}/x` }),
      message,
      { dispatcher },
    );
    junk.close();
    expect(bad.error).toBe('invalid_response');
  });

  it('classifies a TLS handshake failure', async () => {
    const plain = createNetServer((s) => s.end('not tls'));
    await new Promise<void>((res) => plain.listen(0, '127.0.0.1', res));
    const r = await sendAttempt(
      target({ url: `https://127.0.0.1:${(plain.address() as { port: number }).port}/x` }),
      message,
      { dispatcher },
    );
    plain.close();
    expect(r.error).toBe('tls_error');
  });
});

describe('the attempt log', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => tdb?.drop());

  it('stores an attempt as the worker and the test endpoint record it', async () => {
    const { db } = tdb;
    const org =
      (await db.query<{ id: string }>('SELECT id FROM organizations LIMIT 1')).rows[0]?.id ??
      'org_x';
    if (org === 'org_x')
      await db.query(`INSERT INTO organizations (id, name) VALUES ('org_x', 'x')`);
    await db.query(
      `INSERT INTO webhooks (id, org_id, name, url, events, secret) VALUES ('wh_1', $1, 'w', 'http://x', '{a.b}', 's')`,
      [org],
    );
    await db.query(
      `INSERT INTO events (id, org_id, event_type, payload) VALUES ('evt_1', $1, 'a.b', '{}')`,
      [org],
    );
    await db.query(
      `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type) VALUES ('dlv_1', $1, 'wh_1', 'evt_1', 'a.b')`,
      [org],
    );
    rx.handle((_r, res) => res.writeHead(500).end('nul\u0000byte'));
    const r = await sendAttempt(target(), message, { dispatcher });
    const id = await insertAttempt(db, {
      orgId: org,
      deliveryId: 'dlv_1',
      webhookId: 'wh_1',
      attempt: 1,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      requestHeaders: r.requestHeaders,
      responseStatus: r.status,
      responseHeaders: r.responseHeaders,
      responseBody: r.responseBody,
      error: r.error,
      errorDetail: r.errorDetail,
    });
    const row = (await db.query('SELECT * FROM delivery_attempts WHERE id = $1', [id])).rows[0];
    expect(row).toMatchObject({
      delivery_id: 'dlv_1',
      attempt: 1,
      response_status: 500,
      response_body: 'nulbyte',
      error: 'http_error',
    });
    // The row keeps the signatures; the delivery log reads every header sent back.
    expect(Object.keys(row.request_headers).sort()).toEqual([
      'webhook-signature',
      'x-webhook-signature',
    ]);
    expect((await listAttempts(db, 'dlv_1'))[0].request_headers).toEqual(r.requestHeaders);
    expect(id.startsWith('att_')).toBe(true);
  });
});
