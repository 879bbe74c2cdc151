import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertAttempt } from '../../src/store/attempts.js';

let t: TestApp;
// IP literals: no DNS in tests, and --dev (the test default) allows loopback.
const URL_OK = 'http://127.0.0.1:9/hook';
const valid = (extra: Record<string, unknown> = {}) => ({
  name: 'Tickets',
  url: URL_OK,
  events: ['ticket.created'],
  ...extra,
});
const secretOf = (bytes: number) => 'whsec_' + Buffer.alloc(bytes, 7).toString('base64');

async function countWebhooks(orgId = t.org.orgId): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1',
    [orgId],
  );
  return rows[0].n;
}

beforeAll(async () => {
  t = await createTestApp();
  for (const name of ['ticket.created', 'ticket.updated', 'old.gone']) {
    expect((await t.org.admin('POST', '/event-types', { name })).status).toBe(201);
  }
  await t.org.admin('POST', '/event-types', { name: 'thing.made', category: 'stuff' });
  await t.org.admin('DELETE', '/event-types/old.gone');
});
afterAll(async () => t?.close());

describe('creating a webhook', () => {
  it('applies the defaults of docs/api.md and shows the secret once, at creation', async () => {
    const res = await t.org.admin('POST', '/webhooks', valid());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^wh_/),
      name: 'Tickets',
      url: URL_OK,
      description: null,
      events: ['ticket.created'],
      custom_headers: {},
      is_active: true,
      timeout_seconds: 30,
      retry_attempts: 5,
      retry_delay_seconds: 60,
      rate_limit_per_second: null,
      ordering: 'none',
      failure_count: 0,
      last_triggered_at: null,
      last_success_at: null,
      disabled_reason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const { rows } = await t.db.query<{ id: string }>(
      "SELECT id FROM api_keys WHERE org_id = $1 AND role = 'admin'",
      [t.org.orgId],
    );
    expect(res.body.created_by).toBe(rows[0].id);
    expect(res.body.updated_by).toBe(rows[0].id);
    const got = await t.org.admin('GET', `/webhooks/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
    const { secret: _secret, ...withoutSecret } = res.body;
    expect(got.body).toEqual(withoutSecret);
    const list = await t.org.admin('GET', '/webhooks');
    expect(list.body.data.every((w: object) => !('secret' in w))).toBe(true);
    const revealed = await t.org.admin('GET', `/webhooks/${res.body.id}/secret`);
    expect(revealed).toMatchObject({ status: 200, body: { secret: res.body.secret } });
  });

  it('accepts every boundary value docs/api.md allows', async () => {
    const headers: Record<string, string> = { Authorization: 'Bearer x'.padEnd(4096, 'x') };
    for (let i = 1; i < 32; i++) headers[`X-Extra-${i}`] = String(i);
    const cases: Array<Record<string, unknown>> = [
      {
        timeout_seconds: 5,
        retry_attempts: 0,
        retry_delay_seconds: 10,
        rate_limit_per_second: 1,
        ordering: 'fifo',
      },
      {
        timeout_seconds: 120,
        retry_attempts: 10,
        retry_delay_seconds: 3600,
        rate_limit_per_second: null,
        is_active: false,
      },
      {
        name: 'n'.repeat(255),
        url: 'http://127.0.0.1/' + 'p'.repeat(2048 - 'http://127.0.0.1/'.length),
      },
      { events: ['*'] },
      { events: ['ticket.*', 'stuff.*', 'thing.*', 'ticket.updated'] },
      { custom_headers: headers },
      { secret: secretOf(24) },
      { secret: secretOf(64), description: 'd'.repeat(1000) },
    ];
    for (const extra of cases) {
      const res = await t.org.admin('POST', '/webhooks', valid(extra));
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
      const { secret, custom_headers, ...rest } = extra;
      expect(res.body).toMatchObject(rest);
      if (custom_headers) expect(res.body.custom_headers).toEqual(custom_headers);
      if (secret) expect(res.body.secret).toBe(secret);
    }
  });

  it('stores SQL-looking and non-ASCII text literally', async () => {
    const name = "Robert'); DROP TABLE webhooks;-- ☃";
    const res = await t.org.admin(
      'POST',
      '/webhooks',
      valid({ name, description: '%_\\ $1 ${x}' }),
    );
    expect(res.status).toBe(201);
    const got = await t.org.admin('GET', `/webhooks/${res.body.id}`);
    expect(got.body).toMatchObject({ name, description: '%_\\ $1 ${x}' });
  });
});

const forbiddenHeaders = [
  'host',
  'Host',
  'content-length',
  'Content-Type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'TE',
  'upgrade',
  'User-Agent',
  'proxy-authorization',
  'Proxy-Connection',
  'webhook-id',
  'Webhook-Signature',
  'x-webhook-signature',
  'X-Webhook-Event',
];
const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`X-H${i}`, 'v']));

// Each case: the body fields changed from a valid body, and the field the 422 must name.
const invalid: Array<[string, Record<string, unknown>, string]> = [
  ['name missing', { name: undefined }, 'name'],
  ['name empty', { name: '' }, 'name'],
  ['name blank', { name: '   ' }, 'name'],
  ['name too long', { name: 'n'.repeat(256) }, 'name'],
  ['name not a string', { name: 5 }, 'name'],
  ['url missing', { url: undefined }, 'url'],
  [
    'url too long',
    { url: 'http://127.0.0.1/' + 'p'.repeat(2049 - 'http://127.0.0.1/'.length) },
    'url',
  ],
  ['url not a URL', { url: 'not a url' }, 'url'],
  ['url relative', { url: '/hook' }, 'url'],
  ['url not http(s)', { url: 'ftp://127.0.0.1/x' }, 'url'],
  ['url with credentials', { url: 'http://user:pw@127.0.0.1/x' }, 'url'],
  ['description too long', { description: 'd'.repeat(1001) }, 'description'],
  ['events missing', { events: undefined }, 'events'],
  ['events empty', { events: [] }, 'events'],
  ['events not a list', { events: 'ticket.created' }, 'events'],
  ['events item not a string', { events: [5] }, 'events.0'],
  ['events unknown type', { events: ['ticket.created', 'ticket.nope'] }, 'events.1'],
  ['events archived type', { events: ['old.gone'] }, 'events.0'],
  ['events unknown category', { events: ['nocat.*'] }, 'events.0'],
  ['events bad pattern', { events: ['ticket.*.x'] }, 'events.0'],
  ['events wildcard type', { events: ['*.created'] }, 'events.0'],
  ['events upper case', { events: ['Ticket.created'] }, 'events.0'],
  ['events no dot', { events: ['ticket'] }, 'events.0'],
  ...forbiddenHeaders.map((h): [string, Record<string, unknown>, string] => [
    `header ${h} forbidden`,
    { custom_headers: { [h]: 'x' } },
    `custom_headers.${h}`,
  ]),
  [
    'header name with CR LF',
    { custom_headers: { 'X-A\r\nX-B': 'x' } },
    'custom_headers.X-A\r\nX-B',
  ],
  ['header value with LF', { custom_headers: { 'X-A': 'a\nb' } }, 'custom_headers.X-A'],
  ['header value with CR', { custom_headers: { 'X-A': 'a\rb' } }, 'custom_headers.X-A'],
  ['header value with NUL', { custom_headers: { 'X-A': 'a\u0000b' } }, 'custom_headers.X-A'],
  ['header name with space', { custom_headers: { 'X A': 'x' } }, 'custom_headers.X A'],
  ['header name with colon', { custom_headers: { 'X-A:': 'x' } }, 'custom_headers.X-A:'],
  ['header name empty', { custom_headers: { '': 'x' } }, 'custom_headers.'],
  ['header value too long', { custom_headers: { 'X-A': 'v'.repeat(4097) } }, 'custom_headers.X-A'],
  ['header value not a string', { custom_headers: { 'X-A': 5 } }, 'custom_headers.X-A'],
  ['header given twice', { custom_headers: { 'X-A': '1', 'x-a': '2' } }, 'custom_headers.x-a'],
  ['too many headers', { custom_headers: many }, 'custom_headers'],
  ['custom_headers not an object', { custom_headers: ['X-A'] }, 'custom_headers'],
  ['is_active not a boolean', { is_active: 'yes' }, 'is_active'],
  ['timeout below 5', { timeout_seconds: 4 }, 'timeout_seconds'],
  ['timeout above 120', { timeout_seconds: 121 }, 'timeout_seconds'],
  ['timeout fractional', { timeout_seconds: 5.5 }, 'timeout_seconds'],
  ['timeout as text', { timeout_seconds: '30' }, 'timeout_seconds'],
  ['retry_attempts below 0', { retry_attempts: -1 }, 'retry_attempts'],
  ['retry_attempts above 10', { retry_attempts: 11 }, 'retry_attempts'],
  ['retry_delay below 10', { retry_delay_seconds: 9 }, 'retry_delay_seconds'],
  ['retry_delay above 3600', { retry_delay_seconds: 3601 }, 'retry_delay_seconds'],
  ['rate limit 0', { rate_limit_per_second: 0 }, 'rate_limit_per_second'],
  ['rate limit negative', { rate_limit_per_second: -5 }, 'rate_limit_per_second'],
  ['ordering unknown', { ordering: 'lifo' }, 'ordering'],
  ['imported secret of 23 characters', { secret: 'x'.repeat(23) }, 'secret'],
  ['imported secret of 129 characters', { secret: 'x'.repeat(129) }, 'secret'],
  ['imported secret with a control character', { secret: `${'x'.repeat(30)}\u0001` }, 'secret'],
  ['imported secret with a line break', { secret: `${'x'.repeat(30)}\n` }, 'secret'],
  ['imported secret not ASCII', { secret: `${'x'.repeat(30)}ü` }, 'secret'],
  ['secret not base64', { secret: 'whsec_not base64!' }, 'secret'],
  ['secret too short', { secret: secretOf(23) }, 'secret'],
  ['secret too long', { secret: secretOf(65) }, 'secret'],
  ['unknown field', { colour: 'red' }, 'colour'],
];

describe('webhook validation: every rule is a 422 naming the field, and nothing is stored', () => {
  it.each(invalid)('%s', async (_label, extra, field) => {
    const before = await countWebhooks();
    const res = await t.org.admin('POST', '/webhooks', valid(extra));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await countWebhooks()).toBe(before);
  });

  it('names every bad field of one request at once', async () => {
    const res = await t.org.admin('POST', '/webhooks', {
      name: '',
      url: 'nope',
      events: ['x.nope'],
      custom_headers: { Host: 'h' },
    });
    expect(res.status).toBe(422);
    // ajv stops at the schema error (name), so the rules behind it are checked on the next try.
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['name']);
    const res2 = await t.org.admin('POST', '/webhooks', {
      name: 'n',
      url: 'nope',
      events: ['x.nope'],
      custom_headers: { Host: 'h' },
    });
    expect(res2.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'custom_headers.Host',
      'events.0',
      'url',
    ]);
  });

  it('refuses http:// outside --dev', async () => {
    const prod = await createTestApp({ dev: false });
    try {
      await prod.org.admin('POST', '/event-types', { name: 'ticket.created' });
      const res = await prod.org.admin(
        'POST',
        '/webhooks',
        valid({ url: 'http://hooks.example.com/in' }),
      );
      expect(res.status).toBe(422);
      expect(res.body.error.details[0]).toMatchObject({
        field: 'url',
        message: expect.stringContaining('https'),
      });
    } finally {
      await prod.close();
    }
  });
});

describe('changing a webhook', () => {
  it('PATCH changes only the fields given and records who changed it', async () => {
    const created = (
      await t.org.admin(
        'POST',
        '/webhooks',
        valid({ description: 'first', custom_headers: { 'X-Team': 'a' } }),
      )
    ).body;
    const res = await t.org.admin('PATCH', `/webhooks/${created.id}`, {
      name: 'Renamed',
      timeout_seconds: 60,
    });
    expect(res.status).toBe(200);
    const { secret: _s, updated_at: _u, ...unchanged } = created;
    expect(res.body).toMatchObject({ ...unchanged, name: 'Renamed', timeout_seconds: 60 });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    const cleared = await t.org.admin('PATCH', `/webhooks/${created.id}`, {
      description: null,
      custom_headers: {},
    });
    expect(cleared.body).toMatchObject({ description: null, custom_headers: {}, name: 'Renamed' });
    const same = await t.org.admin('PATCH', `/webhooks/${created.id}`, {});
    expect(same).toMatchObject({ status: 200, body: { name: 'Renamed' } });
    // The secret is never changed by PATCH (rotate-secret does that, with a grace period).
    expect(
      (await t.org.admin('PATCH', `/webhooks/${created.id}`, { secret: secretOf(32) })).status,
    ).toBe(422);
    expect((await t.org.admin('GET', `/webhooks/${created.id}/secret`)).body.secret).toBe(
      created.secret,
    );
  });

  it('PATCH validates like POST and leaves the webhook untouched on a 422', async () => {
    const created = (await t.org.admin('POST', '/webhooks', valid())).body;
    for (const [body, field] of [
      [{ events: [] }, 'events'],
      [{ events: ['ticket.nope'] }, 'events.0'],
      [{ url: 'ftp://x' }, 'url'],
      [{ custom_headers: { 'Content-Type': 'text/plain' } }, 'custom_headers.Content-Type'],
      [{ retry_attempts: 11 }, 'retry_attempts'],
      [{ name: null }, 'name'],
      [{ timeout_seconds: 60, ordering: 'random' }, 'ordering'],
    ] as const) {
      const res = await t.org.admin('PATCH', `/webhooks/${created.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const { secret: _s, ...before } = created;
    expect((await t.org.admin('GET', `/webhooks/${created.id}`)).body).toEqual(before);
  });

  it('switching a webhook back on clears the failure run and the reason it was disabled', async () => {
    const created = (await t.org.admin('POST', '/webhooks', valid())).body;
    await t.db.query(
      `UPDATE webhooks SET is_active = false, failure_count = 12, first_failure_at = now(), disabled_reason = 'endpoint answered 410 Gone'
        WHERE id = $1`,
      [created.id],
    );
    expect((await t.org.admin('GET', `/webhooks/${created.id}`)).body).toMatchObject({
      is_active: false,
      failure_count: 12,
    });
    const res = await t.org.admin('PATCH', `/webhooks/${created.id}`, { is_active: true });
    expect(res.body).toMatchObject({ is_active: true, failure_count: 0, disabled_reason: null });
    const { rows } = await t.db.query('SELECT first_failure_at FROM webhooks WHERE id = $1', [
      created.id,
    ]);
    expect(rows[0].first_failure_at).toBeNull();
  });

  it('DELETE removes the webhook, its deliveries, their attempts and its header sets', async () => {
    const created = (await t.org.admin('POST', '/webhooks', valid())).body;
    await t.db.query(
      `INSERT INTO events (id, org_id, event_type, payload) VALUES ('evt_cascade', $1, 'ticket.created', '{}')`,
      [t.org.orgId],
    );
    await t.db.query(
      `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type) VALUES ('dlv_cascade', $1, $2, 'evt_cascade', 'ticket.created')`,
      [t.org.orgId, created.id],
    );
    await t.db.query(
      `INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms)
       VALUES ('att_cascade', $1, 'dlv_cascade', $2, 1, now(), 5)`,
      [t.org.orgId, created.id],
    );
    // A logged attempt's shared headers (src/store/request-headers.ts) go too; another webhook's stay.
    const other = (await t.org.admin('POST', '/webhooks', valid())).body;
    for (const webhookId of [created.id, other.id])
      await insertAttempt(t.db, {
        orgId: t.org.orgId,
        deliveryId: 'dlv_cascade',
        webhookId,
        attempt: 2,
        startedAt: new Date(),
        durationMs: 5,
        requestHeaders: { 'x-api-key': `receiver-credential-${webhookId}` },
        responseStatus: 200,
        responseHeaders: null,
        responseBody: null,
        error: null,
      });
    const setsOf = async (id: string) =>
      (await t.db.query('SELECT headers FROM request_header_sets WHERE webhook_id = $1', [id]))
        .rows;
    expect(await setsOf(created.id)).toEqual([
      { headers: { 'x-api-key': `receiver-credential-${created.id}` } },
    ]);
    const res = await t.org.admin('DELETE', `/webhooks/${created.id}`);
    expect(res.status).toBe(204);
    expect(await setsOf(created.id)).toEqual([]);
    expect(await setsOf(other.id)).toHaveLength(1);
    expect((await t.org.admin('GET', `/webhooks/${created.id}`)).status).toBe(404);
    expect((await t.org.admin('DELETE', `/webhooks/${created.id}`)).status).toBe(404);
    const { rows } = await t.db.query("SELECT 1 FROM deliveries WHERE id = 'dlv_cascade'");
    expect(rows).toHaveLength(0);
    const attempts = await t.db.query("SELECT 1 FROM delivery_attempts WHERE id = 'att_cascade'");
    expect(attempts.rows).toHaveLength(0);
  });
});

describe('webhook secrets at rest', () => {
  it('are sealed with HOOKLINE_ENCRYPTION_KEY and revealed only through /secret', async () => {
    const sealed = await createTestApp({ encryptionKey: Buffer.alloc(32, 9).toString('base64') });
    try {
      await sealed.org.admin('POST', '/event-types', { name: 'ticket.created' });
      const created = (await sealed.org.admin('POST', '/webhooks', valid())).body;
      const { rows } = await sealed.db.query<{ secret: string }>(
        'SELECT secret FROM webhooks WHERE id = $1',
        [created.id],
      );
      expect(rows[0].secret).toMatch(/^enc:v1:/);
      expect(rows[0].secret).not.toContain(created.secret.slice(6));
      expect((await sealed.org.admin('GET', `/webhooks/${created.id}/secret`)).body.secret).toBe(
        created.secret,
      );
    } finally {
      await sealed.close();
    }
  });
});

describe('webhook access', () => {
  it('lets viewers read webhooks but not their secrets; publishers neither; only admins change them', async () => {
    const id = (await t.org.admin('POST', '/webhooks', valid())).body.id;
    expect((await t.org.viewer('GET', '/webhooks')).status).toBe(200);
    expect((await t.org.viewer('GET', `/webhooks/${id}`)).status).toBe(200);
    for (const who of [t.org.viewer, t.org.publisher]) {
      expect((await who('GET', `/webhooks/${id}/secret`)).status).toBe(403);
      expect((await who('POST', '/webhooks', valid())).status).toBe(403);
      expect((await who('PATCH', `/webhooks/${id}`, { name: 'x' })).status).toBe(403);
      expect((await who('DELETE', `/webhooks/${id}`)).status).toBe(403);
    }
    expect((await t.org.publisher('GET', '/webhooks')).status).toBe(403);
    expect((await t.org.publisher('GET', `/webhooks/${id}`)).status).toBe(403);
    expect((await t.as(undefined)('GET', '/webhooks')).status).toBe(401);
    expect((await t.org.admin('GET', `/webhooks/${id}`)).body.name).toBe('Tickets');
  });

  it("answers 404 on every route for another organization's webhook, and lists only its own", async () => {
    const id = (await t.org.admin('POST', '/webhooks', valid())).body.id;
    const other = await t.newOrg();
    for (const [method, path, body] of [
      ['GET', `/webhooks/${id}`],
      ['PATCH', `/webhooks/${id}`, { name: 'stolen' }],
      ['DELETE', `/webhooks/${id}`],
      ['GET', `/webhooks/${id}/secret`],
    ] as const) {
      const res = await other.admin(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await other.viewer('GET', `/webhooks/${id}`)).status).toBe(404);
    expect((await other.admin('GET', '/webhooks')).body.data).toEqual([]);
    // Its own event types are its own: ticket.created exists only in the first organization.
    expect((await other.admin('POST', '/webhooks', valid())).status).toBe(422);
    expect((await t.org.admin('GET', `/webhooks/${id}`)).body.name).toBe('Tickets');
  });
});

describe('listing webhooks', () => {
  it('pages newest first with cursors, each webhook once, and filters by is_active', async () => {
    const org = await t.newOrg();
    await org.admin('POST', '/event-types', { name: 'ticket.created' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push(
        (await org.admin('POST', '/webhooks', valid({ name: `w${i}`, is_active: i % 2 === 0 })))
          .body.id,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await org.viewer(
        'GET',
        `/webhooks?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((w: { id: string }) => w.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const active = await org.admin('GET', '/webhooks?is_active=true&limit=500');
    expect(active.body.data.map((w: { name: string }) => w.name)).toEqual(['w6', 'w4', 'w2', 'w0']);
    const exact = await org.admin('GET', '/webhooks?limit=7');
    expect(exact.body).toMatchObject({ next_cursor: null });
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'cursor=%25%25', 'colour=red']) {
      expect((await org.admin('GET', `/webhooks?${q}`)).status, q).toBe(422);
    }
  });
});

describe('webhook audit records', () => {
  it('records create, update and delete with the changed fields, never the secret or header values', async () => {
    const created = (
      await t.org.admin(
        'POST',
        '/webhooks',
        valid({ custom_headers: { Authorization: 'Bearer topsecret' } }),
      )
    ).body;
    await t.org.admin('PATCH', `/webhooks/${created.id}`, {
      name: 'Audited',
      timeout_seconds: 30,
      retry_attempts: 2,
    });
    await t.org.admin('DELETE', `/webhooks/${created.id}`);
    const { rows } = await t.db.query<{
      action: string;
      key_id: string;
      changes: Record<string, unknown>;
    }>('SELECT action, key_id, changes FROM audit_log WHERE target_id = $1 ORDER BY id', [
      created.id,
    ]);
    expect(rows.map((r) => r.action)).toEqual([
      'webhook.created',
      'webhook.updated',
      'webhook.deleted',
    ]);
    expect(rows[0].key_id).toBe(created.created_by);
    expect(rows[0].changes).toMatchObject({
      name: 'Tickets',
      url: URL_OK,
      events: ['ticket.created'],
      timeout_seconds: 30,
    });
    // timeout_seconds was sent but did not change, so only the real changes are recorded.
    expect(rows[1].changes).toEqual({ name: 'Audited', retry_attempts: 2 });
    expect(rows[2].changes).toMatchObject({ name: 'Audited' });
    const text = JSON.stringify(rows);
    expect(text).not.toContain(created.secret);
    expect(text).not.toContain('whsec_');
    expect(text).not.toContain('topsecret');
  });
});
