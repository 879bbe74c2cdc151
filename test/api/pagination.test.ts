import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;

// Every list route of the foundation, with how to tell its items apart.
const lists: Array<[string, (item: any) => string]> = [
  ['/event-types', (e) => e.name],
  ['/webhooks', (w) => w.id],
  ['/api-keys', (k) => k.id],
];

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  for (let i = 0; i < 3; i++) {
    await t.org.admin('POST', '/webhooks', {
      name: `w${i}`,
      url: 'http://127.0.0.1:9/',
      events: ['*'],
    });
    await t.org.admin('POST', '/api-keys', { role: 'viewer', name: `k${i}` });
  }
});
afterAll(async () => t?.close());

describe('pagination edge cases', () => {
  it.each(lists)('%s: limit must be a whole number from 1 to 500', async (path) => {
    for (const limit of ['0', '-1', '501', '1.5', 'abc', '1e3', '']) {
      const res = await t.org.admin('GET', `${path}?limit=${limit}`);
      if (limit === '') {
        // An empty value is "not given" only in the sense that it is coerced; it must still be a 4xx or the default.
        expect([200, 422], `limit=${limit}`).toContain(res.status);
        continue;
      }
      expect(res.status, `limit=${limit}`).toBe(422);
      expect(res.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [expect.objectContaining({ field: 'limit' })],
      });
    }
    for (const limit of [1, 500])
      expect((await t.org.admin('GET', `${path}?limit=${limit}`)).status).toBe(200);
  });

  it.each(lists)('%s: limit=1 walks every item exactly once', async (path, keyOf) => {
    const all = (await t.org.admin('GET', `${path}?limit=500`)).body;
    expect(all.next_cursor).toBeNull();
    expect(all.data.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const res: any = await t.org.admin(
        'GET',
        `${path}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.body.data.length).toBeLessThanOrEqual(1);
      seen.push(...res.body.data.map(keyOf));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.data.map(keyOf));
  });

  it.each(lists)(
    '%s: a cursor this API did not return is a 422 in the error format',
    async (path) => {
      for (const cursor of [
        '%25%25%25',
        'abc',
        '!!',
        'x'.repeat(513),
        Buffer.from([0xff, 0xfe]).toString('base64url'),
      ]) {
        const res = await t.org.admin('GET', `${path}?cursor=${cursor}`);
        expect(res.status, `cursor=${cursor.slice(0, 20)}`).toBe(422);
        expect(res.body.error).toMatchObject({
          code: 'VALIDATION_FAILED',
          message: expect.any(String),
        });
        expect(res.body.error.details[0].field).toBe('cursor');
      }
      // A well-formed cursor holding SQL is only a sort key: compared, never executed.
      const sql = Buffer.from("' OR 1=1 --", 'utf8').toString('base64url');
      expect((await t.org.admin('GET', `${path}?cursor=${sql}`)).status).toBe(200);
      expect((await t.org.admin('GET', `${path}?cursor=`)).status).toBe(200);
    },
  );
});
