import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/core/signing.js';
import { isStorableDateTime } from '../../src/api/edge-bounds.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let webhookId: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'edge.poked' });
  const wh = await t.org.admin('POST', '/webhooks', {
    name: 'edge',
    url: 'https://hooks.example.test/in',
    events: ['edge.poked'],
  });
  webhookId = wh.body.id;
});
afterAll(async () => t?.close());

/** Dates a client may send that JavaScript or PostgreSQL cannot hold. */
const BAD_DATES = [
  '0000-01-01T00:00:00Z',
  '2026-06-30T23:59:60Z',
  '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:00+24:00',
  // Years 0001 and 9999 as written, years 0 and 10000 in UTC.
  '0001-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59-23:59',
];

function expect4xx(res: { status: number; body: any }, what: string) {
  expect([400, 422], `${what}: ${JSON.stringify(res.body)}`).toContain(res.status);
  expect(res.body.error.code, what).toMatch(/^[A-Z_]+$/);
}

describe('dates and integers are range-checked at the edge', () => {
  it('answers out-of-range since/until on every list route and replay with 4xx, never 500', async () => {
    for (const date of BAD_DATES) {
      const q = encodeURIComponent(date);
      for (const path of [
        `/events?since=${q}`,
        `/events?until=${q}`,
        `/deliveries?since=${q}`,
        `/deliveries?until=${q}`,
        `/webhooks/${webhookId}/deliveries?since=${q}`,
        `/audit-log?since=${q}`,
        `/audit-log?until=${q}`,
      ])
        expect4xx(await t.org.admin('GET', path), path);
      expect4xx(
        await t.org.admin('POST', `/webhooks/${webhookId}/replay`, { since: date }),
        `replay since ${date}`,
      );
      expect4xx(
        await t.org.admin('POST', `/webhooks/${webhookId}/replay`, {
          since: '2026-01-01T00:00:00Z',
          until: date,
        }),
        `replay until ${date}`,
      );
    }
    // The good ones still work.
    expect((await t.org.admin('GET', '/events?since=2026-01-01T00:00:00.123%2B02:00')).status).toBe(
      200,
    );
  });

  it('refuses relay results whose duration_ms does not fit the integer column', async () => {
    const relay = await t.org.admin('POST', '/relay', {
      session: 'edge',
      secret: generateSecret(),
      events: ['edge.*'],
    });
    const id = relay.body.id;
    await t.org.admin('POST', '/events', { event_type: 'edge.poked', payload: {} });
    const next = await t.org.admin('GET', `/relay/${id}/next?wait=0`);
    const d = next.body.deliveries[0];
    const res = await t.org.admin('POST', `/relay/${id}/deliveries/${d.id}/result`, {
      lease: d.lease,
      ok: true,
      started_at: new Date().toISOString(),
      duration_ms: 2 ** 31,
      request_headers: {},
      status: 200,
      response_headers: {},
      response_body: 'ok',
      error: null,
      error_detail: null,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'duration_ms' })]);
  });

  it('reads only RFC 3339 date-times both stores hold', () => {
    for (const d of BAD_DATES) expect(isStorableDateTime(d), d).toBe(false);
    for (const d of [
      '2026-12-02T04:00:00Z',
      '2024-02-29T23:59:59.999999+05:30',
      '0001-01-01T00:00:00Z',
    ])
      expect(isStorableDateTime(d), d).toBe(true);
  });
});
