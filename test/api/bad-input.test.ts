import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let webhookId: string;

/** Row counts of every table a write route touches: bad input must leave them all as they were. */
async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['event_types', 'webhooks', 'api_keys', 'audit_log']) {
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = rows[0].n;
  }
  return out;
}

// The write routes of the foundation, each with a valid body to corrupt.
const writes = (): Array<[string, string, Record<string, unknown>]> => [
  ['POST', '/event-types', { name: 'bad.input' }],
  ['PATCH', '/event-types/ticket.created', { description: 'd' }],
  ['POST', '/webhooks', { name: 'w', url: 'http://127.0.0.1:9/', events: ['*'] }],
  ['PATCH', `/webhooks/${webhookId}`, { name: 'w2' }],
  ['POST', '/api-keys', { role: 'viewer' }],
];

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  webhookId = (
    await t.org.admin('POST', '/webhooks', { name: 'w', url: 'http://127.0.0.1:9/', events: ['*'] })
  ).body.id;
});
afterAll(async () => t?.close());

describe('bad input gets a clear 4xx in the error format and stores nothing', () => {
  it('refuses malformed bodies on every write route', async () => {
    const before = await counts();
    for (const [method, path, good] of writes()) {
      const cases: Array<[string, unknown, number, string, Record<string, string>?]> = [
        ['truncated JSON', JSON.stringify(good).slice(0, -3), 400, 'MALFORMED_JSON'],
        ['trailing garbage', JSON.stringify(good) + 'x', 400, 'MALFORMED_JSON'],
        ['single quotes', "{'name': 'x'}", 400, 'MALFORMED_JSON'],
        ['empty body', '', 400, 'MALFORMED_JSON'],
        [
          'non-UTF-8 bytes',
          Buffer.concat([
            Buffer.from('{"name": "'),
            Buffer.from([0xc3, 0x28, 0xff]),
            Buffer.from('"}'),
          ]),
          400,
          'MALFORMED_JSON',
        ],
        [
          'prototype poisoning',
          `{"__proto__": {"admin": true}, ${JSON.stringify(good).slice(1)}`,
          400,
          'MALFORMED_JSON',
        ],
        ['too deep', '['.repeat(100) + ']'.repeat(100), 400, 'BAD_REQUEST'],
        ['an array', '[]', 422, 'VALIDATION_FAILED'],
        ['null', 'null', 422, 'VALIDATION_FAILED'],
        ['a string', '"x"', 422, 'VALIDATION_FAILED'],
        ['unknown field', { ...good, extra: 1 }, 422, 'VALIDATION_FAILED'],
        [
          'NUL in a string',
          Object.fromEntries(
            Object.entries(good).map(([k, v]) => [k, typeof v === 'string' ? `${v}\u0000` : v]),
          ),
          422,
          'VALIDATION_FAILED',
        ],
        ['too large', '{"name": "' + 'x'.repeat(1024 * 1024) + '"}', 413, 'PAYLOAD_TOO_LARGE'],
        ['text/plain', 'name=x', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }],
        [
          'form',
          'name=x',
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          { 'content-type': 'application/x-www-form-urlencoded' },
        ],
      ];
      for (const [label, body, status, code, headers] of cases) {
        const res = await t.org.admin(method as 'POST', path, body, headers);
        const what = `${method} ${path}: ${label}`;
        expect(res.status, what).toBe(status);
        expect(res.body.error, what).toMatchObject({ code, message: expect.any(String) });
        expect(Object.keys(res.body), what).toEqual(['error']);
        expect(Object.keys(res.body.error).sort(), what).toEqual(['code', 'details', 'message']);
      }
    }
    expect(await counts()).toEqual(before);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('reads an empty JSON body as the defaults on a POST whose fields are all optional, and nowhere else', async () => {
    const hook = (
      await t.org.admin('POST', '/webhooks', {
        name: 'empty',
        url: 'http://127.0.0.1:9/',
        events: ['*'],
      })
    ).body;
    // What `curl -X POST -H 'content-type: application/json' …/rotate-secret` sends.
    const rotated = await t.org.admin('POST', `/webhooks/${hook.id}/rotate-secret`, '');
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.secret).not.toBe(hook.secret);
    // The default grace: the old secret still signs for a day.
    const { rows } = await t.db.query('SELECT previous_secrets FROM webhooks WHERE id = $1', [
      hook.id,
    ]);
    expect(rows[0].previous_secrets).toHaveLength(1);
    // A body with required fields is still a clear 400, and so is an empty PATCH (likely a client bug).
    expect((await t.org.admin('POST', '/webhooks', '')).body.error.code).toBe('MALFORMED_JSON');
    expect((await t.org.admin('PATCH', `/webhooks/${hook.id}`, '')).body.error.code).toBe(
      'MALFORMED_JSON',
    );
  });

  it('refuses wrong types and oversize strings, naming each field', async () => {
    const before = await counts();
    const cases: Array<[string, string, unknown, string[]]> = [
      ['POST', '/event-types', { name: 5, description: ['x'] }, ['description', 'name']],
      ['POST', '/event-types', { name: 'a.' + 'b'.repeat(300) }, ['name']],
      [
        'POST',
        '/event-types',
        { name: 'a.b', description: 'x'.repeat(1001), schema: 'not an object' },
        ['description', 'schema'],
      ],
      ['PATCH', '/event-types/ticket.created', { archived: 'yes' }, ['archived']],
      [
        'POST',
        '/webhooks',
        {
          name: 'w',
          url: 'http://127.0.0.1:9/' + 'x'.repeat(5000),
          events: ['*'],
          timeout_seconds: '30',
        },
        ['timeout_seconds', 'url'],
      ],
      [
        'POST',
        '/webhooks',
        { name: { first: 'w' }, url: 7, events: [null] },
        ['events.0', 'name', 'url'],
      ],
      [
        'PATCH',
        `/webhooks/${webhookId}`,
        { is_active: 1, custom_headers: 'X-A: b' },
        ['custom_headers', 'is_active'],
      ],
      ['POST', '/api-keys', { role: 'root', name: 'k'.repeat(256) }, ['name', 'role']],
    ];
    for (const [method, path, body, fields] of cases) {
      const res = await t.org.admin(method as 'POST', path, body);
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(
        res.body.error.details.map((d: { field: string }) => d.field).sort(),
        JSON.stringify(body).slice(0, 80),
      ).toEqual(fields);
    }
    expect(await counts()).toEqual(before);
  });

  it('names the field that holds text the database cannot store, and rolls back', async () => {
    const before = await counts();
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/event-types', { name: 'nul.desc', description: 'a\u0000b' }, 'description'],
      [
        'POST',
        '/event-types',
        { name: 'nul.schema', schema: { title: 'a\u0000' } },
        'schema.title',
      ],
      ['POST', '/event-types', { name: 'half.surrogate', description: 'x\ud800y' }, 'description'],
      ['PATCH', `/webhooks/${webhookId}`, { description: 'a\u0000b' }, 'description'],
      ['POST', '/api-keys', { role: 'viewer', name: '\u0000' }, 'name'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await t.org.admin(method as 'POST', path, body);
      expect(res.status, `${method} ${path} ${field}`).toBe(422);
      expect(res.body.error.details).toEqual([
        { field, message: expect.stringContaining('cannot be stored') },
      ]);
    }
    expect(await counts()).toEqual(before);
  });

  it('stores SQL-looking and unusual text exactly as sent', async () => {
    const texts = [
      "'; DROP TABLE event_types; --",
      'Robert"); DELETE FROM api_keys;--',
      '%_\\',
      '$1 $$ ${x}',
      '☃ 日本語 😀',
      '<script>alert(1)</script>',
    ];
    for (const [i, text] of texts.entries()) {
      const res = await t.org.admin('POST', '/event-types', {
        name: `literal.t${i}`,
        description: text,
        schema: { title: text },
      });
      expect(res.status).toBe(201);
      const got = await t.org.admin('GET', `/event-types/literal.t${i}`);
      expect(got.body).toMatchObject({ description: text, schema: { title: text } });
      const key = await t.org.admin('POST', '/api-keys', { role: 'viewer', name: text });
      expect(key.body.name).toBe(text);
    }
    expect((await t.org.admin('GET', '/event-types?limit=500')).status).toBe(200);
  });

  it('answers bad paths and methods in the error format', async () => {
    const long = await t.org.admin('GET', `/webhooks/${'x'.repeat(300)}`);
    expect(long.status).toBe(404);
    expect(long.body.error.code).toBe('NOT_FOUND');
    const nope = await t.org.admin('GET', '/no-such-thing');
    expect(nope.body).toEqual({
      error: { code: 'NOT_FOUND', message: expect.any(String), details: null },
    });
    // A DELETE sent with a JSON content type and no body is fine: many clients always send the header.
    const del = await t.org.admin('DELETE', `/webhooks/${webhookId}`, '');
    expect(del.status).toBe(204);
  });
});
