/**
 * Logs never hold request data (docs/security.md, "Logs"): a tour of the API at `debug`
 * level, through the logger `hookline serve` uses, with every secret, key, token and header
 * value it sends or is given back collected; then the captured log text is searched for each.
 * Two writes that carry a secret are made to fail in the database itself (a CHECK constraint
 * this file adds to its own database), so the error-level lines of a 500 are searched too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createWorker, type Worker } from '../../src/worker/loop.js';
import { createWake } from '../../src/worker/wake.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';

const lines: string[] = [];
const log = createLogger(
  { logLevel: 'debug', logFormat: 'json' },
  { write: (s: string) => void lines.push(s) },
);
/** Every value that must never reach the log. */
const secrets = new Map<string, string>();
/** A fresh random value, remembered as a secret under `label`. */
function secret(label: string, prefix = ''): string {
  const value = `${prefix}${randomBytes(12).toString('hex')}`;
  secrets.set(label, value);
  return value;
}
const whsec = (label: string) => {
  const value = 'whsec_' + randomBytes(32).toString('base64');
  secrets.set(label, value);
  return value;
};
/** The part of a PEM block that is the key itself: its base64 lines. */
const pemBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));

let t: TestApp;
let pki: TestPki;
let receiver: Receiver;
let worker: Worker;
let relayId: string;

beforeAll(async () => {
  pki = createTestPki();
  receiver = await startReceiver();
  t = await createTestApp({}, { logger: log });
  worker = createWorker({ db: t.db, config: t.config, metrics: t.metrics, log });
  t.app.deps.wake = createWake(t.db, worker.wake);
  await worker.start();
  for (const [role, key] of Object.entries(t.org.keys)) secrets.set(`${role} key`, key);
  for (const name of ['thing.happened', 'relay.poked'])
    expect((await t.org.admin('POST', '/event-types', { name })).status).toBe(201);
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await t?.close();
  await receiver?.close();
  pki?.cleanup();
});

/** Request headers a client may send: their values are request data too. */
const clientHeaders = () => ({
  cookie: `session=${secret('cookie')}`,
  'x-request-note': secret('request header'),
});

function webhookBody(extra: Record<string, unknown> = {}) {
  return {
    name: 'hook',
    url: `${receiver.url}/in`,
    events: ['thing.happened'],
    secret: whsec('given webhook secret'),
    custom_headers: {
      'X-Api-Token': secret('custom header token'),
      'X-Tenant-Plain': secret('custom header plain'),
    },
    ...extra,
  };
}

describe('the log of a tour of the API at debug level', () => {
  it('runs every route family with secrets in every place a client can put one', async () => {
    const a = t.org.admin;
    const h = clientHeaders();

    const key = await a('POST', '/api-keys', { name: 'ci', role: 'publisher' }, h);
    expect(key.status).toBe(201);
    secrets.set('created key', key.body.key);
    await a('GET', '/api-keys', undefined, h);

    const client = pki.client('leak-test');
    pemBody(client.key).forEach((l, i) => secrets.set(`tls key line ${i}`, l));
    const created = await a(
      'POST',
      '/webhooks',
      webhookBody({
        tls: { client_cert: client.cert, client_key: client.key, ca: pki.ca.cert },
        auth: { type: 'basic', username: 'u', password: secret('basic password') },
      }),
      h,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const bearer = await a('PATCH', `/webhooks/${id}`, {
      auth: { type: 'bearer', token: secret('bearer token') },
      custom_headers: { 'X-Signature-Key': `Bearer ${secret('custom authorization')}` },
    });
    expect(bearer.status, JSON.stringify(bearer.body)).toBe(200);
    expect(
      (
        await a('PATCH', `/webhooks/${id}`, {
          auth: {
            type: 'oauth2_client_credentials',
            token_url: `${receiver.url}/token`,
            client_id: 'cid',
            client_secret: secret('oauth2 client secret'),
          },
          tls: null,
        })
      ).status,
    ).toBe(200);
    const rotated = await a('POST', `/webhooks/${id}/rotate-secret`, { grace_seconds: 60 });
    expect(rotated.status).toBe(200);
    secrets.set('rotated secret', rotated.body.secret);
    expect((await a('GET', `/webhooks/${id}/secret`)).status).toBe(200);
    await a('GET', `/webhooks/${id}`);
    await t.org.viewer('GET', '/webhooks');

    const plain = await a('POST', '/webhooks', webhookBody({ name: 'plain' }));
    expect(plain.status).toBe(201);
    const tested = await a('POST', `/webhooks/${plain.body.id}/test`, {
      event_type: 'thing.happened',
      payload: { card: secret('test payload') },
    });
    expect(tested.status).toBe(200);

    const published = await t.org.publisher(
      'POST',
      '/events',
      { event_type: 'thing.happened', payload: { password: secret('event payload') } },
      { 'idempotency-key': secret('idempotency key') },
    );
    expect(published.status).toBe(202);
    await until(async () => receiver.requests.length >= 2);
    await a('GET', '/deliveries');
    await a('GET', `/events/${published.body.id}`);

    const relaySecret = 'whsec_' + randomBytes(32).toString('base64');
    secrets.set('relay secret', relaySecret);
    const relay = await a('POST', '/relay', {
      session: 'leak',
      secret: relaySecret,
      events: ['relay.*'],
    });
    expect(relay.status).toBe(200);
    relayId = relay.body.id;
    await a('POST', '/events', { event_type: 'relay.poked', payload: { x: 1 } });
    const next = await a('GET', `/relay/${relay.body.id}/next?wait=5`);
    expect(next.body.deliveries).toHaveLength(1);
    const d = next.body.deliveries[0];
    const result = await a('POST', `/relay/${relay.body.id}/deliveries/${d.id}/result`, {
      lease: d.lease,
      ok: false,
      started_at: new Date().toISOString(),
      duration_ms: 3,
      request_headers: { 'x-relay-sent': secret('relay request header') },
      status: 500,
      response_headers: { 'set-cookie': secret('relay response header') },
      response_body: secret('relay response body'),
      error: 'http_error',
      error_detail: secret('relay error detail'),
    });
    expect(result.status).toBe(200);

    expect((await a('PUT', '/tenants/acme', { name: 'Acme' })).status).toBe(201);
    const session = await a('POST', '/tenants/acme/portal-sessions', {});
    expect(session.status).toBe(201);
    secrets.set('portal token', session.body.token);
    expect((await t.as(session.body.token)('GET', '/webhooks', undefined, h)).status).toBe(200);
    await t.as(`hk_${secret('unknown key')}`)('GET', '/webhooks');
  });

  it('includes 500s from database errors on writes that carry a signing secret', async () => {
    // A row the database refuses, as a full disk or a broken migration would: the error comes
    // from PostgreSQL itself, with whatever it attaches (bind parameters, the failing row).
    const refused = await t.org.admin('POST', '/webhooks', webhookBody({ description: 'doomed' }));
    expect(refused.status).toBe(201);
    await t.db.query(
      `ALTER TABLE webhooks ADD CONSTRAINT log_leak_probe
         CHECK (description IS DISTINCT FROM 'doomed') NOT VALID`,
    );
    const create = await t.org.admin(
      'POST',
      '/webhooks',
      webhookBody({
        description: 'doomed',
        auth: { type: 'basic', username: 'u', password: secret('refused basic password') },
      }),
    );
    expect(create.status).toBe(500);
    const rotate = await t.org.admin('POST', `/webhooks/${refused.body.id}/rotate-secret`);
    expect(rotate.status).toBe(500);
    const patch = await t.org.admin('PATCH', `/webhooks/${refused.body.id}`, {
      custom_headers: { 'X-Plain': secret('refused patch header') },
    });
    expect(patch.status).toBe(500);
    await t.db.query('ALTER TABLE webhooks DROP CONSTRAINT log_leak_probe');

    // A relay result, whose request and response headers go into the refused statement.
    await t.org.admin('POST', '/events', { event_type: 'relay.poked', payload: { x: 2 } });
    const next = await t.org.admin('GET', `/relay/${relayId}/next?wait=5`);
    expect(next.body.deliveries).toHaveLength(1);
    const d = next.body.deliveries[0];
    await t.db.query(
      `ALTER TABLE delivery_attempts ADD CONSTRAINT log_leak_probe
         CHECK (duration_ms <> 7777) NOT VALID`,
    );
    const result = await t.org.admin('POST', `/relay/${relayId}/deliveries/${d.id}/result`, {
      lease: d.lease,
      ok: true,
      started_at: new Date().toISOString(),
      duration_ms: 7777,
      request_headers: { 'x-relay-sent': secret('refused relay request header') },
      status: 200,
      response_headers: { 'x-echo': secret('refused relay response header') },
      response_body: secret('refused relay response body'),
      error: null,
      error_detail: null,
    });
    expect(result.status).toBe(500);
    await t.db.query('ALTER TABLE delivery_attempts DROP CONSTRAINT log_leak_probe');
    // Still useful to whoever reads it: the SQLSTATE and the constraint's name stay.
    const errors = lines.filter((l) => l.includes('"level":50'));
    expect(errors.length).toBeGreaterThanOrEqual(4);
    for (const l of errors) expect(l).toMatch(/"code":"23514".*"constraint":"log_leak_probe"/);
  });

  it('holds none of the secrets, keys, tokens and header values used', () => {
    expect(lines.length).toBeGreaterThan(20);
    const leaks = [...secrets].flatMap(([label, value]) =>
      lines.filter((l) => l.includes(value)).map((l) => `${label}: ${l.slice(0, 300)}`),
    );
    const leakingLines = new Set(
      lines.filter((l) => [...secrets.values()].some((v) => l.includes(v))),
    );
    expect(leaks, `${leakingLines.size} log lines leak`).toEqual([]);
  });

  it('holds nothing shaped like a credential, such as the secret a failed rotation made', () => {
    // Secrets the server made and never answered with (the rotation refused above) cannot be
    // listed, so their shapes are searched for; masked values keep only the prefix.
    const shapes = [
      /whsec_[A-Za-z0-9+/=]{8}/,
      /\bhk_[A-Za-z0-9]{8}/,
      /hlp_[A-Za-z0-9]{8}/,
      /-----BEGIN/,
    ];
    expect(lines.filter((l) => shapes.some((s) => s.test(l)))).toEqual([]);
  });
});
