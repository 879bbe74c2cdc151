import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createReceiverApp } from '../../examples/express-receiver.js';
import { POST, received } from '../../examples/nextjs/app/api/webhooks/route.js';
import { createOrder, createSchema } from '../../examples/publish-transactional.js';
import type { WebhookEvent } from '../../sdk/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { testStore } from '../support/db.js';
import { until } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import type { Worker } from '../../src/worker/loop.js';

let t: TestApp;
let worker: Worker;
const servers: Server[] = [];

beforeAll(async () => {
  t = await createTestApp();
  for (const name of ['order.created', 'ticket.created'])
    await t.org.admin('POST', '/event-types', { name });
  worker = await startTestWorker(t);
});
afterAll(async () => {
  await worker?.stop();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await t?.close();
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function statusOf(eventId: string): Promise<string | undefined> {
  const { rows } = await t.db.query<{ status: string }>(
    'SELECT status FROM deliveries WHERE event_id = $1',
    [eventId],
  );
  return rows[0]?.status;
}

describe('examples/express-receiver.ts (Express 5)', () => {
  const events: WebhookEvent[] = [];
  let url: string;

  beforeAll(async () => {
    // The secret comes from the webhook Hookline created, as a real app's .env would: the server
    // listens first (its URL goes into the webhook), the Express app is built once the secret is known.
    const receiver: { app?: ReturnType<typeof createReceiverApp> } = {};
    url = `${await listen(createServer((req, res) => receiver.app!(req, res)))}/hooks`;
    const hook = await t.org.admin('POST', '/webhooks', {
      name: 'express',
      url,
      events: ['ticket.created'],
    });
    receiver.app = createReceiverApp(hook.body.secret, (e) => void events.push(e));
  });

  it('accepts a real delivery from the worker and answers 204', async () => {
    const ev = await t.org.publisher('POST', '/events', {
      event_type: 'ticket.created',
      payload: { ticket: 7 },
    });
    await until(
      () => events.length > 0,
      15_000,
      () => 'the event in the Express handler',
    );
    expect(events[0]).toMatchObject({
      id: ev.body.id,
      type: 'ticket.created',
      data: { ticket: 7 },
    });
    await until(
      async () => (await statusOf(ev.body.id)) === 'succeeded',
      10_000,
      () => 'the delivery recorded as succeeded',
    );
  });

  it('refuses a forged request with 400 and the reason, without calling the handler', async () => {
    const before = events.length;
    const forged = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'evt_x',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm9wZQ==',
      },
      body: JSON.stringify({
        id: 'evt_x',
        type: 'ticket.created',
        timestamp: new Date().toISOString(),
        data: {},
      }),
    });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { reason: string } }).error.reason).toBe(
      'no_matching_signature',
    );
    expect(events.length).toBe(before);
  });
});

describe('examples/nextjs/app/api/webhooks/route.ts (Web Request API)', () => {
  it('verifies a real delivery when served the way Next.js serves it (a Request per call)', async () => {
    // A stand-in for Next's server: turns each node:http request into a Request and sends the Response back.
    const base = await listen(
      createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const request = new Request(`http://127.0.0.1${req.url}`, {
          method: req.method,
          headers: Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(', ') : (v ?? ''),
          ]) as [string, string][],
          body: Buffer.concat(chunks),
        });
        const response = await POST(request);
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      }),
    );
    const hook = await t.org.admin('POST', '/webhooks', {
      name: 'next',
      url: `${base}/api/webhooks`,
      events: ['order.created'],
    });
    process.env.HOOKLINE_WEBHOOK_SECRET = hook.body.secret;
    const ev = await t.org.publisher('POST', '/events', {
      event_type: 'order.created',
      payload: { via: 'next' },
    });
    await until(
      () => received.some((e) => e.id === ev.body.id),
      15_000,
      () => 'the event in the route handler',
    );
    expect(received.find((e) => e.id === ev.body.id)).toMatchObject({
      type: 'order.created',
      data: { via: 'next' },
    });
    await t.org.admin('DELETE', `/webhooks/${hook.body.id}`);
  });

  it('answers 400 to an unsigned request and 500 without a configured secret, called directly', async () => {
    process.env.HOOKLINE_WEBHOOK_SECRET = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    const unsigned = await POST(
      new Request('http://localhost/api/webhooks', { method: 'POST', body: '{}' }),
    );
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { error: { reason: string } }).error.reason).toBe(
      'missing_headers',
    );
    delete process.env.HOOKLINE_WEBHOOK_SECRET;
    expect(
      (await POST(new Request('http://localhost/api/webhooks', { method: 'POST', body: '{}' })))
        .status,
    ).toBe(500);
  });
});

describe.skipIf(testStore !== 'postgres')('examples/publish-transactional.ts', () => {
  it('commits the order with its event, which the worker delivers; a failure after publishing leaves neither', async () => {
    const pool = new pg.Pool({ connectionString: t.database.url, max: 2 });
    const got: WebhookEvent[] = [];
    try {
      await createSchema(pool);
      const receiver: { app?: ReturnType<typeof createReceiverApp> } = {};
      const base = await listen(createServer((req, res) => receiver.app!(req, res)));
      const hook = await t.org.admin('POST', '/webhooks', {
        name: 'orders',
        url: `${base}/hooks`,
        events: ['order.created'],
      });
      receiver.app = createReceiverApp(hook.body.secret, (e) => void got.push(e));

      const event = await createOrder(pool, { id: 'ord_1', customer: 'ada', totalCents: 4200 });
      expect(event.deliveries).toBe(1);
      await until(
        () => got.length > 0,
        15_000,
        () => 'the order event at the receiver',
      );
      expect(got[0]).toMatchObject({
        id: event.id,
        type: 'order.created',
        data: { id: 'ord_1', customer: 'ada', total_cents: 4200 },
      });

      await expect(
        createOrder(
          pool,
          { id: 'ord_2', customer: 'bob', totalCents: 1 },
          { failAfterPublish: true },
        ),
      ).rejects.toThrow(/failed after publishing/);
      const orders = await pool.query('SELECT id FROM orders ORDER BY id');
      expect(orders.rows.map((r) => r.id)).toEqual(['ord_1']);
      const events = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM events WHERE payload->>'id' = 'ord_2'",
      );
      expect(events.rows[0].n).toBe(0);

      // Retrying the same order publishes once (its idempotency key), so the app can retry safely.
      await pool.query("DELETE FROM orders WHERE id = 'ord_1'");
      const again = await createOrder(pool, { id: 'ord_1', customer: 'ada', totalCents: 4200 });
      expect(again).toMatchObject({ id: event.id, duplicate: true });
    } finally {
      await pool.end();
    }
  });
});
