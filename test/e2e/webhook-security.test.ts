import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  ADMIN_KEY,
  callApi,
  ensureUiBuilt,
  launchBrowser,
  newPage,
  signIn,
  startHookline,
  startReceiver,
  until,
} from './support.js';
import { createTestPki, type TestPki } from '../support/pki.js';

// The Security section of the webhook form, in the admin UI and in the portal: what is set
// there is what the API then shows, private parts are never put back on the page, and the
// proxy (the organization's) is not offered to a portal session.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
let pki: TestPki;
const errors: string[] = [];

const api = (method: string, path: string, body?: unknown) =>
  callApi(base, ADMIN_KEY, method, path, body);

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  receiver = await startReceiver();
  pki = createTestPki();
  expect((await api('POST', '/event-types', { name: 'invoice.paid' })).status).toBe(201);
  browser = await launchBrowser();
  ({ page } = await newPage(browser, { width: 1280, height: 900, errors }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await hookline?.stop();
  pki?.cleanup();
});

async function openSecurity(p: Page | ReturnType<Page['frameLocator']>) {
  await p.locator('summary', { hasText: 'Security' }).click();
}

describe('webhook form: Security section', { timeout: 90_000 }, () => {
  it('an admin creates a webhook signed with ed25519 and sent with HTTP Basic', async () => {
    await signIn(page, base, ADMIN_KEY);
    await page.goto(`${base}/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Signed receiver');
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByRole('checkbox', { name: /^invoice invoice\.\*/ }).check();
    await openSecurity(page);
    await page.getByLabel('Signature scheme').selectOption('ed25519');
    await page.getByLabel('Legacy signature').selectOption('body');
    await page.getByLabel('Signing secret (optional)').fill('an-imported-secret-of-the-old-design');
    await page.getByLabel('Authorization').selectOption('basic');
    await page.getByLabel('User name').fill('hookline');
    // Client-side: Basic needs its password.
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByText('Give the password.').waitFor();
    await page.getByLabel('Password').fill('s3cret-pass');
    expect(await page.getByLabel('Egress proxy (optional)').count()).toBe(1);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.waitForURL(/\/webhooks\/wh_/);
    const id = page.url().split('/').pop()!;
    const saved = await api('GET', `/webhooks/${id}`);
    expect(saved.body).toMatchObject({
      signature_scheme: 'ed25519',
      legacy_signature: 'body',
      auth: { type: 'basic', username: 'hookline', has_password: true },
      tls: null,
      proxy_url: null,
    });
    expect((await api('GET', `/webhooks/${id}/secret`)).body.secret).toBe(
      'an-imported-secret-of-the-old-design',
    );
  });

  it('the edit form shows the TLS key’s fingerprint, never the key, and asks for it again on a change', async () => {
    const client = pki.client('ui');
    const created = await api('POST', '/webhooks', {
      name: 'mTLS receiver',
      url: receiver.url,
      events: ['invoice.paid'],
      tls: { client_cert: client.cert, client_key: client.key },
      proxy_url: 'http://egress:pw-never-shown@127.0.0.1:3128',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await page.goto(`${base}/webhooks/${created.body.id}/edit`);
    await page.getByRole('heading', { name: /Edit mTLS receiver/ }).waitFor();
    await openSecurity(page);
    await page.getByTestId('key-fingerprint').waitFor();
    expect(await page.getByTestId('key-fingerprint').textContent()).toBe(
      pki.fingerprint(client.key),
    );
    expect(await page.getByLabel('Client key (PEM)').inputValue()).toBe('');
    expect(await page.getByLabel('Egress proxy (optional)').inputValue()).toBe(
      'http://egress@127.0.0.1:3128',
    );
    expect(await page.content()).not.toMatch(/PRIVATE KEY-----\n|pw-never-shown/);
    // A new CA changes tls, which is replaced whole: the key must be given again.
    await page.getByLabel('CA certificates (PEM, optional)').fill(pki.ca.cert);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(/Paste the private key again/).waitFor();
    await page.getByLabel('Client key (PEM)').fill(client.key);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(new RegExp(`/webhooks/${created.body.id}$`));
    const saved = await api('GET', `/webhooks/${created.body.id}`);
    expect(saved.body.tls).toMatchObject({ ca: pki.ca.cert.trim(), has_client_key: true });
    // The proxy was not touched, so its password is still there.
    expect(saved.body).toMatchObject({ proxy_has_password: true });
  });

  it('the portal form sets the same fields and does not offer the proxy', async () => {
    const session = await api('POST', '/tenants/acme/portal-sessions', {});
    expect(session.status).toBe(201);
    const { page: p } = await newPage(browser, { width: 1280, height: 900, errors });
    await p.goto(`${base}/portal#token=${session.body.token}`);
    await p.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await p.goto(`${base}/portal/webhooks/new`);
    await p.getByRole('heading', { name: 'New webhook' }).waitFor();
    await p.getByLabel('Name', { exact: true }).fill('Tenant receiver');
    await p.getByLabel('Endpoint URL').fill(receiver.url);
    await p.getByRole('checkbox', { name: /^invoice invoice\.\*/ }).check();
    await openSecurity(p);
    await p.getByLabel('Signature scheme').selectOption('both');
    await p.getByLabel('Authorization').selectOption('bearer');
    await p.getByLabel('Token').fill('tenant-token-123');
    expect(await p.getByLabel('Egress proxy (optional)').count()).toBe(0);
    await p.getByRole('button', { name: 'Create webhook' }).click();
    const id = await until(
      'the new webhook’s page',
      () => /\/webhooks\/(wh_\w+)$/.exec(p.url())?.[1],
    );
    const saved = await api('GET', `/webhooks/${id}`);
    expect(saved.body).toMatchObject({
      tenant_id: 'acme',
      signature_scheme: 'both',
      auth: { type: 'bearer', has_token: true },
      proxy_url: null,
    });
    await p.goto(`${base}/portal/webhooks/${id}/edit`);
    await p.getByRole('heading', { name: /Edit Tenant receiver/ }).waitFor();
    await openSecurity(p);
    await p.getByLabel('Signature scheme').waitFor();
    expect(await p.getByLabel('Egress proxy (optional)').count()).toBe(0);
    await p.close();
  });
});
