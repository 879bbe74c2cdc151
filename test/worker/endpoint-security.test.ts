import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { until } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { startTlsReceiver, type TlsReceiver } from '../support/tls-servers.js';
import type { Worker } from '../../src/worker/loop.js';
import type { ResolveHost } from '../../src/net/resolve.js';
import { verifySignature } from '../../sdk/index.js';
import { authorizationFor } from '../../src/worker/endpoint-auth.js';
import { webhookDispatcher } from '../../src/net/webhook-dispatchers.js';
import { listAttempts } from '../../src/store/delivery-log.js';

// Outside --dev, with loopback allowed: the SSRF-pinned connector is the one under test.
// receiver.test and tokens.test resolve to 127.0.0.1 through the test resolver.
const resolveHost: ResolveHost = async (host) => {
  if (host === 'receiver.test' || host === 'tokens.test')
    return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
};

let t: TestApp;
let worker: Worker;
let pki: TestPki;
let server: { cert: string; key: string };
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  pki = createTestPki();
  server = pki.server(['receiver.test', 'tokens.test', 'IP:127.0.0.1']);
  t = await createTestApp({
    dev: false,
    allowCidrs: ['127.0.0.1/32'],
    resolveHost,
    retryDelayScale: 0.001,
    timeoutScale: 0.1,
  });
  worker = await startTestWorker(t, { random: () => 0.5 });
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  for (const c of closers) await c();
  await t?.close();
  pki?.cleanup();
});

async function receiver(
  opts: { requireClientCert?: boolean; maxVersion?: 'TLSv1.2' } = {},
  handler?: Parameters<typeof startTlsReceiver>[1],
): Promise<TlsReceiver> {
  const r = await startTlsReceiver(
    {
      ...server,
      ca: pki.ca.cert,
      requestCert: Boolean(opts.requireClientCert),
      rejectUnauthorized: Boolean(opts.requireClientCert),
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    },
    handler,
  );
  closers.push(() => r.close());
  return r;
}

async function setup(url: string, hook: Record<string, unknown> = {}) {
  const o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
  const res = await o.admin('POST', '/webhooks', {
    name: 'hook',
    url,
    events: ['thing.happened'],
    retry_attempts: 0,
    timeout_seconds: 120, // 12 s at the test scale: a TLS handshake on a busy machine fits
    ...hook,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const keys = await o.admin('GET', `/webhooks/${res.body.id}/secret`);
  return {
    o,
    hook: { ...res.body, public_key: keys.body.public_key } as {
      id: string;
      secret: string;
      public_key: string;
    },
  };
}

async function publish(o: OrgFixture, payload: unknown = {}): Promise<string> {
  const res = await o.publisher('POST', '/events', { event_type: 'thing.happened', payload });
  expect(res.status).toBe(202);
  return res.body.id;
}

const deliveryOf = async (eventId: string) =>
  (await t.db.query('SELECT * FROM deliveries WHERE event_id = $1', [eventId])).rows[0];
interface LoggedAttempt {
  error: string | null;
  error_detail: string | null;
  request_headers: Record<string, string>;
}

/** The stored attempt rows, with the request headers as the delivery log reads them back. */
async function attemptsOf(deliveryId: string): Promise<LoggedAttempt[]> {
  const { rows } = await t.db.query<LoggedAttempt>(
    'SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
    [deliveryId],
  );
  const logged = await listAttempts(t.db, deliveryId);
  return rows.map((r, i) => ({ ...r, request_headers: logged[i].request_headers }));
}

async function finished(eventId: string) {
  await until(
    async () => ['succeeded', 'failed'].includes((await deliveryOf(eventId))?.status),
    15_000,
    () => `delivery of ${eventId} to finish`,
  );
  const d = await deliveryOf(eventId);
  return { delivery: d, attempts: await attemptsOf(d.id) };
}

const caOnly = () => ({ ca: pki.ca.cert });

describe('ed25519 signatures', () => {
  it('signs with v1a only; the SDK and tweetnacl verify it with the public key', async () => {
    const rx = await receiver();
    const { o, hook } = await setup(rx.url('receiver.test'), {
      signature_scheme: 'ed25519',
      tls: caOnly(),
    });
    expect(hook.public_key).toMatch(/^whpk_/);
    await publish(o, { n: 1 });
    const [req] = await rx.waitFor(1);
    const sig = String(req.headers['webhook-signature']);
    expect(sig).toMatch(/^v1a,[A-Za-z0-9+/=]+$/);
    expect(verifySignature(req.body, req.headers, hook.public_key).id).toBe(
      req.headers['webhook-id'],
    );
    const content = `${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.${req.body}`;
    const raw = Buffer.from(hook.public_key.slice(5), 'base64');
    expect(
      nacl.sign.detached.verify(Buffer.from(content), Buffer.from(sig.slice(4), 'base64'), raw),
    ).toBe(true);
    // The HMAC secret no longer verifies the Standard Webhooks header.
    expect(() => verifySignature(req.body, req.headers, hook.secret)).toThrow(/No signature/);
  });

  it('rotation keeps the old key signing through its grace: both v1 and v1a for both', async () => {
    const rx = await receiver();
    const { o, hook } = await setup(rx.url('receiver.test'), {
      signature_scheme: 'both',
      tls: caOnly(),
    });
    const rotated = await o.admin('POST', `/webhooks/${hook.id}/rotate-secret`, {
      grace_seconds: 3600,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.public_key).toMatch(/^whpk_/);
    expect(rotated.body.public_key).not.toBe(hook.public_key);
    await publish(o);
    const [req] = await rx.waitFor(1);
    const parts = String(req.headers['webhook-signature']).split(' ');
    expect(parts.map((p) => p.split(',')[0])).toEqual(['v1', 'v1', 'v1a', 'v1a']);
    for (const key of [hook.public_key, rotated.body.public_key, hook.secret, rotated.body.secret])
      expect(verifySignature(req.body, req.headers, key).id).toBeTruthy();
  });
});

describe('mutual TLS', () => {
  // TLS 1.2: the receiver refuses a client without a certificate inside the handshake, which the
  // sender sees as a TLS alert. (A TLS 1.3 server refuses after it; see docs/endpoint-security.md.)
  it('a receiver requiring a client certificate from the private CA gets it; without, tls_error', async () => {
    const rx = await receiver({ requireClientCert: true, maxVersion: 'TLSv1.2' });
    const client = pki.client('hookline-client');
    const withCert = await setup(rx.url('receiver.test'), {
      tls: { client_cert: client.cert, client_key: client.key, ca: pki.ca.cert },
    });
    expect(withCert.hook).not.toHaveProperty('tls.client_key');
    const ok = await finished(await publish(withCert.o));
    expect(ok.delivery.status).toBe('succeeded');
    expect(rx.requests[0].clientCn).toBe('hookline-client');

    const without = await setup(rx.url('receiver.test'), { tls: caOnly() });
    const failed = await finished(await publish(without.o));
    expect(failed.delivery.status).toBe('failed');
    expect(failed.attempts[0].error).toBe('tls_error');
    expect(failed.attempts[0].error_detail).toMatch(/alert/i);
    expect(rx.requests).toHaveLength(1);
  });

  it('TLS 1.3: the client certificate is presented, and its absence ends the connection', async () => {
    const rx = await receiver({ requireClientCert: true });
    const client = pki.client('hookline-13');
    const withCert = await setup(rx.url('receiver.test'), {
      tls: { client_cert: client.cert, client_key: client.key, ca: pki.ca.cert },
    });
    expect((await finished(await publish(withCert.o))).delivery.status).toBe('succeeded');
    expect(rx.requests[0].clientCn).toBe('hookline-13');
    const without = await setup(rx.url('receiver.test'), { tls: caOnly() });
    const failed = await finished(await publish(without.o));
    expect(failed.delivery.status).toBe('failed');
    expect(['tls_error', 'connection_reset']).toContain(failed.attempts[0].error);
    expect(rx.requests).toHaveLength(1);
  });

  it('without the private CA the receiver certificate is refused (tls_error)', async () => {
    const rx = await receiver();
    const { o } = await setup(rx.url('receiver.test'));
    const failed = await finished(await publish(o));
    expect(failed.attempts[0].error).toBe('tls_error');
    expect(failed.attempts[0].error_detail).toMatch(/certificate/i);
    expect(rx.requests).toHaveLength(0);
  });
});

describe('auth', () => {
  it('basic and bearer: the header is sent, and the delivery log keeps only its scheme', async () => {
    const rx = await receiver();
    const basic = await setup(rx.url('receiver.test'), {
      tls: caOnly(),
      auth: { type: 'basic', username: 'hook', password: 'pa55-word' },
    });
    const b = await finished(await publish(basic.o));
    expect(b.delivery.status).toBe('succeeded');
    expect(rx.requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from('hook:pa55-word').toString('base64')}`,
    );
    expect(b.attempts[0].request_headers.authorization).toBe('Basic [redacted]');

    const bearer = await setup(rx.url('receiver.test'), {
      tls: caOnly(),
      auth: { type: 'bearer', token: 'static-token-1' },
    });
    const r = await finished(await publish(bearer.o));
    expect(rx.requests[1].headers.authorization).toBe('Bearer static-token-1');
    expect(JSON.stringify(r.attempts[0])).not.toContain('static-token-1');
    // Nor the header sets the attempts share (src/store/request-headers.ts).
    const sets = await t.db.query('SELECT headers FROM request_header_sets');
    expect(sets.rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(sets.rows)).not.toContain('static-token-1');
  });

  it('oauth2 client credentials: fetched once, cached, refreshed once on a 401', async () => {
    let valid = 'tok-1';
    let issued = 0;
    const tokenCalls: Array<{ authorization?: string; body: string }> = [];
    const tokens = await receiver({}, (req, res) => {
      tokenCalls.push({ authorization: req.headers.authorization, body: req.body });
      valid = `tok-${++issued}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: valid, token_type: 'Bearer', expires_in: 3600 }));
    });
    const rx = await receiver({}, (req, res) =>
      res.writeHead(req.headers.authorization === `Bearer ${valid}` ? 200 : 401).end(),
    );
    const { o } = await setup(rx.url('receiver.test'), {
      tls: caOnly(),
      auth: {
        type: 'oauth2_client_credentials',
        token_url: tokens.url('tokens.test'),
        client_id: 'hookline',
        client_secret: 'client-secret-1',
        scope: 'webhooks:write',
      },
    });
    expect((await finished(await publish(o))).delivery.status).toBe('succeeded');
    expect((await finished(await publish(o))).delivery.status).toBe('succeeded');
    expect(tokenCalls).toHaveLength(1); // the second delivery used the cached token
    expect(tokenCalls[0].authorization).toBe(
      `Basic ${Buffer.from('hookline:client-secret-1').toString('base64')}`,
    );
    expect(new URLSearchParams(tokenCalls[0].body).get('grant_type')).toBe('client_credentials');
    expect(new URLSearchParams(tokenCalls[0].body).get('scope')).toBe('webhooks:write');

    valid = 'revoked'; // the receiver now refuses tok-1: one 401, a new token, a second try
    const third = await finished(await publish(o));
    expect(third.delivery.status).toBe('succeeded');
    expect(tokenCalls).toHaveLength(2);
    expect(rx.requests.slice(-2).map((r) => r.headers.authorization)).toEqual([
      'Bearer tok-1',
      'Bearer tok-2',
    ]);
    expect(third.attempts).toHaveLength(1);
    expect(third.attempts[0].request_headers.authorization).toBe('Bearer [redacted]');
  });

  it('a token endpoint failure is an auth_failed attempt naming its status', async () => {
    const tokens = await receiver({}, (_req, res) => res.writeHead(503).end('maintenance'));
    const rx = await receiver();
    const { o } = await setup(rx.url('receiver.test'), {
      tls: caOnly(),
      auth: {
        type: 'oauth2_client_credentials',
        token_url: tokens.url('tokens.test'),
        client_id: 'down',
        client_secret: 'x',
      },
    });
    const r = await finished(await publish(o));
    expect(r.delivery.status).toBe('failed');
    expect(r.attempts[0].error).toBe('auth_failed');
    expect(r.attempts[0].error_detail).toMatch(/503/);
    expect(rx.requests).toHaveLength(0);
  });

  it('the cached token is dropped shortly before expires_in', async () => {
    let issued = 0;
    const tokens = await receiver({}, (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `short-${++issued}`, expires_in: 100 })),
    );
    const auth = {
      type: 'oauth2_client_credentials' as const,
      token_url: tokens.url('tokens.test'),
      client_id: 'expiry',
      client_secret: 'y',
    };
    const ctx = (now: number) => ({
      dispatcher: webhookDispatcher(t.config, { tls: { ca: pki.ca.cert } }),
      timeoutMs: 5000,
      now: () => now,
    });
    const t0 = Date.now();
    expect(await authorizationFor(auth, ctx(t0))).toBe('Bearer short-1');
    // 100 s lifetime, dropped 10 s early (a tenth of it): still cached at 89 s, fetched anew at 91 s.
    expect(await authorizationFor(auth, ctx(t0 + 89_000))).toBe('Bearer short-1');
    expect(await authorizationFor(auth, ctx(t0 + 91_000))).toBe('Bearer short-2');
  });
});
