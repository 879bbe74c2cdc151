/**
 * Who reads which custom-header values (docs/security.md, "Header values"): admins and portal
 * sessions that may write read them all; viewers and read-only portal sessions read `***` for
 * the headers the audit log masks, by the same predicate, so the two never disagree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCredentialHeader } from '../../src/core/credential-headers.js';
import { createTestApp, type ApiCall, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const headers = {
  'X-Api-Key': 'key-value-1',
  'X-Auth-Token': 'token-value-2',
  'X-Client-Secret': 'secret-value-3',
  'X-Hub-Signature': 'sig-value-4',
  'X-Team': 'support',
  'X-Region': 'eu-west',
};
const credentials = ['X-Api-Key', 'X-Auth-Token', 'X-Client-Secret', 'X-Hub-Signature'];
const masked = Object.fromEntries(
  Object.entries(headers).map(([n, v]) => [n, credentials.includes(n) ? '***' : v]),
);

let t: TestApp;
let receiver: Receiver;
let webhookId: string;
let deliveryId: string;
let portalWriter: ApiCall;
let portalReader: ApiCall;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await createTestApp();
  expect((await t.org.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
  expect((await t.org.admin('PUT', '/tenants/acme', { name: 'Acme' })).status).toBe(201);
  const created = await t.org.admin('POST', '/webhooks', {
    name: 'headers',
    url: `${receiver.url}/in`,
    events: ['thing.happened'],
    tenant_id: 'acme',
    custom_headers: headers,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  webhookId = created.body.id;
  const tested = await t.org.admin('POST', `/webhooks/${webhookId}/test`, {});
  expect(tested.status).toBe(200);
  deliveryId = tested.body.delivery_id;
  const session = async (read_only: boolean) => {
    const res = await t.org.admin('POST', '/tenants/acme/portal-sessions', { read_only });
    expect(res.status).toBe(201);
    return t.as(res.body.token as string);
  };
  portalWriter = await session(false);
  portalReader = await session(true);
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('custom header values', () => {
  it('are credentials by name: authorization, token, secret, key, password, cookie, signature', () => {
    for (const name of credentials) expect(isCredentialHeader(name), name).toBe(true);
    for (const name of ['Authorization', 'Cookie', 'X-Password', 'X-Session-Id', 'apikey'])
      expect(isCredentialHeader(name), name).toBe(true);
    for (const name of ['X-Team', 'X-Region', 'Accept-Language'])
      expect(isCredentialHeader(name), name).toBe(false);
  });

  it('are shown whole to admins and to portal sessions that may write', async () => {
    for (const call of [t.org.admin, portalWriter]) {
      expect((await call('GET', `/webhooks/${webhookId}`)).body.custom_headers).toEqual(headers);
      const list = await call('GET', '/webhooks');
      const mine = list.body.data.find((w: { id: string }) => w.id === webhookId);
      expect(mine.custom_headers).toEqual(headers);
    }
  });

  it('are masked for viewers and read-only portal sessions where they are credentials', async () => {
    for (const call of [t.org.viewer, portalReader]) {
      expect((await call('GET', `/webhooks/${webhookId}`)).body.custom_headers).toEqual(masked);
      const list = await call('GET', '/webhooks');
      const mine = list.body.data.find((w: { id: string }) => w.id === webhookId);
      expect(mine.custom_headers).toEqual(masked);
    }
  });

  it('are masked in the audit log exactly as a viewer reads them', async () => {
    const log = await t.org.admin('GET', `/audit-log?target_id=${webhookId}`);
    const created = log.body.data.find((e: { action: string }) => e.action === 'webhook.created');
    expect(created.changes.custom_headers).toEqual(masked);
    expect(JSON.stringify(log.body)).not.toMatch(
      /key-value-1|token-value-2|secret-value|sig-value/,
    );
  });

  it('are masked the same way in the request headers of an attempt', async () => {
    const sent = receiver.requests.at(-1)!;
    expect(sent.headers['x-api-key']).toBe('key-value-1');
    // Names as lower case: the attempt keeps custom headers as they were written.
    const attemptOf = async (call: ApiCall) =>
      Object.fromEntries(
        Object.entries(
          (await call('GET', `/deliveries/${deliveryId}`)).body.attempt_log[0]
            .request_headers as Record<string, string>,
        ).map(([n, v]) => [n.toLowerCase(), v]),
      );
    expect((await attemptOf(t.org.admin))['x-api-key']).toBe('key-value-1');
    for (const call of [t.org.viewer, portalReader]) {
      const seen = await attemptOf(call);
      expect(seen['x-api-key']).toBe('***');
      expect(seen['x-auth-token']).toBe('***');
      expect(seen['webhook-signature']).toBe('***');
      expect(seen['x-team']).toBe('support');
    }
  });
});
