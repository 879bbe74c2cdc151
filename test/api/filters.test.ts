import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const hooks: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  for (const name of ['payroll.processed', 'payroll.failed'])
    expect((await t.org.admin('POST', '/event-types', { name })).status).toBe(201);
  // A type with a JSON Schema is published on the transactional path.
  await t.org.admin('POST', '/event-types', {
    name: 'invoice.paid',
    schema: { type: 'object', properties: { amount: { type: 'number' } } },
  });
  const make = async (name: string, events: string[], filter: unknown) => {
    const res = await t.org.admin('POST', '/webhooks', {
      name,
      url: 'http://127.0.0.1:9/x',
      events,
      filter,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    hooks[name] = res.body.id;
  };
  await make('plain', ['*'], undefined);
  await make('big', ['*'], { 'data.amount': { $gte: 1000 }, 'data.currency': { $in: ['EUR'] } });
  await make('failed', ['*'], { type: 'payroll.failed' });
  await make('other-type', ['invoice.paid'], { 'data.amount': { $lt: 0 } });
});
afterAll(async () => t?.close());

const receivers = async (eventId: string) =>
  (
    await t.db.query<{ webhook_id: string }>(
      'SELECT webhook_id FROM deliveries WHERE event_id = $1',
      [eventId],
    )
  ).rows
    .map((r) => Object.entries(hooks).find(([, id]) => id === r.webhook_id)![0])
    .sort();

describe('webhook filters at fan-out', () => {
  it('create no delivery for an event the filter refuses (one-statement path)', async () => {
    const big = await t.org.admin('POST', '/events', {
      event_type: 'payroll.processed',
      payload: { amount: 1500, currency: 'EUR' },
    });
    expect(big.status).toBe(202);
    expect(big.body.deliveries).toBe(2);
    expect(await receivers(big.body.id)).toEqual(['big', 'plain']);

    const small = await t.org.admin('POST', '/events', {
      event_type: 'payroll.processed',
      payload: { amount: 10, currency: 'EUR' },
    });
    expect(small.body.deliveries).toBe(1);
    expect(await receivers(small.body.id)).toEqual(['plain']);

    const failed = await t.org.admin('POST', '/events', {
      event_type: 'payroll.failed',
      payload: null,
    });
    expect(await receivers(failed.body.id)).toEqual(['failed', 'plain']);
  });

  it('filter the same on the transactional paths (batch, idempotency key, schema)', async () => {
    const batch = await t.org.admin('POST', '/events/batch', {
      events: [
        { event_type: 'payroll.processed', payload: { amount: 2000, currency: 'EUR' } },
        { event_type: 'payroll.processed', payload: { amount: 2000, currency: 'USD' } },
      ],
    });
    expect(batch.status).toBe(202);
    const [a, b] = batch.body.data;
    expect(await receivers(a.id)).toEqual(['big', 'plain']);
    expect(await receivers(b.id)).toEqual(['plain']);

    const keyed = await t.org.admin('POST', '/events', {
      event_type: 'payroll.failed',
      payload: {},
      idempotency_key: 'filters-keyed',
    });
    expect(await receivers(keyed.body.id)).toEqual(['failed', 'plain']);

    const refund = await t.org.admin('POST', '/events', {
      event_type: 'invoice.paid',
      payload: { amount: -5 },
    });
    expect(await receivers(refund.body.id)).toEqual(['other-type', 'plain']);
    const paid = await t.org.admin('POST', '/events', {
      event_type: 'invoice.paid',
      payload: { amount: 5 },
    });
    expect(await receivers(paid.body.id)).toEqual(['plain']);
  });

  it('stop applying once the filter is set to null', async () => {
    const org = await t.newOrg();
    await org.admin('POST', '/event-types', { name: 'user.created' });
    const hook = await org.admin('POST', '/webhooks', {
      name: 'h',
      url: 'http://127.0.0.1:9/x',
      events: ['user.created'],
      filter: { 'data.admin': true },
    });
    const publish = async () =>
      (await org.admin('POST', '/events', { event_type: 'user.created', payload: {} })).body
        .deliveries;
    expect(await publish()).toBe(0);
    const patched = await org.admin('PATCH', `/webhooks/${hook.body.id}`, { filter: null });
    expect(patched.body.filter).toBeNull();
    expect(await publish()).toBe(1);
  });
});

describe('the filtered set remembered between publishes', () => {
  it('follow every change of the subscribed filtered webhooks, one publish after another', async () => {
    const org = await t.newOrg();
    await org.admin('POST', '/event-types', { name: 'leave.approved' });
    const ids: Record<string, string> = {};
    const make = async (name: string, filter: unknown) => {
      const res = await org.admin('POST', '/webhooks', {
        name,
        url: 'http://127.0.0.1:9/x',
        events: ['leave.approved'],
        filter,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids[name] = res.body.id;
    };
    const publish = async (days: number) => {
      const res = await org.admin('POST', '/events', {
        event_type: 'leave.approved',
        payload: { days },
      });
      expect(res.status).toBe(202);
      const { rows } = await t.db.query<{ webhook_id: string }>(
        'SELECT webhook_id FROM deliveries WHERE event_id = $1',
        [res.body.id],
      );
      expect(rows.length).toBe(res.body.deliveries);
      return rows.map((r) => Object.keys(ids).find((n) => ids[n] === r.webhook_id)).sort();
    };
    await make('long', { 'data.days': { $gte: 10 } });
    await make('short', { 'data.days': { $lt: 10 } });
    await make('any', { 'data.days': { $exists: true } });
    // Two of three pass (the verdict names the one that fails), then one of three.
    expect(await publish(12)).toEqual(['any', 'long']);
    expect(await publish(2)).toEqual(['any', 'short']);

    // A changed filter is judged afresh at the next publish.
    await org.admin('PATCH', `/webhooks/${ids.long}`, { filter: { 'data.days': { $gte: 20 } } });
    expect(await publish(12)).toEqual(['any']);
    // A webhook paused, or added, or deleted, changes the set.
    await org.admin('PATCH', `/webhooks/${ids.any}`, { is_active: false });
    expect(await publish(25)).toEqual(['long']);
    await make('exact', { 'data.days': 25 });
    expect(await publish(25)).toEqual(['exact', 'long']);
    expect((await org.admin('DELETE', `/webhooks/${ids.long}`)).status).toBe(204);
    expect(await publish(25)).toEqual(['exact']);
    // No filtered webhook left: the set remembered must not hold back a plain one.
    await org.admin('PATCH', `/webhooks/${ids.exact}`, { filter: null });
    await org.admin('PATCH', `/webhooks/${ids.short}`, { filter: null });
    expect(await publish(1)).toEqual(['exact', 'short']);
    await org.admin('PATCH', `/webhooks/${ids.short}`, { filter: { 'data.days': 0 } });
    expect(await publish(1)).toEqual(['exact']);
  });
});

describe('filter validation at save', () => {
  it('answers 422 naming the path and the operator', async () => {
    const res = await t.org.admin('POST', '/webhooks', {
      name: 'bad',
      url: 'http://127.0.0.1:9/x',
      events: ['*'],
      filter: { $or: [{ 'data.amount': { $gtx: 1 } }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual([
      { field: 'filter.$or.0.data.amount.$gtx', message: 'unknown operator $gtx' },
    ]);
    const patch = await t.org.admin('PATCH', `/webhooks/${hooks.plain}`, {
      filter: { 'data.x': { $in: 'nope' } },
    });
    expect(patch.status).toBe(422);
    expect(patch.body.error.details[0].field).toBe('filter.data.x.$in');
    const array = await t.org.admin('PATCH', `/webhooks/${hooks.plain}`, { filter: [1] });
    expect(array.status).toBe(422);
    expect(array.body.error.details[0].field).toMatch(/filter/);
  });

  it('shows the filter on the webhook', async () => {
    const res = await t.org.admin('GET', `/webhooks/${hooks.failed}`);
    expect(res.body.filter).toEqual({ type: 'payroll.failed' });
    expect((await t.org.admin('GET', `/webhooks/${hooks.plain}`)).body.filter).toBeNull();
  });
});

describe('POST /filters/test', () => {
  it('says which of the latest events of the given types match', async () => {
    const org = await t.newOrg();
    await org.admin('POST', '/event-types', { name: 'order.placed' });
    await org.admin('POST', '/event-types', { name: 'order.cancelled' });
    for (let i = 0; i < 25; i++)
      await org.admin('POST', '/events', { event_type: 'order.placed', payload: { n: i } });
    await org.admin('POST', '/events', { event_type: 'order.cancelled', payload: { n: 100 } });
    const res = await org.viewer('POST', '/filters/test', {
      filter: { 'data.n': { $gte: 20 } },
      event_types: ['order.placed'],
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(20);
    expect(
      res.body.data.every((e: { event_type: string }) => e.event_type === 'order.placed'),
    ).toBe(true);
    expect(res.body.matched).toBe(5);
    expect(res.body.data.slice(0, 5).every((e: { matches: boolean }) => e.matches)).toBe(true);

    const all = await org.admin('POST', '/filters/test', { filter: null });
    expect(all.body.data[0].event_type).toBe('order.cancelled');
    expect(all.body.matched).toBe(20);

    const bad = await org.admin('POST', '/filters/test', { filter: { 'data.n': { $near: 1 } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].field).toBe('filter.data.n.$near');
    // Another organization's events are not seen.
    const other = await t.org.admin('POST', '/filters/test', {
      filter: null,
      event_types: ['order.placed'],
    });
    expect(other.body.data).toEqual([]);
  });
});

describe('POST /filters/test and /transformations/simulate from a portal session', () => {
  it("see only the session's own tenant's events, never another tenant's or the organization's", async () => {
    const org = await t.newOrg();
    await org.admin('POST', '/event-types', { name: 'shift.started' });
    const ids: Record<string, string[]> = { a: [], b: [], org: [] };
    for (let i = 0; i < 3; i++)
      for (const [who, tenant] of [
        ['a', 'tenant-a'],
        ['b', 'tenant-b'],
        ['org', undefined],
      ] as const) {
        const res = await org.publisher('POST', '/events', {
          event_type: 'shift.started',
          payload: { n: i, who },
          ...(tenant ? { tenant_id: tenant } : {}),
        });
        expect(res.status).toBe(202);
        ids[who].push(res.body.id);
      }
    const session = await org.admin('POST', '/tenants/tenant-a/portal-sessions', {});
    const readOnly = await org.admin('POST', '/tenants/tenant-a/portal-sessions', {
      read_only: true,
    });
    for (const token of [session.body.token, readOnly.body.token]) {
      const asA = t.as(token);
      for (const body of [
        { filter: { 'data.n': { $gte: 1 } }, event_types: ['shift.started'] },
        { filter: null },
        { filter: { 'data.who': 'b' } },
      ]) {
        const res = await asA('POST', '/filters/test', body);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const seen = res.body.data.map((e: { id: string }) => e.id).sort();
        expect(seen).toEqual([...ids.a].sort());
        expect(JSON.stringify(res.body)).not.toMatch(/tenant-b|"who"/);
      }
      const matched = await asA('POST', '/filters/test', { filter: { 'data.n': { $gte: 1 } } });
      expect(matched.body.matched).toBe(2);
      expect(
        (await asA('POST', '/filters/test', { filter: { 'data.who': 'b' } })).body.matched,
      ).toBe(0);
      const sim = await asA('POST', '/transformations/simulate', {
        code: 'function handler(w) { w.payload.data.ok = true; return w }',
        event_type: 'shift.started',
        payload: { n: 1 },
      });
      expect(sim.status).toBe(200);
      expect(sim.body.payload.data).toEqual({ n: 1, ok: true });
    }
    // The organization's key still sees every event.
    const all = await org.viewer('POST', '/filters/test', { filter: null });
    expect(all.body.data).toHaveLength(9);
  });
});
