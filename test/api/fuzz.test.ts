import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { encodeUri, fillPath, operations, sampleOf, type Operation } from '../support/openapi.js';

// Random and malformed requests to every route of /openapi.json, round-robin, for a bounded
// time (HOOKLINE_FUZZ_MS, default 15 s) or request count. No answer may be a 5xx, every error must
// be in the error format, and the server must still answer afterwards. The seed is printed with
// each failure; HOOKLINE_FUZZ_SEED replays a run.

const BUDGET_MS = Number(process.env.HOOKLINE_FUZZ_MS ?? 15_000);
const MAX_REQUESTS = 3000;
const SEED = Number(process.env.HOOKLINE_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: small, seedable, good enough to pick test inputs. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
const rnd = prng(SEED);

const STRINGS = [
  '',
  ' ',
  'x',
  'ticket.created',
  '*',
  'ticket.*',
  'a'.repeat(300),
  'b'.repeat(5000),
  '\u0000',
  'a\u0000b',
  '\ud800',
  '😀',
  'é',
  '../../etc/passwd',
  "' OR 1=1 --",
  '%00',
  '%',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '<script>',
  '\r\nX-Injected: 1',
  'null',
  'true',
  '-1',
  '1e309',
  '2024-02-30T25:61:00Z',
  '2024-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  'https://127.0.0.1/',
  'http://127.0.0.1:9/',
  'whsec_AAAA',
  'whsec_' + Buffer.alloc(32, 1).toString('base64'),
  'hk_' + 'A'.repeat(46),
  'fifo',
  'none',
  'admin',
  'failed',
  'all',
  '1h',
];
const NUMBERS = [
  0,
  -1,
  1,
  5,
  10,
  59,
  60,
  121,
  501,
  2 ** 31,
  2 ** 53 + 1,
  -(2 ** 63),
  1e308,
  0.5,
  -0,
  3600,
  86400,
];

function randomJson(depth = 0): unknown {
  const kind = rnd.int(depth > 4 ? 4 : 7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rnd.chance(0.5);
    case 2:
      return rnd.pick(NUMBERS);
    case 3:
      return rnd.pick(STRINGS);
    case 4:
      return Array.from({ length: rnd.int(4) }, () => randomJson(depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rnd.int(4); i > 0; i--)
        out[
          rnd.pick([
            'name',
            'url',
            'events',
            'payload',
            'event_type',
            'x',
            '',
            'constructor',
            'since',
            'role',
          ])
        ] = randomJson(depth + 1);
      return out;
    }
  }
}

/** A valid body with one thing wrong: the most likely way to get past the schema into a handler. */
function mutate(valid: unknown): unknown {
  if (!valid || typeof valid !== 'object' || Array.isArray(valid)) return randomJson();
  const copy: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const r = rnd.int(4);
  if (r === 0 && keys.length) delete copy[rnd.pick(keys)];
  else if (r === 1) copy[rnd.pick(['extra', 'id', 'secret', 'org_id'])] = randomJson();
  else if (keys.length) copy[rnd.pick(keys)] = randomJson();
  return copy;
}

const RAW_BODIES = [
  '',
  '{',
  '[',
  'null',
  '{"a":',
  '\u0000',
  '{"a":1}garbage',
  '['.repeat(200) + ']'.repeat(200),
  '{"n":1e99999}',
  '"\\ud800"',
  '\ufeff{}',
  '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{}}}',
  '{"a":"\\u0000"}',
  Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
];

let t: TestApp;
let real: Record<string, string>;
let spareKeyId: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.org.admin('POST', '/event-types', { name: 'ticket.created' });
  const hook = await t.org.admin('POST', '/webhooks', {
    name: 'fuzz',
    url: 'http://127.0.0.1:9/',
    events: ['*'],
    ordering: 'fifo',
  });
  const ev = await t.org.publisher('POST', '/events', {
    event_type: 'ticket.created',
    payload: { a: 1 },
  });
  const { rows } = await t.db.query<{ id: string }>(
    'SELECT id FROM deliveries WHERE event_id = $1',
    [ev.body.id],
  );
  spareKeyId = (await t.org.admin('POST', '/api-keys', { role: 'viewer', name: 'spare' })).body.id;
  real = {
    webhooks: hook.body.id,
    events: ev.body.id,
    deliveries: rows[0].id,
    'event-types': 'ticket.created',
    'api-keys': spareKeyId,
  };
});
afterAll(async () => t?.close());

function paramValue(op: Operation, param: string): string {
  const segments = op.path.split('/');
  const resource = segments[segments.indexOf(`{${param}}`) - 1];
  // Mostly real ids, so handlers run; never the admin key's own id, so the fuzzer keeps its key.
  if (rnd.chance(0.6) && real[resource]) return real[resource];
  return rnd.pick([...STRINGS.filter((s) => s !== ''), 'wh_' + 'z'.repeat(26), 'x'.repeat(199)]);
}

function queryString(op: Operation): string {
  const parts: string[] = [];
  for (const q of op.query) {
    if (!rnd.chance(0.4)) continue;
    const value = rnd.chance(0.5)
      ? String(sampleOf(q.schema))
      : String(rnd.chance(0.5) ? rnd.pick(STRINGS) : rnd.pick(NUMBERS));
    parts.push(`${q.name}=${encodeUri(value)}`);
    if (rnd.chance(0.1)) parts.push(`${q.name}=${encodeUri(rnd.pick(STRINGS))}`); // repeated key
  }
  if (rnd.chance(0.1)) parts.push(`unknown=${encodeUri(rnd.pick(STRINGS))}`);
  if (rnd.chance(0.05)) parts.push('%zz=%');
  return parts.length ? `?${parts.join('&')}` : '';
}

function body(op: Operation): { payload?: string | Buffer; contentType?: string } {
  const valid = sampleOf(op.body, {
    event_type: 'ticket.created',
    url: 'http://127.0.0.1:9/',
    events: ['*'],
    role: 'viewer',
  });
  const r = rnd.next();
  let payload: string | Buffer | undefined;
  if (r < 0.35) payload = JSON.stringify(mutate(valid ?? {}));
  else if (r < 0.6) payload = JSON.stringify(randomJson());
  else if (r < 0.8) payload = rnd.pick(RAW_BODIES);
  else if (r < 0.9) payload = valid === undefined ? undefined : JSON.stringify(valid);
  const contentType = rnd.chance(0.9)
    ? 'application/json'
    : rnd.pick([
        'text/plain',
        'application/json; charset=utf-16',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        '',
      ]);
  return { payload, contentType };
}

describe('fuzzing every route of the OpenAPI document', () => {
  it(
    `never answers 5xx, always in the error format, and keeps answering (seed ${SEED})`,
    { timeout: BUDGET_MS + 60_000 },
    async () => {
      const ops = operations(t.app);
      expect(ops.length).toBeGreaterThanOrEqual(25);
      const keys = [
        t.org.keys.admin,
        t.org.keys.admin,
        t.org.keys.admin,
        t.org.keys.viewer,
        t.org.keys.publisher,
      ];
      const failures: string[] = [];
      const perOp = new Map<string, number>();
      const started = Date.now();
      let n = 0;
      while (n < MAX_REQUESTS && (Date.now() - started < BUDGET_MS || n < ops.length * 3)) {
        const op = ops[n % ops.length];
        n++;
        const values = Object.fromEntries(op.pathParams.map((p) => [p, paramValue(op, p)]));
        const url = `/api/v1${fillPath(op.path, values)}${queryString(op)}`;
        const { payload, contentType } = op.method === 'GET' && rnd.chance(0.8) ? {} : body(op);
        const headers: Record<string, string> = { authorization: `Bearer ${rnd.pick(keys)}` };
        if (payload !== undefined && contentType) headers['content-type'] = contentType;
        if (rnd.chance(0.1))
          headers['idempotency-key'] = rnd.pick(['k', 'x'.repeat(300), 'a b', '']);
        const res = await t.app.inject({ method: op.method, url, headers, payload });
        perOp.set(`${op.method} ${op.path}`, (perOp.get(`${op.method} ${op.path}`) ?? 0) + 1);
        const what = `${op.method} ${url.slice(0, 160)} body=${String(payload ?? '').slice(0, 120)} → ${res.statusCode}`;
        if (res.statusCode >= 500) failures.push(`${what} ${res.body.slice(0, 200)}`);
        else if (res.statusCode >= 400) {
          let ok = false;
          try {
            const parsed = res.json() as { error?: { code?: unknown; message?: unknown } };
            ok =
              typeof parsed.error?.code === 'string' && typeof parsed.error?.message === 'string';
          } catch {
            ok = false;
          }
          if (!ok) failures.push(`${what} not in the error format: ${res.body.slice(0, 200)}`);
        }
        if (failures.length >= 20) break;
      }
      // Every route got several tries, and the server still works.
      for (const op of ops)
        expect(
          perOp.get(`${op.method} ${op.path}`) ?? 0,
          `${op.method} ${op.path}`,
        ).toBeGreaterThanOrEqual(3);
      expect(failures, `seed ${SEED}, ${n} requests`).toEqual([]);
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await t.org.admin('GET', '/webhooks')).status).toBe(200);
      expect((await t.org.admin('POST', '/event-types', { name: 'after.fuzz' })).status).toBe(201);
      console.log(`fuzz: ${n} requests in ${Date.now() - started} ms, seed ${SEED}`);
    },
  );
});
