import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { publish, publishMany, HooklineError } from '../../sdk/publish.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { testStore } from '../support/db.js';
import { startReceiver, until } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import { verify } from '../../sdk/verify.js';

// The application's own connection is node-postgres on a real server: PostgreSQL store only.
describe.skipIf(testStore !== 'postgres')(
  'transactional publish with the application’s pg client',
  () => {
    let t: TestApp;
    let app: pg.Client;
    let webhookId: string;

    beforeAll(async () => {
      t = await createTestApp();
      await t.org.admin('POST', '/event-types', {
        name: 'order.created',
        schema: { type: 'object', required: ['id'] },
      });
      const wh = await t.org.admin('POST', '/webhooks', {
        name: 'orders',
        url: 'http://127.0.0.1:9/hook',
        events: ['order.*'],
      });
      webhookId = wh.body.id;
      app = new pg.Client({ connectionString: t.database.url });
      await app.connect();
      await app.query('CREATE TABLE orders (id text PRIMARY KEY, total int NOT NULL)');
    });
    afterAll(async () => {
      await app?.end();
      await t?.close();
    });

    async function counts(orderId: string) {
      const orders = await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM orders WHERE id = $1',
        [orderId],
      );
      const events = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM events WHERE payload->>'id' = $1",
        [orderId],
      );
      const deliveries = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.payload->>'id' = $1 AND d.webhook_id = $2",
        [orderId, webhookId],
      );
      return {
        orders: orders.rows[0].n,
        events: events.rows[0].n,
        deliveries: deliveries.rows[0].n,
      };
    }

    it('commits the application row, the event and its delivery together', async () => {
      await app.query('BEGIN');
      await app.query('INSERT INTO orders (id, total) VALUES ($1, $2)', ['o1', 42]);
      const event = await publish(app, {
        eventType: 'order.created',
        payload: { id: 'o1', total: 42 },
      });
      expect(event).toMatchObject({
        id: expect.stringMatching(/^evt_/),
        eventType: 'order.created',
        deliveries: 1,
        duplicate: false,
      });
      // Not visible to anyone else before the commit.
      expect(await counts('o1')).toEqual({ orders: 0, events: 0, deliveries: 0 });
      await app.query('COMMIT');
      expect(await counts('o1')).toEqual({ orders: 1, events: 1, deliveries: 1 });
      const shown = await t.org.admin('GET', `/events/${event.id}`);
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ id: event.id, event_type: 'order.created' });
    });

    it("publishes for a tenant with { tenantId }: its webhooks only, not the organization's", async () => {
      const mine = await t.org.admin('POST', '/webhooks', {
        name: 'tenant orders',
        url: 'http://127.0.0.1:9/hook',
        events: ['order.*'],
        tenant_id: 'sdk-tenant',
      });
      await app.query('BEGIN');
      const event = await publish(app, {
        eventType: 'order.created',
        payload: { id: 'o-tenant' },
        tenantId: 'sdk-tenant',
      });
      const nobody = await publish(app, {
        eventType: 'order.created',
        payload: { id: 'o-nobody' },
        tenantId: 'sdk-unregistered',
      });
      await app.query('COMMIT');
      expect([event.deliveries, nobody.deliveries]).toEqual([1, 0]);
      const { rows } = await t.db.query<{ webhook_id: string }>(
        'SELECT webhook_id FROM deliveries WHERE event_id = $1',
        [event.id],
      );
      expect(rows).toEqual([{ webhook_id: mine.body.id }]);
      await t.org.admin('DELETE', `/webhooks/${mine.body.id}`);
    });

    it('rolls back to leave neither the row nor the event', async () => {
      await app.query('BEGIN');
      await app.query('INSERT INTO orders (id, total) VALUES ($1, $2)', ['o2', 7]);
      await publish(app, { orgId: t.org.orgId, eventType: 'order.created', payload: { id: 'o2' } });
      await app.query('ROLLBACK');
      expect(await counts('o2')).toEqual({ orders: 0, events: 0, deliveries: 0 });
    });

    it('wakes listening workers on commit, not before, and not on rollback', async () => {
      const listener = new pg.Client({ connectionString: t.database.url });
      await listener.connect();
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.channel));
      await listener.query('LISTEN hookline_wake');
      try {
        await app.query('BEGIN');
        await publish(app, { eventType: 'order.created', payload: { id: 'o3' } });
        await app.query('ROLLBACK');
        await app.query('BEGIN');
        await publish(app, { eventType: 'order.created', payload: { id: 'o4' } });
        await listener.query('SELECT 1'); // a round trip on the listening connection
        expect(heard).toEqual([]);
        await app.query('COMMIT');
        await until(
          () => heard.length > 0,
          5000,
          () => 'a NOTIFY on hookline_wake',
        );
        expect(heard).toEqual(['hookline_wake']);
      } finally {
        await listener.end();
      }
    });

    it('refuses a bad publish with the API’s error and leaves the application’s transaction usable', async () => {
      await app.query('BEGIN');
      await app.query('INSERT INTO orders (id, total) VALUES ($1, $2)', ['o5', 1]);
      const unknown = await publish(app, {
        eventType: 'order.vanished',
        payload: { id: 'o5' },
      }).catch((e) => e);
      expect(unknown).toBeInstanceOf(HooklineError);
      expect([unknown.code, unknown.status]).toEqual(['VALIDATION_FAILED', 422]);
      const badPayload = await publish(app, {
        eventType: 'order.created',
        payload: { total: 1 },
      }).catch((e) => e);
      expect(badPayload.code).toBe('VALIDATION_FAILED');
      await app.query('COMMIT');
      expect(await counts('o5')).toEqual({ orders: 1, events: 0, deliveries: 0 });
    });

    it('refuses to run outside a transaction', async () => {
      await expect(
        publish(app, { eventType: 'order.created', payload: { id: 'o6' } }),
      ).rejects.toThrow(/inside a transaction/);
      expect(await counts('o6')).toEqual({ orders: 0, events: 0, deliveries: 0 });
    });

    it('honours idempotency keys and publishes several events all or none', async () => {
      await app.query('BEGIN');
      const first = await publish(app, {
        eventType: 'order.created',
        payload: { id: 'o7' },
        idempotencyKey: 'order-o7',
      });
      await app.query('COMMIT');
      await app.query('BEGIN');
      const again = await publish(app, {
        eventType: 'order.created',
        payload: { id: 'o7' },
        idempotencyKey: 'order-o7',
      });
      await app.query('COMMIT');
      expect(again).toMatchObject({ id: first.id, duplicate: true, deliveries: 1 });

      await app.query('BEGIN');
      const failed = await publishMany(app, [
        { eventType: 'order.created', payload: { id: 'o8' } },
        { eventType: 'order.created', payload: { nope: true } },
      ]).catch((e) => e);
      expect(failed).toBeInstanceOf(HooklineError);
      const both = await publishMany(app, [
        { eventType: 'order.created', payload: { id: 'o9' } },
        { eventType: 'order.created', payload: { id: 'o10' } },
      ]);
      await app.query('COMMIT');
      expect(both.map((e) => e.deliveries)).toEqual([1, 1]);
      expect((await counts('o8')).events).toBe(0);
      expect((await counts('o9')).events + (await counts('o10')).events).toBe(2);
    });

    it('the worker, woken by the commit, delivers what was committed and nothing that was rolled back', async () => {
      await t.org.admin('POST', '/event-types', { name: 'invoice.paid' });
      const receiver = await startReceiver();
      const hook = await t.org.admin('POST', '/webhooks', {
        name: 'invoices',
        url: receiver.url,
        events: ['invoice.paid'],
      });
      const worker = await startTestWorker(t);
      try {
        await app.query('BEGIN');
        await app.query('INSERT INTO orders (id, total) VALUES ($1, $2)', ['inv-rolled-back', 1]);
        await publish(app, { eventType: 'invoice.paid', payload: { id: 'inv-rolled-back' } });
        await app.query('ROLLBACK');
        await app.query('BEGIN');
        await app.query('INSERT INTO orders (id, total) VALUES ($1, $2)', ['inv-1', 99]);
        const event = await publish(app, {
          eventType: 'invoice.paid',
          payload: { id: 'inv-1', total: 99 },
        });
        await app.query('COMMIT');
        const [req] = await receiver.waitFor(1, 15_000);
        const received = verify(req.body, req.headers, hook.body.secret);
        expect(received).toMatchObject({
          id: event.id,
          type: 'invoice.paid',
          data: { id: 'inv-1', total: 99 },
        });
        await until(
          async () =>
            (
              await t.db.query<{ status: string }>(
                'SELECT status FROM deliveries WHERE event_id = $1',
                [event.id],
              )
            ).rows[0]?.status === 'succeeded',
          10_000,
          () => 'the delivery to be recorded as succeeded',
        );
        expect(receiver.requests.map((r) => JSON.parse(r.body).data.id)).toEqual(['inv-1']);
      } finally {
        await worker.stop();
        await receiver.close();
      }
    });

    it('works with a postgres.js transaction too: sql.begin commits or rolls back both', async () => {
      const sql = postgres(t.database.url!, { max: 1, onnotice: () => {} });
      try {
        const event = await sql.begin(async (tx) => {
          await tx`INSERT INTO orders (id, total) VALUES ('pj1', 5)`;
          return publish(tx, {
            eventType: 'order.created',
            payload: { id: 'pj1', via: 'postgres.js' },
          });
        });
        expect(event).toMatchObject({
          id: expect.stringMatching(/^evt_/),
          deliveries: 1,
          duplicate: false,
        });
        expect(await counts('pj1')).toEqual({ orders: 1, events: 1, deliveries: 1 });

        await expect(
          sql.begin(async (tx) => {
            await tx`INSERT INTO orders (id, total) VALUES ('pj2', 5)`;
            await publish(tx, { eventType: 'order.created', payload: { id: 'pj2' } });
            throw new Error('the application changed its mind');
          }),
        ).rejects.toThrow(/changed its mind/);
        expect(await counts('pj2')).toEqual({ orders: 0, events: 0, deliveries: 0 });

        // A refused publish leaves the postgres.js transaction usable too.
        await sql.begin(async (tx) => {
          await tx`INSERT INTO orders (id, total) VALUES ('pj3', 5)`;
          await expect(publish(tx, { eventType: 'order.nope', payload: {} })).rejects.toMatchObject(
            { code: 'VALIDATION_FAILED' },
          );
        });
        expect((await counts('pj3')).orders).toBe(1);

        await expect(
          publish(sql, { eventType: 'order.created', payload: { id: 'pj4' } }),
        ).rejects.toThrow(/inside a transaction/);
      } finally {
        await sql.end();
      }
    });
  },
);
