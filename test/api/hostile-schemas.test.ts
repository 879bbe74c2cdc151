import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createMetrics } from '../../src/metrics.js';
import { SCHEMA_LIMITS } from '../../src/core/schema-limits.js';
import { schemaWorkerBusy } from '../../src/core/schema-sandbox.js';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { until } from '../support/receiver.js';

let t: TestApp;
let a: OrgFixture;
let b: OrgFixture;
let n = 0;

beforeAll(async () => {
  t = await createTestApp();
  a = await t.newOrg('schemas-a');
  b = await t.newOrg('schemas-b');
});
afterAll(async () => t?.close());

/** A fresh event type name, so each case owns its type. */
const fresh = () => `hostile.t${++n}`;

async function saveType(org: OrgFixture, schema: unknown) {
  const name = fresh();
  return { name, res: await org.admin('POST', '/event-types', { name, schema }) };
}

async function publish(org: OrgFixture, event_type: string, payload: unknown) {
  return org.publisher('POST', '/events', { event_type, payload });
}

/** Writes a schema straight into the store, as one saved before the bounds existed would be. */
async function storeRaw(org: OrgFixture, schema: unknown): Promise<string> {
  const { name } = await saveType(org, { type: 'object' });
  await t.db.query(
    'UPDATE event_types SET schema = $3, updated_at = now() WHERE org_id = $1 AND name = $2',
    [org.orgId, name, JSON.stringify(schema)],
  );
  return name;
}

function expect422(res: { status: number; body: any }, field: string | RegExp, keyword: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  expect(res.body.error.details).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        field: typeof field === 'string' ? field : expect.stringMatching(field),
        message: expect.stringContaining(keyword),
      }),
    ]),
  );
}

describe('event type schemas are refused at save when they cannot be run safely', () => {
  it('refuses $async, naming the keyword', async () => {
    expect422((await saveType(a, { $async: true, type: 'object' })).res, 'schema.$async', '$async');
  });

  it('refuses remote references and references to another schema by $id', async () => {
    const { res } = await saveType(a, { $id: 'https://a.example/ticket.json', required: ['x'] });
    expect(res.status).toBe(201);
    for (const $ref of [
      'https://a.example/ticket.json',
      'http://127.0.0.1/s.json',
      'other.json#/x',
      '#anchor',
    ]) {
      expect422((await saveType(b, { $ref })).res, 'schema.$ref', '$ref');
    }
    expect422((await saveType(b, { $ref: '#/definitions/none' })).res, 'schema.$ref', '$ref');
  });

  it('lets two organizations (and two types) use the same $id independently', async () => {
    const schema = { $id: 'https://same.example/s.json', type: 'object', required: ['id'] };
    const one = await saveType(a, schema);
    const two = await saveType(b, { ...schema, required: ['other'] });
    expect(one.res.status).toBe(201);
    expect(two.res.status).toBe(201);
    expect((await publish(a, one.name, { id: 1 })).status).toBe(202);
    expect422(await publish(b, two.name, { id: 1 }), 'payload.other', 'required');
  });

  it('refuses recursive references instead of answering 500 at publish', async () => {
    expect422((await saveType(a, { $ref: '#' })).res, 'schema.$ref', 'recursive');
    expect422(
      (await saveType(a, { properties: { child: { $ref: '#' } } })).res,
      'schema.properties.child.$ref',
      'recursive',
    );
    const loop = { $defs: { x: { $ref: '#/$defs/y' }, y: { allOf: [{ $ref: '#/$defs/x' }] } } };
    expect422((await saveType(a, loop)).res, /^schema\.\$defs/, 'recursive');
    // Non-recursive references work.
    const ok = await saveType(a, {
      $defs: { id: { type: 'string' } },
      properties: { id: { $ref: '#/$defs/id' } },
    });
    expect(ok.res.status).toBe(201);
    expect422(await publish(a, ok.name, { id: 5 }), 'payload.id', 'string');
  });

  it('refuses references that multiply past the bound', async () => {
    const $defs: Record<string, unknown> = { d0: { type: 'string' } };
    for (let i = 1; i <= 20; i++)
      $defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i - 1}` }, { $ref: `#/$defs/d${i - 1}` }] };
    expect422((await saveType(a, { $defs, $ref: '#/$defs/d20' })).res, 'schema', 'expands');
  });

  it('bounds size, depth, enum, keyword maps, required, patterns and uniqueItems', async () => {
    const big = { description: 'x'.repeat(SCHEMA_LIMITS.maxBytes) };
    expect422((await saveType(a, big)).res, 'schema', 'larger than');
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < SCHEMA_LIMITS.maxDepth; i++) deep = { items: deep };
    expect422((await saveType(a, deep)).res, 'schema', 'deeper');
    const values = Array.from({ length: 1500 }, (_, i) => i);
    expect422(
      (await saveType(a, { properties: { v: { enum: values } } })).res,
      'schema.properties.v.enum',
      'enum',
    );
    const properties = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`p${i}`, {}]));
    expect422((await saveType(a, { properties })).res, 'schema.properties', 'properties');
    expect422(
      (await saveType(a, { required: Array.from({ length: 1001 }, (_, i) => `p${i}`) })).res,
      'schema.required',
      'required',
    );
    expect422((await saveType(a, { pattern: 'a'.repeat(1001) })).res, 'schema.pattern', 'longer');
    expect422(
      (await saveType(a, { type: 'array', uniqueItems: true })).res,
      'schema.uniqueItems',
      'maxItems',
    );
    expect422(
      (await saveType(a, { type: 'array', uniqueItems: true, maxItems: 100_000 })).res,
      'schema.uniqueItems',
      'maxItems',
    );
    expect(
      (await saveType(a, { type: 'array', uniqueItems: true, maxItems: 1000 })).res.status,
    ).toBe(201);
  });

  it('refuses patterns RE2 cannot run (look-around, backreferences), naming the keyword', async () => {
    expect422((await saveType(a, { pattern: '(?=a)b' })).res, 'schema.pattern', 'RE2');
    expect422((await saveType(a, { pattern: '(a)\\1' })).res, 'schema.pattern', 'RE2');
    expect422(
      (await saveType(a, { patternProperties: { '(?<!x)y': {} } })).res,
      'schema.patternProperties',
      'RE2',
    );
  });
});

describe('payloads are checked safely', () => {
  it('runs pattern and patternProperties in linear time (no catastrophic backtracking)', async () => {
    const { name, res } = await saveType(a, {
      properties: { s: { type: 'string', pattern: '^(a+)+$' } },
      patternProperties: { '^(b+)+$': { type: 'number' } },
    });
    expect(res.status).toBe(201);
    // Each pattern is its own (distinct patterns of one schema must not share a compiled one).
    expect422(await publish(a, name, { bbb: 'x' }), 'payload.bbb', 'number');
    const evil = 'a'.repeat(50_000) + '!';
    expect422(await publish(a, name, { s: evil }), 'payload.s', 'pattern');
    expect422(
      await publish(a, name, { ['b'.repeat(50_000) + '!']: 1, bbb: 'x' }),
      'payload.bbb',
      'number',
    );
    expect((await publish(a, name, { s: 'aaaa' })).status).toBe(202);
  });

  it('keeps validating after a description-only PATCH of a schema with $id', async () => {
    const { name } = await saveType(a, {
      $id: 'https://x.example/p.json',
      type: 'object',
      required: ['id'],
    });
    expect422(await publish(a, name, {}), 'payload.id', 'required');
    expect(
      (await a.admin('PATCH', `/event-types/${name}`, { description: 'now described' })).status,
    ).toBe(200);
    expect422(await publish(a, name, {}), 'payload.id', 'required');
    expect(
      (await a.admin('PATCH', `/event-types/${name}`, { schema: { type: 'object' } })).status,
    ).toBe(200);
    expect((await publish(a, name, {})).status).toBe(202);
  });

  it('refuses (422, never 500 or a crash) payloads of types whose stored schema is unsafe', async () => {
    for (const schema of [
      { $async: true, type: 'string' },
      { $ref: '#' },
      { $ref: 'https://x.example/s.json' },
    ]) {
      const name = await storeRaw(a, schema);
      const res = await publish(a, name, 5);
      expect422(res, 'payload', 'cannot be checked');
    }
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers deep payloads against a schema that follows them with 422 or 202, never 500', async () => {
    const { name } = await saveType(a, { items: { items: { items: { type: 'array' } } } });
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const body = `{"event_type":"${name}","payload":${deep}}`;
    const res = await a.publisher('POST', '/events', body);
    expect([202, 400, 422], JSON.stringify(res.body)).toContain(res.status);
  });
});

describe('the main thread stays free while a payload is checked', () => {
  let server: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    server = await buildApp({
      db: t.db,
      config: t.config,
      metrics: createMetrics(),
      wake: () => {},
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(server.server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => server?.close());

  it('answers /healthz while the worst allowed schema checks the worst payload', async () => {
    // Within every bound: 50 branches a number must all try, over 100,000 array items.
    const branches = Array.from({ length: 50 }, (_, i) => ({ type: 'string', minLength: i }));
    const { name, res } = await saveType(a, { type: 'array', items: { oneOf: branches } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const payload = JSON.stringify({ event_type: name, payload: Array(100_000).fill(1) });
    let published = false;
    const publishing = fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.keys.publisher}`, 'content-type': 'application/json' },
      body: payload,
    }).then(async (r) => {
      published = true;
      return { status: r.status, body: await r.json() };
    });
    await until(() => schemaWorkerBusy() || published);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(published).toBe(false);
    const answer = await publishing;
    expect(answer.status).toBe(422);
  });
});
