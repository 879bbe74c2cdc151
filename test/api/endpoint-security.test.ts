import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import type { ResolveHost } from '../../src/net/resolve.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
// Outside --dev; hooks.test and tokens.test are public names for the guard, private.test is not.
const resolveHost: ResolveHost = async (host) => {
  if (host === 'hooks.test' || host === 'tokens.test')
    return [{ address: '93.184.216.34', family: 4 }];
  if (host === 'private.test') return [{ address: '10.0.0.5', family: 4 }];
  throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
};

let t: TestApp;
let pki: TestPki;
let o: OrgFixture;

beforeAll(async () => {
  pki = createTestPki();
  t = await createTestApp({ dev: false, resolveHost, encryptionKey: KEY });
  o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
  pki?.cleanup();
});

const base = { name: 'hook', url: 'https://hooks.test/in', events: ['thing.happened'] };
const create = (extra: Record<string, unknown>) =>
  o.admin('POST', '/webhooks', { ...base, ...extra });
const fields = (res: { body: { error: { details: Array<{ field: string }> } } }) =>
  res.body.error.details.map((d) => d.field);
const stored = async (id: string) =>
  JSON.stringify(
    (await t.db.query('SELECT endpoint_security FROM webhooks WHERE id = $1', [id])).rows[0],
  );

describe('endpoint security fields', () => {
  it('shows the scheme, the certificates and the auth type, never a private part; sealed at rest', async () => {
    const client = pki.client('hookline');
    const res = await create({
      signature_scheme: 'both',
      tls: { client_cert: client.cert, client_key: client.key, ca: pki.ca.cert },
      auth: { type: 'basic', username: 'u', password: 'hunter2-password' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.signature_scheme).toBe('both');
    expect(res.body.tls).toEqual({
      client_cert: client.cert,
      ca: pki.ca.cert,
      has_client_key: true,
      client_key_fingerprint: pki.fingerprint(client.key),
    });
    expect(res.body.auth).toEqual({ type: 'basic', username: 'u', has_password: true });
    expect(res.body).not.toHaveProperty('public_key');
    for (const r of [
      await o.admin('GET', `/webhooks/${res.body.id}`),
      await o.viewer('GET', '/webhooks'),
    ]) {
      const text = JSON.stringify(r.body);
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain('hunter2');
    }
    const column = await stored(res.body.id);
    expect(column).not.toContain('PRIVATE KEY');
    expect(column).not.toContain('hunter2');
    expect(column.match(/enc:v1:/g)?.length).toBe(3); // signing key, client key, password
    const audit = await t.db.query('SELECT changes FROM audit_log WHERE target_id = $1', [
      res.body.id,
    ]);
    expect(JSON.stringify(audit.rows)).not.toMatch(/hunter2|PRIVATE KEY/);
    expect((await o.viewer('GET', `/webhooks/${res.body.id}/secret`)).status).toBe(403);
    const secret = await o.admin('GET', `/webhooks/${res.body.id}/secret`);
    expect(secret.body.public_key).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
  });

  it('PATCH replaces or removes tls and auth, and keeps the signing key', async () => {
    const res = await create({ auth: { type: 'bearer', token: 'tok-abc' } });
    const id = res.body.id;
    const publicKey = (await o.admin('GET', `/webhooks/${id}/secret`)).body.public_key;
    expect(res.body.signature_scheme).toBe('hmac');
    expect(res.body.tls).toBeNull();
    const patched = await o.admin('PATCH', `/webhooks/${id}`, {
      signature_scheme: 'ed25519',
      tls: { ca: pki.ca.cert },
      auth: {
        type: 'oauth2_client_credentials',
        token_url: 'https://tokens.test/oauth/token',
        client_id: 'cid',
        client_secret: 'csecret-xyz',
        audience: 'https://api.example',
      },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.tls).toEqual({
      client_cert: null,
      ca: pki.ca.cert,
      has_client_key: false,
      client_key_fingerprint: null,
    });
    expect(patched.body.auth).toEqual({
      type: 'oauth2_client_credentials',
      token_url: 'https://tokens.test/oauth/token',
      client_id: 'cid',
      scope: null,
      audience: 'https://api.example',
      has_client_secret: true,
    });
    expect((await o.admin('GET', `/webhooks/${id}/secret`)).body.public_key).toBe(publicKey);
    const cleared = await o.admin('PATCH', `/webhooks/${id}`, { tls: null, auth: null });
    expect(cleared.body.tls).toBeNull();
    expect(cleared.body.auth).toBeNull();
    expect(cleared.body.signature_scheme).toBe('ed25519');
    expect(await stored(id)).not.toContain('csecret');
  });

  it('a webhook saved before signing keys gets one when ed25519 is switched on', async () => {
    const res = await create({});
    await t.db.query(`UPDATE webhooks SET endpoint_security = '{}' WHERE id = $1`, [res.body.id]);
    expect((await o.admin('GET', `/webhooks/${res.body.id}/secret`)).body.public_key).toBeNull();
    await o.admin('PATCH', `/webhooks/${res.body.id}`, { signature_scheme: 'ed25519' });
    expect((await o.admin('GET', `/webhooks/${res.body.id}/secret`)).body.public_key).toMatch(
      /^whpk_/,
    );
  });

  it('refuses bad TLS material with a 422 naming the field', async () => {
    const a = pki.client('a');
    const cases: Array<[unknown, string, RegExp]> = [
      [{ client_cert: 'not a pem', client_key: a.key }, 'tls.client_cert', /PEM/],
      [{ client_cert: a.cert, client_key: pki.strayKey() }, 'tls.client_key', /does not match/],
      [{ client_cert: a.cert, client_key: 'garbage' }, 'tls.client_key', /PEM private key/],
      [{ client_cert: a.cert }, 'tls.client_key', /together/],
      [
        { ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
        'tls.ca',
        /certificate/,
      ],
      [{}, 'tls', /client_cert/],
    ];
    for (const [tls, field, message] of cases) {
      const res = await create({ tls });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const detail = res.body.error.details.find((d: { field: string }) => d.field === field);
      expect(detail?.message, JSON.stringify(res.body)).toMatch(message);
    }
  });

  it('refuses bad auth and schemes: blocked or plain-http token URLs, header clashes, unknown types', async () => {
    const oauth = (token_url: string) => ({
      auth: { type: 'oauth2_client_credentials', token_url, client_id: 'c', client_secret: 's' },
    });
    const blocked = await create(oauth('https://private.test/token'));
    expect(blocked.status).toBe(422);
    expect(blocked.body.error.details).toContainEqual(
      expect.objectContaining({ field: 'auth.token_url', code: 'blocked_destination' }),
    );
    const http = await create(oauth('http://tokens.test/token'));
    expect(fields(http)).toEqual(['auth.token_url']);
    const clash = await create({
      custom_headers: { Authorization: 'Bearer x' },
      auth: { type: 'bearer', token: 't' },
    });
    expect(fields(clash)).toEqual(['custom_headers.Authorization']);
    const withAuth = await create({ auth: { type: 'bearer', token: 't' } });
    const later = await o.admin('PATCH', `/webhooks/${withAuth.body.id}`, {
      custom_headers: { authorization: 'Bearer y' },
    });
    expect(fields(later)).toEqual(['custom_headers.authorization']);
    expect((await create({ signature_scheme: 'rsa' })).status).toBe(422);
    expect((await create({ auth: { type: 'digest', username: 'u' } })).status).toBe(422);
    expect((await create({ auth: { type: 'bearer', token: 'a\r\nb' } })).status).toBe(422);
    expect((await create({ auth: { type: 'basic', username: 'a:b', password: 'p' } })).status).toBe(
      422,
    );
    expect((await create({ tls: { client_key: 1 } })).status).toBe(422);
  });
});
