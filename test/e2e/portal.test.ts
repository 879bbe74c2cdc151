import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Frame, FrameLocator, Page } from 'playwright-core';
import { createPortalEmbedApp } from '../../examples/portal-embed/server.js';
import {
  ADMIN_KEY,
  callApi,
  camera,
  ensureUiBuilt,
  launchBrowser,
  newPage,
  signIn,
  startHookline,
  startReceiver,
  takeConsoleError,
  until,
} from './support.js';

// The customer portal as a customer meets it: inside the example application's page, served on
// another port (another origin), framing Hookline's /portal with a token minted server-side.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let host: Server;
let hostUrl: string;
let browser: Browser;
let page: Page;
let base: string;
let photos: ReturnType<typeof camera>;
const errors: string[] = [];

const api = (method: string, path: string, body?: unknown) =>
  callApi(base, ADMIN_KEY, method, path, body);

/** A port nobody listens on now: the portal's links carry the server's address, so it is fixed. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** The frame of the portal inside the host page (to read its URL and storage). */
async function portalFrame(p: Page): Promise<Frame> {
  return until('the portal frame', () => p.frames().find((f) => f.url().includes('/portal')));
}

beforeAll(async () => {
  ensureUiBuilt();
  // The host page listens first: Hookline is told to let exactly its origin frame the portal.
  const embed: { app?: ReturnType<typeof createPortalEmbedApp> } = {};
  host = createServer((req, res) => embed.app!(req, res));
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  hookline = await startHookline({
    port: await freePort(),
    portalFrameAncestors: `'self' ${hostUrl}`,
  });
  base = hookline.server.url;
  embed.app = createPortalEmbedApp({
    hooklineUrl: base,
    apiKey: ADMIN_KEY,
    customers: { acme: { id: 'acme', name: 'Acme Inc.' } },
    expiresIn: 900,
  });
  receiver = await startReceiver();
  for (const name of ['invoice.paid', 'invoice.voided'])
    expect((await api('POST', '/event-types', { name })).status).toBe(201);
  browser = await launchBrowser();
  photos = camera();
  ({ page } = await newPage(browser, { width: 1280, height: 900, errors }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  host?.closeAllConnections();
  await new Promise((r) => (host ? host.close(r) : r(undefined)));
  await hookline?.stop();
  photos?.done();
});

describe('customer portal in Chromium', { timeout: 90_000 }, () => {
  let portal: FrameLocator;
  let webhookId: string;

  it('answers /portal with the configured frame-ancestors, and keeps the admin UI unframed', async () => {
    const p = await fetch(`${base}/portal`);
    expect(p.status).toBe(200);
    expect(p.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${hostUrl}`);
    expect(p.headers.get('x-frame-options')).toBeNull();
    const admin = await fetch(`${base}/`);
    expect(admin.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(admin.headers.get('x-frame-options')).toBe('DENY');
  });

  it('opens inside the host page of another origin, the token taken out of the address', async () => {
    await page.goto(`${hostUrl}/sign-in?as=acme`);
    await page.waitForURL(`${hostUrl}/settings/webhooks`);
    portal = page.frameLocator('iframe[title="Webhooks"]');
    await portal.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await portal.getByText('No webhooks yet').waitFor();
    const frame = await portalFrame(page);
    expect(frame.url()).not.toContain('token');
    expect(await frame.evaluate('sessionStorage.getItem("hookline.portalToken")')).toMatch(/^hlp_/);
    // The upsert made the tenant; the portal shows no organization-wide pages.
    expect((await api('GET', '/tenants/acme')).body).toMatchObject({ name: 'Acme Inc.' });
    const nav = portal.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Webhooks',
      'Deliveries',
      'Event types',
    ]);
  });

  it('creates a webhook for the tenant from inside the frame', async () => {
    await portal.getByRole('link', { name: 'Create your first webhook' }).click();
    await portal.getByRole('heading', { name: 'New webhook' }).waitFor();
    await portal.getByLabel('Name', { exact: true }).fill('Acme receiver');
    await portal.getByLabel('Endpoint URL').fill(receiver.url);
    await portal.getByRole('checkbox', { name: /^invoice invoice\.\*/ }).check();
    await portal.getByRole('button', { name: 'Create webhook' }).click();
    await portal.getByRole('heading', { name: /Acme receiver/ }).waitFor();
    const frame = await portalFrame(page);
    webhookId = await until(
      'the webhook page',
      () => /\/portal\/webhooks\/(wh_\w+)/.exec(frame.url())?.[1],
    );
    const saved = await api('GET', `/webhooks/${webhookId}`);
    expect(saved.body).toMatchObject({ tenant_id: 'acme', url: receiver.url });
    // The secret is the customer's to see, in the webhook's Settings tab.
    await portal.getByRole('tab', { name: 'Settings' }).click();
    await portal.getByRole('button', { name: 'Reveal' }).click();
    const secret = (await api('GET', `/webhooks/${webhookId}/secret`)).body.secret;
    await portal.getByText(secret).waitFor();
  });

  it('delivers an event published for the tenant and shows it with its attempt', async () => {
    const published = await api('POST', '/events', {
      event_type: 'invoice.paid',
      payload: { invoice: 'INV-7', amount: 4200 },
      tenant_id: 'acme',
    });
    expect(published.status).toBe(202);
    expect(published.body.deliveries).toBe(1);
    // The organization's own publish (no tenant_id) never reaches the tenant's webhook.
    await api('POST', '/events', { event_type: 'invoice.paid', payload: { invoice: 'ORG-1' } });
    await until('the delivery at the receiver', () =>
      receiver.received.find((r) => r.body.includes('INV-7')),
    );
    await portal
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Deliveries' })
      .click();
    await portal.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    const row = portal.getByRole('button', { name: /Open delivery dlv_\w+: invoice\.paid/ });
    await row.waitFor();
    // The log refreshes by itself: the row turns Succeeded without a reload.
    await portal.getByRole('row').filter({ has: row }).getByText('Succeeded').waitFor();
    await row.click();
    const drawer = portal.getByRole('dialog');
    await drawer.getByText('Attempt 1').waitFor();
    await drawer.getByText('"received": true').first().waitFor();
    await drawer.getByRole('button', { name: 'Retry now' }).waitFor();
    expect(receiver.received.some((r) => r.body.includes('ORG-1'))).toBe(false);
    await drawer.getByRole('button', { name: 'Close' }).click();
  });

  it('screenshots the portal on a desktop, a phone and in the dark theme', async () => {
    const branding = await api('PATCH', '/portal-settings', {
      title: 'Example App webhooks',
      accent_color: '#0a7c66',
      support_url: 'https://example.com/help/webhooks',
    });
    expect(branding.status).toBe(200);
    const session = await api('POST', '/tenants/acme/portal-sessions', { expires_in: 600 });
    const shots = [
      { name: 'portal-desktop', width: 1280, height: 860, theme: 'light' },
      { name: 'portal-phone', width: 390, height: 844, theme: 'light' },
      { name: 'portal-dark', width: 1280, height: 860, theme: 'dark' },
    ];
    for (const s of shots) {
      const { context, page: p } = await newPage(browser, { ...s, errors });
      const url = new URL(session.body.url);
      url.searchParams.set('theme', s.theme);
      await p.goto(url.toString());
      await p.getByRole('link', { name: 'Acme receiver' }).waitFor();
      expect(await p.evaluate('document.documentElement.dataset.theme')).toBe(s.theme);
      expect(
        await p.evaluate(
          "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()",
        ),
      ).toBe('#0a7c66');
      expect(await p.title()).toBe('Webhooks · Example App webhooks');
      expect(await p.getByRole('link', { name: 'Help' }).getAttribute('href')).toBe(
        'https://example.com/help/webhooks',
      );
      await photos.shot(p, s.name);
      await context.close();
    }
  });

  it('shows no action to a read-only link, and the API refuses its writes', async () => {
    const session = await api('POST', '/tenants/acme/portal-sessions', { read_only: true });
    expect(session.body.read_only).toBe(true);
    const { context, page: p } = await newPage(browser, { width: 1280, height: 860, errors });
    await p.goto(session.body.url);
    await p.getByText('Read-only').waitFor();
    await p.getByRole('link', { name: 'Acme receiver' }).click();
    await p.getByRole('heading', { name: /Acme receiver/ }).waitFor();
    await p.getByRole('heading', { name: 'Configuration' }).waitFor();
    for (const name of ['Edit', 'Pause', 'Delete', 'Reveal', 'Send test', 'Rotate…'])
      expect(await p.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await p.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    for (const name of ['Testing', 'Settings'])
      expect(await p.getByRole('tab', { name, exact: true }).count(), name).toBe(0);
    await p.getByRole('tab', { name: 'Deliveries' }).click();
    await p
      .getByRole('button', { name: /Open delivery dlv_/ })
      .first()
      .click();
    await p.getByRole('dialog').getByText('Attempt 1').waitFor();
    expect(await p.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    await p.goto(`${base}/portal/webhooks`);
    expect(await p.getByRole('link', { name: '+ New webhook' }).count()).toBe(0);
    // The page hides the actions; the API refuses them whatever a page shows.
    const token = session.body.token as string;
    expect(token).toMatch(/^hlp_/);
    const patch = await callApi(base, token, 'PATCH', `/webhooks/${webhookId}`, { name: 'x' });
    expect(patch.status).toBe(403);
    expect((await callApi(base, token, 'GET', `/webhooks/${webhookId}`)).status).toBe(200);
    await context.close();
  });

  it('shows "link expired" for a revoked token, not a sign-in form', async () => {
    const session = await api('POST', '/tenants/acme/portal-sessions', { expires_in: 600 });
    expect((await api('DELETE', `/portal-sessions/${session.body.id}`)).status).toBe(204);
    const { context, page: p } = await newPage(browser, { width: 1280, height: 860, errors });
    await p.goto(session.body.url);
    await p.getByRole('heading', { name: 'This link has expired' }).waitFor();
    await p.getByText(/Ask .+ for a new one/).waitFor();
    expect(await p.getByLabel('API key').count()).toBe(0);
    await takeConsoleError(errors, /status of 401/);
    await context.close();
  });

  it('lists the tenant in the admin UI, opens its portal, creates a tenant, edits branding', async () => {
    const { context, page: p } = await newPage(browser, { width: 1280, height: 860, errors });
    await signIn(p, base, ADMIN_KEY);
    await p
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Tenants' })
      .click();
    const row = p.getByRole('row', { name: /Acme Inc\./ });
    await row.waitFor();
    await row.getByText('Healthy').waitFor();
    const search = p.getByRole('searchbox', { name: 'Search tenants' });
    await search.fill('zzz');
    await search.press('Enter');
    await p.getByText('No tenant matches').waitFor();
    expect(p.url()).toContain('q=zzz');
    await search.fill('ac');
    await search.press('Enter');
    await row.getByRole('link', { name: 'Acme Inc.' }).click();
    await p.getByRole('heading', { name: /Acme Inc\./ }).waitFor();
    await p.getByRole('link', { name: 'Acme receiver' }).waitFor();
    await photos.shot(p, 'tenant-detail');
    const [tab] = await Promise.all([
      context.waitForEvent('page'),
      p.getByRole('button', { name: 'Open portal as this tenant' }).click(),
    ]);
    await tab.getByRole('link', { name: 'Acme receiver' }).waitFor();
    expect(tab.url()).toBe(`${base}/portal`);

    // A new tenant from the dialog, and the portal's branding from the settings dialog.
    await p.getByRole('link', { name: '← Tenants' }).click();
    await p.getByRole('button', { name: '+ New tenant' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.getByLabel('Id').fill('globex');
    await dialog.getByLabel('Name').fill('Globex');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await p.getByRole('heading', { name: /Globex/ }).waitFor();
    await p.getByText('No webhooks yet').waitFor();
    expect((await api('GET', '/tenants/globex')).body).toMatchObject({ name: 'Globex' });
    await p.getByRole('link', { name: '← Tenants' }).click();
    await p.getByRole('button', { name: 'Portal settings' }).click();
    // The form is filled once the settings load, a render after the field appears: wait for it.
    await expect.poll(() => dialog.getByLabel('Title').inputValue()).toBe('Example App webhooks');
    await dialog.getByLabel('Title').fill('Example App: your webhooks');
    await dialog.getByLabel('Accent colour', { exact: true }).fill('#123456');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await p.getByText('Portal settings saved').waitFor();
    expect((await api('GET', '/portal-settings')).body).toMatchObject({
      title: 'Example App: your webhooks',
      accent_color: '#123456',
      support_url: 'https://example.com/help/webhooks',
    });
    await context.close();
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
