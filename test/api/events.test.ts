import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createMetrics } from '../../src/metrics.js';
import { isId } from '../../src/ids.js';
import type { Db } from '../../src/store/db.js';
import { caller, createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const hooks: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  for (const name of [
    'ticket.created',
    'ticket.closed',
    'contact.created',
    'order.placed',
    'old.thing',
  ])
    expect((await t.org.admin('POST', '/event-types', { name })).status).toBe(201);
  await t.org.admin('POST', '/event-types', {
    name: 'order.shipped',
    schema: {
      type: 'object',
      required: ['order_id'],
      properties: { order_id: { type: 'string' }, qty: { type: 'integer', minimum: 1 } },
    },
  });
  await t.org.admin('DELETE', '/event-types/old.thing');
  const make = async (name: string, events: string[], extra = {}) => {
    const res = await t.org.admin('POST', '/webhooks', {
      name,
      url: 'http://127.0.0.1:9/x',
      events,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    hooks[name] = res.body.id;
  };
  await make('exact', ['ticket.created']);
  await make('category', ['ticket.*']);
  await make('all', ['*']);
  await make('contacts', ['contact.created']);
  await make('off', ['*'], { is_active: false });
});
afterAll(async () => t?.close());

const deliveriesOf = async (eventId: string) =>
  (
    await t.db.query<{ webhook_id: string; status: string }>(
      'SELECT webhook_id, status FROM deliveries WHERE event_id = $1',
      [eventId],
    )
  ).rows;

describe('publishing an event', () => {
  it('writes one pending delivery per matching active webhook: exact, category.* and *', async () => {
    const res = await t.org.admin('POST', '/events', {
      event_type: 'ticket.created',
      payload: { id: 1 },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ event_type: 'ticket.created', deliveries: 3 });
    expect(res.body.id).toMatch(/^evt_/);
    const rows = await deliveriesOf(res.body.id);
    expect(rows.map((r) => r.webhook_id).sort()).toEqual(
      [hooks.exact, hooks.category, hooks.all].sort(),
    );
    expect(rows.every((r) => r.status === 'pending')).toBe(true);

    const closed = await t.org.admin('POST', '/events', {
      event_type: 'ticket.closed',
      payload: {},
    });
    expect(closed.body.deliveries).toBe(2); // category + all
    const order = await t.org.admin('POST', '/events', {
      event_type: 'order.placed',
      payload: null,
    });
    expect((await deliveriesOf(order.body.id)).map((r) => r.webhook_id)).toEqual([hooks.all]);
  });

  it('counts accepted events in the metrics', async () => {
    const before = (await t.metrics.eventsAccepted.get()).values[0]?.value ?? 0;
    await t.org.admin('POST', '/events', { event_type: 'order.placed', payload: {} });
    expect((await t.metrics.eventsAccepted.get()).values[0].value).toBe(before + 1);
  });

  it('lets a publisher key publish and refuses a viewer key', async () => {
    expect(
      (await t.org.publisher('POST', '/events', { event_type: 'order.placed', payload: {} }))
        .status,
    ).toBe(202);
    const viewer = await t.org.viewer('POST', '/events', {
      event_type: 'order.placed',
      payload: {},
    });
    expect(viewer.status).toBe(403);
    expect(
      (
        await t.org.viewer('POST', '/events/batch', {
          events: [{ event_type: 'order.placed', payload: {} }],
        })
      ).status,
    ).toBe(403);
    expect(
      (await t.as(undefined)('POST', '/events', { event_type: 'order.placed', payload: {} }))
        .status,
    ).toBe(401);
  });

  it('refuses unknown and archived event types with 422 on event_type', async () => {
    for (const event_type of ['no.such', 'old.thing']) {
      const res = await t.org.admin('POST', '/events', { event_type, payload: {} });
      expect(res.status, event_type).toBe(422);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'event_type' })]);
    }
  });

  it("refuses Hookline's own hookline.* events from any key, single and in a batch, storing nothing", async () => {
    const before = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))
      .rows[0].n;
    for (const as of [t.org.admin, t.org.publisher]) {
      const res = await as('POST', '/events', {
        event_type: 'hookline.webhook.disabled',
        payload: { webhook_id: 'wh_x' },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.details).toEqual([
        { field: 'event_type', message: expect.stringMatching(/published by Hookline itself/) },
      ]);
    }
    const batch = await t.org.publisher('POST', '/events/batch', {
      events: [
        { event_type: 'order.placed', payload: {} },
        { event_type: 'hookline.delivery.exhausted', payload: {} },
      ],
    });
    expect(batch.status).toBe(422);
    expect(batch.body.error.details).toEqual([
      { field: 'events.1.event_type', message: expect.any(String) },
    ]);
    expect(
      (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n,
    ).toBe(before);
  });

  it('checks the payload against the type schema, naming the bad fields', async () => {
    const bad = await t.org.admin('POST', '/events', {
      event_type: 'order.shipped',
      payload: { qty: 0 },
    });
    expect(bad.status).toBe(422);
    const fields = bad.body.error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['payload.order_id', 'payload.qty']);
    const good = await t.org.admin('POST', '/events', {
      event_type: 'order.shipped',
      payload: { order_id: 'o1', qty: 2 },
    });
    expect(good.status).toBe(202);
    // A changed schema applies at once (validators are cached per schema version).
    await t.org.admin('PATCH', '/event-types/order.shipped', {
      schema: { type: 'object', required: ['carrier'] },
    });
    expect(
      (
        await t.org.admin('POST', '/events', {
          event_type: 'order.shipped',
          payload: { order_id: 'o1' },
        })
      ).status,
    ).toBe(422);
    await t.org.admin('PATCH', '/event-types/order.shipped', { schema: null });
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'order.shipped', payload: 'anything' }))
        .status,
    ).toBe(202);
  });

  it('answers 413 to a payload over 256 KiB, and accepts one just under', async () => {
    const big = await t.org.admin('POST', '/events', {
      event_type: 'order.placed',
      payload: { s: 'x'.repeat(256 * 1024) },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const under = await t.org.admin('POST', '/events', {
      event_type: 'order.placed',
      payload: { s: 'x'.repeat(256 * 1024 - 20) },
    });
    expect(under.status).toBe(202);
    const huge = await t.org.admin('POST', '/events', {
      event_type: 'order.placed',
      payload: { s: 'x'.repeat(3 * 1024 * 1024) },
    });
    expect(huge.status).toBe(413);
  });

  it('refuses unknown fields and a missing payload', async () => {
    expect((await t.org.admin('POST', '/events', { event_type: 'order.placed' })).status).toBe(422);
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'order.placed', payload: {}, extra: 1 }))
        .status,
    ).toBe(422);
  });
});

describe('idempotency keys', () => {
  it('returns the first event with 200 and creates nothing for the same key and body', async () => {
    const body = { event_type: 'ticket.created', payload: { n: 1 }, idempotency_key: 'k-body-1' };
    const first = await t.org.admin('POST', '/events', body);
    expect(first.status).toBe(202);
    const again = await t.org.admin('POST', '/events', body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const n = await t.db.query('SELECT count(*)::int AS n FROM events WHERE idempotency_key = $1', [
      'k-body-1',
    ]);
    expect(n.rows[0].n).toBe(1);
    expect(await deliveriesOf(first.body.id)).toHaveLength(3);
  });

  it('accepts the key as the Idempotency-Key header, and 409s a different body under it', async () => {
    const h = { 'idempotency-key': 'k-header-1' };
    const first = await t.org.admin(
      'POST',
      '/events',
      { event_type: 'order.placed', payload: { a: 1 } },
      h,
    );
    expect(first.status).toBe(202);
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'order.placed', payload: { a: 1 } }, h))
        .body.id,
    ).toBe(first.body.id);
    const conflict = await t.org.admin(
      'POST',
      '/events',
      { event_type: 'order.placed', payload: { a: 2 } },
      h,
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    const mismatch = await t.org.admin(
      'POST',
      '/events',
      { event_type: 'order.placed', payload: {}, idempotency_key: 'x' },
      { 'idempotency-key': 'y' },
    );
    expect(mismatch.status).toBe(422);
  });

  it('keeps keys per organization, and frees a key after 24 hours', async () => {
    const other = await t.newOrg();
    await other.admin('POST', '/event-types', { name: 'order.placed' });
    const body = { event_type: 'order.placed', payload: {}, idempotency_key: 'k-shared' };
    const mine = await t.org.admin('POST', '/events', body);
    const theirs = await other.admin('POST', '/events', body);
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(mine.body.id);
    await t.db.query(`UPDATE events SET created_at = now() - interval '25 hours' WHERE id = $1`, [
      mine.body.id,
    ]);
    const later = await t.org.admin('POST', '/events', { ...body, payload: { changed: true } });
    expect(later.status).toBe(202);
    expect(later.body.id).not.toBe(mine.body.id);
  });

  it('creates one event for concurrent duplicates', async () => {
    const body = {
      event_type: 'ticket.created',
      payload: { race: true },
      idempotency_key: 'k-race',
    };
    const results = await Promise.all(
      Array.from({ length: 12 }, () => t.org.publisher('POST', '/events', body)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 202,
    ]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const n = await t.db.query('SELECT count(*)::int AS n FROM events WHERE idempotency_key = $1', [
      'k-race',
    ]);
    expect(n.rows[0].n).toBe(1);
    expect(await deliveriesOf(results[0].body.id)).toHaveLength(3);
  });
});

describe('the one-statement publish (no idempotency key, no schema)', () => {
  it('is one database statement and no transaction once the key is known', async () => {
    const statements: string[] = [];
    const counting: Db = {
      ...t.db,
      query: (sql, params) => {
        statements.push(sql);
        return t.db.query(sql, params);
      },
      transaction: (fn) => {
        statements.push('BEGIN');
        return t.db.transaction(fn);
      },
    };
    const app = await buildApp({
      db: counting,
      config: t.config,
      metrics: createMetrics(),
      wake: () => {},
    });
    try {
      await app.ready();
      const as = caller(app, t.org.keys.publisher);
      expect((await as('GET', '/me')).status).toBe(200); // the key is looked up and remembered, last_used_at written
      statements.length = 0;
      const res = await as('POST', '/events', {
        event_type: 'ticket.created',
        payload: { one: 'statement' },
      });
      expect(res.status).toBe(202);
      expect(res.body.deliveries).toBe(3);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/INSERT INTO deliveries/);
      // The rest take the transactional path, with every check.
      statements.length = 0;
      expect(
        (
          await as('POST', '/events', {
            event_type: 'ticket.created',
            payload: {},
            idempotency_key: 'k-one-statement',
          })
        ).status,
      ).toBe(202);
      expect(statements[0]).toBe('BEGIN');
    } finally {
      await app.close();
    }
  });

  it('writes deliveries with ids of newId’s shape, on the event’s time, and counts them', async () => {
    const res = await t.org.admin('POST', '/events', {
      event_type: 'ticket.closed',
      payload: { ids: true },
    });
    expect(res.status).toBe(202);
    const { rows } = await t.db.query<{
      id: string;
      org_id: string;
      event_type: string;
      status: string;
    }>('SELECT id, org_id, event_type, status FROM deliveries WHERE event_id = $1', [res.body.id]);
    expect(rows).toHaveLength(res.body.deliveries);
    expect(rows).toHaveLength(2);
    for (const d of rows) {
      expect(isId('dlv', d.id), d.id).toBe(true);
      expect(d.id.slice(4, 14)).toBe(res.body.id.slice(4, 14));
      expect(d).toMatchObject({
        org_id: t.org.orgId,
        event_type: 'ticket.closed',
        status: 'pending',
      });
    }
    expect(new Set(rows.map((d) => d.id)).size).toBe(2);
    const event = await t.db.query<{ payload: unknown; idempotency_key: string | null }>(
      'SELECT payload, idempotency_key FROM events WHERE id = $1',
      [res.body.id],
    );
    expect(event.rows[0]).toEqual({ payload: { ids: true }, idempotency_key: null });
  });

  it('matches a nested name on its prefix, a category that differs from the prefix, each webhook once, nothing inactive', async () => {
    await t.org.admin('POST', '/event-types', { name: 'ticket.status.changed' });
    await t.org.admin('POST', '/event-types', { name: 'invoice.paid', category: 'billing' });
    const hook = async (events: string[]) => {
      const res = await t.org.admin('POST', '/webhooks', {
        name: events.join(),
        url: 'http://127.0.0.1:9/m',
        events,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const billingHook = await hook(['billing.*']);
    const invoiceHook = await hook(['invoice.*', 'invoice.paid']); // two matching entries: still one delivery
    const nested = await t.org.admin('POST', '/events', {
      event_type: 'ticket.status.changed',
      payload: {},
    });
    expect((await deliveriesOf(nested.body.id)).map((r) => r.webhook_id).sort()).toEqual(
      [hooks.category, hooks.all].sort(),
    );
    const paid = await t.org.admin('POST', '/events', { event_type: 'invoice.paid', payload: {} });
    expect(paid.body.deliveries).toBe(3);
    expect((await deliveriesOf(paid.body.id)).map((r) => r.webhook_id).sort()).toEqual(
      [hooks.all, billingHook, invoiceHook].sort(),
    );
    await t.org.admin('PATCH', `/webhooks/${billingHook}`, { is_active: false });
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'invoice.paid', payload: {} })).body
        .deliveries,
    ).toBe(2);
  });

  it('sees a type archived or given a schema at once (no type is remembered)', async () => {
    await t.org.admin('POST', '/event-types', { name: 'plain.thing' });
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'plain.thing', payload: 1 })).status,
    ).toBe(202);
    await t.org.admin('PATCH', '/event-types/plain.thing', { schema: { type: 'string' } });
    const bad = await t.org.admin('POST', '/events', { event_type: 'plain.thing', payload: 1 });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].field).toBe('payload');
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'plain.thing', payload: 'ok' })).status,
    ).toBe(202);
    await t.org.admin('PATCH', '/event-types/plain.thing', { schema: null });
    expect(
      (await t.org.admin('POST', '/events', { event_type: 'plain.thing', payload: 2 })).status,
    ).toBe(202);
    await t.org.admin('DELETE', '/event-types/plain.thing');
    const archived = await t.org.admin('POST', '/events', {
      event_type: 'plain.thing',
      payload: 3,
    });
    expect(archived.status).toBe(422);
    expect(archived.body.error.details).toEqual([
      { field: 'event_type', message: '"plain.thing" is archived' },
    ]);
  });

  it('keeps publish order in seq for single publishes (fifo order)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 15; i++)
      ids.push(
        (await t.org.publisher('POST', '/events', { event_type: 'order.placed', payload: { i } }))
          .body.id,
      );
    const { rows } = await t.db.query<{ event_id: string }>(
      'SELECT event_id FROM deliveries WHERE webhook_id = $1 AND event_id = ANY($2) ORDER BY seq',
      [hooks.all, ids],
    );
    expect(rows.map((r) => r.event_id)).toEqual(ids);
  });
});

describe('batches', () => {
  it('publishes up to 500 events in one call, in order, each with its deliveries', async () => {
    const events = Array.from({ length: 500 }, (_, i) => ({
      event_type: i % 2 ? 'contact.created' : 'order.placed',
      payload: { i },
    }));
    const res = await t.org.publisher('POST', '/events/batch', { events });
    expect(res.status).toBe(202);
    expect(res.body.data).toHaveLength(500);
    expect(res.body.data[1]).toMatchObject({
      event_type: 'contact.created',
      deliveries: 2,
      duplicate: false,
    });
    expect(res.body.data[0]).toMatchObject({ event_type: 'order.placed', deliveries: 1 });
    const seqs = await t.db.query<{ event_id: string }>(
      'SELECT event_id FROM deliveries WHERE webhook_id = $1 AND event_id = ANY($2) ORDER BY seq',
      [hooks.all, res.body.data.map((e: { id: string }) => e.id)],
    );
    expect(seqs.rows.map((r) => r.event_id)).toEqual(
      res.body.data.map((e: { id: string }) => e.id),
    );
  });

  it('refuses 501 events, and refuses the whole batch when one event is bad, naming it', async () => {
    const tooMany = Array.from({ length: 501 }, () => ({
      event_type: 'order.placed',
      payload: {},
    }));
    expect((await t.org.admin('POST', '/events/batch', { events: tooMany })).status).toBe(422);
    const before = (await t.db.query('SELECT count(*)::int AS n FROM events')).rows[0].n;
    const res = await t.org.admin('POST', '/events/batch', {
      events: [
        { event_type: 'order.placed', payload: {} },
        { event_type: 'nope.nope', payload: {} },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].field).toBe('events.1.event_type');
    expect((await t.db.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(before);
  });

  it('reports duplicates inside a batch', async () => {
    const e = { event_type: 'order.placed', payload: { d: 1 }, idempotency_key: 'k-batch' };
    const res = await t.org.admin('POST', '/events/batch', { events: [e, e] });
    expect(res.status).toBe(202);
    expect(res.body.data.map((x: { duplicate: boolean }) => x.duplicate)).toEqual([false, true]);
    expect(res.body.data[0].id).toBe(res.body.data[1].id);
  });
});

describe('reading events', () => {
  it('lists events newest first with filters, and shows one with its deliveries', async () => {
    const pub = await t.org.admin('POST', '/events', {
      event_type: 'contact.created',
      payload: { who: 'ann' },
    });
    const list = await t.org.viewer('GET', '/events?event_type=contact.created&limit=2');
    expect(list.status).toBe(200);
    expect(list.body.data[0]).toMatchObject({ id: pub.body.id, payload: { who: 'ann' } });
    expect(list.body.next_cursor).not.toBeNull();
    const page2 = await t.org.viewer(
      'GET',
      `/events?event_type=contact.created&limit=2&cursor=${list.body.next_cursor}`,
    );
    expect(page2.body.data[0].id < list.body.data[1].id).toBe(true);
    const one = await t.org.viewer('GET', `/events/${pub.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body.deliveries.map((d: { webhook_id: string }) => d.webhook_id).sort()).toEqual(
      [hooks.all, hooks.contacts].sort(),
    );
    expect(one.body.deliveries[0]).toMatchObject({ status: 'pending', attempts: 0 });
    const future = await t.org.viewer(
      'GET',
      `/events?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.body.data).toEqual([]);
  });

  it('hides another organization’s events (404)', async () => {
    const pub = await t.org.admin('POST', '/events', { event_type: 'order.placed', payload: {} });
    const other = await t.newOrg();
    expect((await other.admin('GET', `/events/${pub.body.id}`)).status).toBe(404);
    expect((await other.admin('GET', '/events')).body.data).toEqual([]);
  });
});
