/**
 * Hostile values where the edge range checks must hold (docs/security.md, "Input at the edge"
 * and "Event type schemas"): every date-time and every integer field of every route in
 * /openapi.json, in the query and at any depth of the body, gets values JavaScript or
 * PostgreSQL cannot hold; event types get schemas that are hostile code. No answer may be a
 * 5xx, every error must be in the error format of docs/api.md ("Errors"), and the server must
 * still answer afterwards. Seeded and bounded: the seed is in the test's name and
 * HOOKLINE_FUZZ_SEED replays a run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  encodeUri,
  fillPath,
  operations,
  sampleOf,
  type Operation,
  type Schema,
} from '../support/openapi.js';
import { HOSTILE_SCHEMAS, HOSTILE_PAYLOADS } from '../support/hostile-schemas.js';

const SEED = Number(process.env.HOOKLINE_FUZZ_SEED ?? Date.now() % 2 ** 31);
/** At most this many requests for the field walk, however many fields the API grows. */
const MAX_FIELD_REQUESTS = 1200;

/** mulberry32, as in fuzz.test.ts: small and seedable. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}
const rnd = prng(SEED);
function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Dates out of what either store holds, or not dates at all. */
const HOSTILE_DATES: unknown[] = [
  '0000-01-01T00:00:00Z',
  '10000-01-01T00:00:00Z',
  '+010000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-06-30T23:59:60Z',
  '2026-02-30T00:00:00Z',
  '2025-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:00+24:00',
  '0001-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59-23:59',
  '2026-01-01T00:00:00.1234567890123Z',
  '2026-00-10T00:00:00Z',
  '2026-01-01T00:00:00-00:60',
  '2026-01-01',
  // Edges that are valid: answered 2xx or 4xx for other reasons, never 500.
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2024-02-29T12:00:00+14:00',
  'NaN',
  'Infinity',
  '',
  'x'.repeat(10_000),
  0,
  -1e20,
  true,
  null,
];
/** Integers out of int4 and int8, not integers, or not numbers. */
const HOSTILE_INTEGERS: unknown[] = [
  2 ** 31,
  -(2 ** 31) - 1,
  // int4's own edges, valid where a field has no bound of its own.
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32,
  0,
  1e-7,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 63),
  2 ** 64,
  1e308,
  -1e308,
  1.5,
  -1,
  'NaN',
  '1e400',
  '0x10',
  '9'.repeat(400),
  '',
  true,
  null,
];

/** The values above that some field may accept. */
const VALID_EDGES = new Set<unknown>([
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2024-02-29T12:00:00+14:00',
  2 ** 31 - 1,
  -(2 ** 31),
  0,
  null,
  true,
]);

interface Target {
  kind: 'date' | 'integer';
  in: 'query' | 'body';
  /** Query: [name]; body: the path of keys and array indexes to the field. */
  path: Array<string | number>;
}

function kindOf(schema: Schema): Target['kind'] | undefined {
  const types = ([] as unknown[]).concat(schema.type ?? []);
  if (schema.format === 'date-time') return 'date';
  if (types.includes('integer')) return 'integer';
  return undefined;
}

/** Every date-time and integer field of a schema, with its path, through unions and arrays. */
function fieldsOf(schema: Schema | undefined, path: Array<string | number> = []): Target[] {
  if (!schema || typeof schema !== 'object' || path.length > 6) return [];
  const kind = kindOf(schema);
  const out: Target[] = kind ? [{ kind, in: 'body', path }] : [];
  for (const alt of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    out.push(...fieldsOf(alt, path));
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Schema>))
    out.push(...fieldsOf(v, [...path, k]));
  if (schema.items && typeof schema.items === 'object')
    out.push(...fieldsOf(schema.items, [...path, 0]));
  // One entry per path and kind: a union's alternatives often repeat a field.
  return out.filter(
    (t, i) =>
      out.findIndex((u) => u.kind === t.kind && u.path.join('.') === t.path.join('.')) === i,
  );
}

function targetsOf(op: Operation): Target[] {
  const out = fieldsOf(op.body);
  for (const q of op.query) {
    const alts = [q.schema, ...(q.schema.anyOf ?? [])];
    const kind = alts.map(kindOf).find(Boolean);
    if (kind) out.push({ kind, in: 'query', path: [q.name] });
  }
  return out;
}

/** `base` with the value at `path` replaced, making the objects and arrays on the way. */
function setAt(base: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container: any =
    typeof head === 'number'
      ? Array.isArray(base)
        ? [...base]
        : []
      : base && typeof base === 'object' && !Array.isArray(base)
        ? { ...base }
        : {};
  container[head] = setAt(container[head], rest, value);
  return container;
}

let t: TestApp;
let ids: Record<string, string>;
let relayIds: Record<string, string>;
let lease: string;
let failures: string[] = [];
let requests = 0;

/** Sends one request and records it as a failure unless it is < 500 and, if an error, well-formed. */
async function send(method: Operation['method'], url: string, payload?: unknown, what = '') {
  requests++;
  const res = await t.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${t.org.keys.admin}`,
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const label = `${method} ${url.slice(0, 160)} ${what} → ${res.statusCode}`;
  if (res.statusCode >= 500) failures.push(`${label}: ${res.body.slice(0, 200)}`);
  else if (res.statusCode >= 400) {
    let error: Record<string, unknown> | undefined;
    try {
      error = (res.json() as { error?: Record<string, unknown> }).error;
    } catch {
      error = undefined;
    }
    const ok =
      typeof error?.code === 'string' && typeof error.message === 'string' && 'details' in error;
    if (!ok) failures.push(`${label} not in the error format: ${res.body.slice(0, 200)}`);
  }
  return res;
}

beforeAll(async () => {
  t = await createTestApp();
  const a = t.org.admin;
  await a('POST', '/event-types', { name: 'ticket.created' });
  const hook = await a('POST', '/webhooks', {
    name: 'fuzz',
    url: 'http://127.0.0.1:9/',
    events: ['*'],
  });
  const ev = await t.org.publisher('POST', '/events', {
    event_type: 'ticket.created',
    payload: { a: 1 },
  });
  const { rows } = await t.db.query<{ id: string }>(
    'SELECT id FROM deliveries WHERE event_id = $1',
    [ev.body.id],
  );
  await a('PUT', '/tenants/acme', { name: 'Acme' });
  ids = {
    webhooks: hook.body.id,
    events: ev.body.id,
    deliveries: rows[0].id,
    'event-types': 'ticket.created',
    tenants: 'acme',
  };
  // A relay delivery claimed and leased, so a relay result gets past the lease check to the
  // statement that stores its integers (issue 13 found duration_ms there).
  await a('POST', '/event-types', { name: 'relay.poked' });
  const relay = await a('POST', '/relay', {
    session: 'fuzz',
    secret: 'whsec_' + Buffer.alloc(32, 9).toString('base64'),
    events: ['relay.*'],
  });
  await a('POST', '/events', { event_type: 'relay.poked', payload: {} });
  const claimed = (await a('GET', `/relay/${relay.body.id}/next?wait=5`)).body.deliveries[0];
  relayIds = { relay: relay.body.id, deliveries: claimed.id };
  lease = claimed.lease;
});
afterAll(async () => t?.close());
beforeEach(() => {
  failures = [];
});

/** A real id for the resource a path parameter names, else one that matches nothing. */
function pathValues(op: Operation): Record<string, string> {
  const segments = op.path.split('/');
  const known = op.path.startsWith('/relay/') ? { ...ids, ...relayIds } : ids;
  return Object.fromEntries(
    op.pathParams.map((p) => [p, known[segments[segments.indexOf(`{${p}}`) - 1]] ?? 'wh_none']),
  );
}

describe(`hostile dates, integers and schemas on every route (seed ${SEED})`, () => {
  it(
    'never answers 5xx to an out-of-range date or integer, anywhere',
    { timeout: 300_000 },
    async () => {
      const ops = operations(t.app).filter((op) => op.method !== 'DELETE');
      const cases: Array<{ op: Operation; target: Target; value: unknown }> = [];
      for (const op of ops)
        for (const target of targetsOf(op))
          for (const value of target.kind === 'date' ? HOSTILE_DATES : HOSTILE_INTEGERS)
            cases.push({ op, target, value });
      const dateFields = new Set(
        cases.filter((c) => c.target.kind === 'date').map((c) => `${c.op.path} ${c.target.path}`),
      );
      // The routes of issue 13 must be among them, or the walk is not finding the fields.
      expect([...dateFields].some((f) => f.startsWith('/events since'))).toBe(true);
      expect([...dateFields].some((f) => f.startsWith('/webhooks/{id}/replay since'))).toBe(true);
      // Valid edges go last: one accepted relay result uses up the lease every hostile one needs.
      const chosen = shuffle(cases)
        .slice(0, MAX_FIELD_REQUESTS)
        .sort((x, y) => Number(VALID_EDGES.has(x.value)) - Number(VALID_EDGES.has(y.value)));
      for (const { op, target, value } of chosen) {
        const path = fillPath(op.path, pathValues(op));
        const base = sampleOf(op.body, {
          event_type: 'ticket.created',
          url: 'http://127.0.0.1:9/',
          events: ['*'],
          role: 'viewer',
          lease,
        });
        if (target.in === 'query') {
          const q = `${target.path[0]}=${encodeUri(String(value))}`;
          await send(op.method, `/api/v1${path}?${q}`, base);
        } else {
          await send(
            op.method,
            `/api/v1${path}`,
            setAt(base, target.path, value),
            target.path.join('.'),
          );
        }
        if (failures.length >= 20) break;
      }
      console.log(
        `fuzz-hostile: ${chosen.length} of ${cases.length} field cases, ${dateFields.size} date fields, seed ${SEED}`,
      );
      expect(failures, `seed ${SEED}`).toEqual([]);
    },
  );

  it(
    'never answers 5xx to a hostile event-type schema, at save, PATCH or publish',
    { timeout: 300_000 },
    async () => {
      const order = shuffle(HOSTILE_SCHEMAS.map((_, i) => i));
      for (const i of order) {
        const name = `hostile.s${i}`;
        const saved = await send(
          'POST',
          '/api/v1/event-types',
          { name, schema: HOSTILE_SCHEMAS[i] },
          `schema ${i}`,
        );
        if (saved.statusCode !== 201) {
          // Refused at save; a type without a schema then gets it by PATCH, which must refuse too.
          await send('POST', '/api/v1/event-types', { name });
          await send(
            'PATCH',
            `/api/v1/event-types/${name}`,
            { schema: HOSTILE_SCHEMAS[i] },
            `patch ${i}`,
          );
        }
        for (const payload of shuffle([...HOSTILE_PAYLOADS]).slice(0, 3))
          await send('POST', '/api/v1/events', { event_type: name, payload }, `publish to ${i}`);
        if (failures.length >= 20) break;
      }
      expect(failures, `seed ${SEED}`).toEqual([]);
    },
  );

  it('keeps answering afterwards, within the request bound', async () => {
    console.log(`fuzz-hostile: ${requests} requests in all, seed ${SEED}`);
    expect(requests).toBeLessThanOrEqual(1500);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.org.admin('GET', '/webhooks')).status).toBe(200);
    expect(
      (await t.org.publisher('POST', '/events', { event_type: 'ticket.created', payload: {} }))
        .status,
    ).toBe(202);
  });
});
