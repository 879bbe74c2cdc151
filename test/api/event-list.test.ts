import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishEvents } from '../../src/store/events.js';
import { createTestApp, type TestApp } from '../support/app.js';

// GET /events: the `operational` filter and each event's deliveries_summary (docs/api.md, "Events").

let t: TestApp;
let appEvent: string;
let quietEvent: string;
let opsEvent: string;

beforeAll(async () => {
  t = await createTestApp();
  expect((await t.org.admin('POST', '/event-types', { name: 'order.placed' })).status).toBe(201);
  expect((await t.org.admin('POST', '/event-types', { name: 'order.other' })).status).toBe(201);
  for (const name of ['a', 'b', 'c']) {
    const res = await t.org.admin('POST', '/webhooks', {
      name,
      url: 'http://127.0.0.1:9/x',
      events: ['order.placed'],
    });
    expect(res.status).toBe(201);
  }
  quietEvent = (await t.org.admin('POST', '/events', { event_type: 'order.other', payload: {} }))
    .body.id;
  appEvent = (await t.org.admin('POST', '/events', { event_type: 'order.placed', payload: {} }))
    .body.id;
  // Hookline publishes its own events through the store (the API refuses hookline.* from keys).
  [{ id: opsEvent }] = await publishEvents(t.db, t.org.orgId, [
    { eventType: 'hookline.webhook.disabled', payload: { webhook_id: 'wh_x' } },
  ]);
  // Three deliveries in three states: one delivered, one retrying, one still queued.
  const { rows } = await t.db.query<{ id: string }>(
    'SELECT id FROM deliveries WHERE event_id = $1 ORDER BY id',
    [appEvent],
  );
  expect(rows).toHaveLength(3);
  await t.db.query(
    "UPDATE deliveries SET state = 'succeeded', attempts = 1, completed_at = now() WHERE id = $1",
    [rows[0].id],
  );
  await t.db.query('UPDATE deliveries SET attempts = 1 WHERE id = $1', [rows[1].id]);
});
afterAll(async () => t?.close());

const ids = (body: { data: { id: string }[] }) => body.data.map((e) => e.id);

describe('GET /events?operational=', () => {
  it('lists both kinds by default and with all, as before the parameter existed', async () => {
    for (const q of ['', '?operational=all']) {
      const res = await t.org.viewer('GET', `/events${q}`);
      expect(res.status).toBe(200);
      expect(ids(res.body)).toEqual([opsEvent, appEvent, quietEvent]);
    }
  });

  it("false lists the application's events only, true Hookline's hookline.* events only", async () => {
    const app = await t.org.viewer('GET', '/events?operational=false');
    expect(ids(app.body)).toEqual([appEvent, quietEvent]);
    const ops = await t.org.viewer('GET', '/events?operational=true');
    expect(ids(ops.body)).toEqual([opsEvent]);
  });

  it('pages within the filter: the cursor keeps it', async () => {
    const first = await t.org.viewer('GET', '/events?operational=false&limit=1');
    expect(ids(first.body)).toEqual([appEvent]);
    const next = await t.org.viewer(
      'GET',
      `/events?operational=false&limit=1&cursor=${first.body.next_cursor}`,
    );
    expect(ids(next.body)).toEqual([quietEvent]);
    expect(next.body.next_cursor).toBeNull();
  });

  it('refuses any other value with 422 naming the parameter', async () => {
    const res = await t.org.viewer('GET', '/events?operational=yes');
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.error)).toContain('operational');
  });
});

describe('deliveries_summary on each listed event', () => {
  it('counts the deliveries by the status the API shows', async () => {
    const res = await t.org.viewer('GET', '/events');
    const byId = new Map(res.body.data.map((e: any) => [e.id, e.deliveries_summary]));
    expect(byId.get(appEvent)).toEqual({
      total: 3,
      succeeded: 1,
      failed: 0,
      pending: 1,
      retrying: 1,
      sending: 0,
      cancelled: 0,
      skipped: 0,
    });
    expect(byId.get(quietEvent)).toMatchObject({ total: 0, succeeded: 0, pending: 0 });
  });

  it('is read in the list statement itself, not one query per event', async () => {
    const statements: string[] = [];
    const query = t.db.query.bind(t.db);
    t.db.query = ((text: string, ...rest: unknown[]) => {
      statements.push(text);
      return (query as any)(text, ...rest);
    }) as typeof t.db.query;
    try {
      expect((await t.org.viewer('GET', '/events')).status).toBe(200);
    } finally {
      t.db.query = query;
    }
    expect(statements.filter((s) => /\bdeliveries\b/.test(s))).toHaveLength(1);
  });
});
