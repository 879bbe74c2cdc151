import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  ADMIN_KEY,
  callApi,
  ensureUiBuilt,
  launchBrowser,
  newPage,
  camera,
  signIn as signInAt,
  startHookline,
  startReceiver,
  takeConsoleError,
  until,
} from './support.js';

// One server, one receiver and one browser for the whole file: the steps below are one admin's
// session, in order (sign in, create, test, publish, retry, edit, delete), then a viewer's.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
let photos: ReturnType<typeof camera>;
const errors: string[] = [];

const api = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
  callApi(base, key, method, path, body);

const shot = (name: string, p: Page = page) => photos.shot(p, name);

const signIn = (p: Page, key: string) => signInAt(p, base, key);

const nav = (p: Page) => p.getByRole('navigation', { name: 'Main' });

async function signOut(p: Page): Promise<void> {
  const menu = p.getByRole('button', { name: 'Menu' });
  if (await menu.isVisible()) await menu.click();
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByLabel('API key').waitFor();
}

const expectConsoleError = (pattern: RegExp) => takeConsoleError(errors, pattern);

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  receiver = await startReceiver();
  browser = await launchBrowser();
  photos = camera();
  ({ page } = await newPage(browser, { width: 1280, height: 860, errors }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await hookline?.stop();
  photos?.done();
});

describe('admin UI in Chromium', { timeout: 90_000 }, () => {
  let webhookId: string;
  let deliveryId: string;
  let viewerKey: string;

  it('serves the app at / and signs in with an admin key kept in session storage', async () => {
    await page.goto(`${base}/`);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await shot('sign-in');
    await signIn(page, ADMIN_KEY);
    await page.getByRole('heading', { name: 'Dashboard', exact: true }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("hookline.apiKey")')).toBe(ADMIN_KEY);
    // A reload keeps the session; a deep link is served the app (SPA fallback).
    await page.goto(`${base}/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await page.getByText('No webhooks yet').waitFor();
  });

  it('creates an event type in the catalog', async () => {
    await nav(page).getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('button', { name: '+ New event type' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('ticket.created');
    await dialog.getByLabel('Description').fill('A ticket was opened');
    await dialog
      .getByLabel('JSON Schema (optional)')
      .fill('{"type": "object", "required": ["id"]}');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: 'ticket.created', exact: true }).waitFor();
    await page.getByRole('button', { name: '+ New event type' }).click();
    await page.getByRole('dialog').getByLabel('Name', { exact: true }).fill('ticket.closed');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: 'ticket.closed', exact: true }).waitFor();
    await page.getByRole('button', { name: '+ New event type' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill('ticket.merged');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'Edit ticket.merged' }).click();
    await page.getByRole('dialog').getByLabel('Description').fill('Two tickets became one');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'Two tickets became one' }).waitFor();
    await page.getByRole('button', { name: 'Archive ticket.merged' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Archive' }).click();
    await page.getByText('Event type archived').waitFor();
    await page
      .getByRole('cell', { name: 'ticket.merged', exact: true })
      .waitFor({ state: 'detached' });
    await page.getByLabel('Show archived').check();
    await page.getByRole('button', { name: 'Restore ticket.merged' }).waitFor();
    expect((await api('GET', '/event-types/ticket.merged')).body).toMatchObject({
      archived: true,
      description: 'Two tickets became one',
    });
    await page.getByLabel('Show archived').uncheck();
    await shot('event-types');
  });

  it('creates a webhook, showing client-side and server-side (422) errors next to their fields', async () => {
    await nav(page).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('link', { name: 'Create your first webhook' }).click();
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Receiver');
    await page.getByLabel('Endpoint URL').fill('not a url');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    // Client-side: the URL, and events not chosen.
    await page.getByText('Enter a full URL').waitFor();
    await page.getByText('Choose at least one event type.').waitFor();
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByRole('checkbox', { name: /^ticket ticket\.\*/ }).check();
    await page.getByText('Advanced settings').click();
    await page.getByRole('button', { name: '+ Add header' }).click();
    await page.getByLabel('Header 1 name').fill('Host');
    await page.getByLabel('Header 1 value').fill('x');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByText('Host is set by Hookline and cannot be overridden.').waitFor();
    await page.getByLabel('Header 1 name').fill('X-Team');
    await page.getByLabel('Header 1 value').fill('support');
    await page.getByLabel('Retries').fill('1');
    await page.getByLabel('Retry delay (s)').fill('10');
    // Server-side: a secret the client cannot judge (too short) comes back as a 422 shown by the field.
    await page.locator('summary', { hasText: 'Security' }).click();
    await page.getByLabel('Signing secret (optional)').fill('whsec_c2hvcnQ=');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByText('Not saved.').waitFor();
    const secretError = page.locator('#wh-secret-error');
    await secretError.waitFor();
    expect((await secretError.textContent())!.length).toBeGreaterThan(3);
    await shot('webhook-form-errors');
    // Chromium logs every 4xx answer to fetch as a console error: this one was asked for.
    await expectConsoleError(/status of 422/);
    await page.getByLabel('Signing secret (optional)').fill('');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.waitForURL(/\/webhooks\/wh_/);
    webhookId = page.url().split('/').pop()!;
    await page.getByRole('heading', { name: /Receiver/ }).waitFor();

    const saved = await api('GET', `/webhooks/${webhookId}`);
    expect(saved.body).toMatchObject({
      name: 'Receiver',
      url: receiver.url,
      events: ['ticket.*'],
      custom_headers: { 'X-Team': 'support' },
      retry_attempts: 1,
    });
  });

  it('reveals the secret on demand and sends a test, showing the response', async () => {
    await page.getByRole('tab', { name: 'Settings' }).click();
    expect(page.url()).toContain('tab=settings');
    await expect(page.getByTestId('secret').textContent()).resolves.toContain('••••');
    await page.getByRole('button', { name: 'Reveal' }).click();
    const shown = await until('the secret', async () => {
      const t = await page.getByTestId('secret').textContent();
      return t && t.startsWith('whsec_') && !t.includes('•') ? t : undefined;
    });
    expect(shown).toBe((await api('GET', `/webhooks/${webhookId}/secret`)).body.secret);
    await page.getByRole('button', { name: 'Rotate…' }).click();
    await page.getByRole('dialog').getByLabel('Keep the old secret valid for').selectOption('3600');
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('Secret rotated').waitFor();
    const rotated = await until('the new secret', async () => {
      const t = await page.getByTestId('secret').textContent();
      return t && t !== shown && t.startsWith('whsec_') ? t : undefined;
    });
    expect(rotated).toBe((await api('GET', `/webhooks/${webhookId}/secret`)).body.secret);
    await page.getByRole('button', { name: 'Hide' }).click();

    const before = receiver.received.length;
    await page.getByRole('tab', { name: 'Testing' }).click();
    await page.getByRole('button', { name: 'Send test' }).click();
    const result = page.getByTestId('test-result');
    await result.waitFor();
    await expect(result.textContent()).resolves.toContain('HTTP 200');
    await expect(result.textContent()).resolves.toContain('received');
    expect(receiver.received.length).toBe(before + 1);
    await shot('webhook-detail');
  });

  it('shows an event published through the API in the delivery log, with its attempts', async () => {
    const published = await api('POST', '/events', {
      event_type: 'ticket.created',
      payload: { id: 'T-1', subject: 'Printer on fire' },
    });
    expect(published.status).toBe(202);
    await nav(page).getByRole('link', { name: 'Deliveries' }).click();
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    const row = page.getByRole('button', { name: /Open delivery dlv_\w+: ticket\.created/ });
    await row.waitFor();
    deliveryId = /dlv_\w+/.exec((await row.getAttribute('aria-label'))!)![0];
    const delivered = await until(
      'the receiver to get the event',
      () => receiver.received.find((r) => r.body.includes('Printer on fire')),
      30_000,
    );
    expect(delivered.headers['x-team']).toBe('support');
    expect(delivered.headers['webhook-signature']).toMatch(/^v1,/);
    // The log refreshes by itself: the row turns Succeeded without a reload.
    await page
      .getByRole('row', { name: new RegExp(deliveryId) })
      .getByText('Succeeded')
      .waitFor({ timeout: 20_000 });
    await row.click();
    const drawer = page.getByRole('dialog');
    await drawer.getByText('Printer on fire').waitFor(); // the payload
    await drawer.getByText('Attempt 1').waitFor();
    await drawer.getByText('webhook-signature').first().waitFor(); // the request headers
    await shot('delivery-detail');
  });

  it('retries a delivery from the drawer', async () => {
    const before = receiver.received.filter((r) => r.body.includes('Printer on fire')).length;
    const drawer = page.getByRole('dialog');
    await drawer.getByRole('button', { name: 'Retry now' }).click();
    await page.getByText('Retry queued').waitFor();
    const audit = await api('GET', `/audit-log?target_id=${deliveryId}`);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toContain('delivery.retried');
    await until(
      'the retried attempt',
      () =>
        receiver.received.filter((r) => r.body.includes('Printer on fire')).length === before + 1,
      30_000,
    );
    // The open drawer refreshes by itself and shows the second attempt.
    await drawer.getByText('Attempt 2').waitFor({ timeout: 20_000 });
    await drawer.getByRole('button', { name: 'Close' }).click();
    // The test send of earlier is in the log too, with its attempt's request and response.
    await page.getByRole('row', { name: /test/ }).first().getByRole('button').click();
    await drawer.getByText('Attempt 1').waitFor();
    await drawer.getByText('webhook-signature').first().waitFor();
    await drawer.getByText('"received": true').first().waitFor();
    await shot('delivery-attempt');
    // Keyboard: Escape closes the drawer.
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
    await shot('deliveries');
  });

  it('filters the delivery log by status and event type', async () => {
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No deliveries match these filters').waitFor();
    expect(page.url()).toContain('status=failed');
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByLabel('Event type').selectOption('ticket.created');
    await page.getByRole('row', { name: new RegExp(deliveryId) }).waitFor();
    await page.getByLabel('Event type').selectOption('ticket.closed');
    await page.getByText('No deliveries match these filters').waitFor();
    await page.getByLabel('Event type').selectOption('');
    await page.getByLabel('Time').selectOption('1h');
    await page.getByRole('row', { name: new RegExp(deliveryId) }).waitFor();
    await page.getByLabel('Time').selectOption('custom');
    await page.getByLabel('From').fill('2099-01-01T00:00');
    await page.getByText('No deliveries match these filters').waitFor();
    expect(page.url()).toContain('since=2099');
    await page.getByLabel('From').fill('2000-01-01T00:00');
    await page.getByRole('row', { name: new RegExp(deliveryId) }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await page.getByRole('row', { name: new RegExp(deliveryId) }).waitFor();
  });

  it("replays a webhook's deliveries after a dry-run count", async () => {
    await page.goto(`${base}/webhooks/${webhookId}?tab=testing`);
    await page.getByRole('heading', { name: 'Replay deliveries' }).waitFor();
    await page.getByLabel('Which').selectOption('all');
    await page.getByRole('button', { name: 'Check how many match' }).click();
    const since = new Date(Date.now() - 86400e3).toISOString();
    const dry = await api('POST', `/webhooks/${webhookId}/replay`, {
      since,
      status: 'all',
      dry_run: true,
    });
    expect(dry.body.matched).toBeGreaterThan(0);
    const plural = dry.body.matched === 1 ? 'delivery matches' : 'deliveries match';
    await page.getByText(`${dry.body.matched} ${plural}`).waitFor();
    const before = receiver.received.length;
    await page.getByRole('button', { name: `Replay ${dry.body.matched}` }).click();
    await page.getByText(/queued again/).waitFor();
    await until(
      'the replayed requests',
      () => receiver.received.length >= before + dry.body.matched,
      30_000,
    );
  });

  it('shows the dashboard with the deliveries counted', async () => {
    await nav(page).getByRole('link', { name: 'Dashboard' }).click();
    await page.getByText('Deliveries over time').waitFor();
    await page.getByText('100%').first().waitFor();
    await page.getByText('No webhook is failing or disabled (1 in all)').waitFor();
    await shot('dashboard');
  });

  it('edits the webhook, then deletes it after confirming', async () => {
    await page.goto(`${base}/webhooks/${webhookId}`);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit Receiver' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Receiver (renamed)');
    await page.getByRole('checkbox', { name: /^ticket ticket\.\*/ }).uncheck();
    await page.getByRole('checkbox', { name: 'ticket.closed' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /Receiver \(renamed\)/ }).waitFor();
    const saved = await api('GET', `/webhooks/${webhookId}`);
    expect(saved.body).toMatchObject({
      name: 'Receiver (renamed)',
      events: ['ticket.closed'],
      custom_headers: { 'X-Team': 'support' },
    });

    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await page.waitForURL(`${base}/webhooks`);
    await page.getByText('No webhooks yet').waitFor();
    expect((await api('GET', `/webhooks/${webhookId}`)).status).toBe(404);
  });

  it('creates a viewer key (shown once) and the viewer sees everything read-only', async () => {
    // Something for the viewer to look at.
    const hook = await api('POST', '/webhooks', {
      name: 'Billing',
      url: receiver.url,
      events: ['*'],
    });
    expect(hook.status).toBe(201);
    expect(
      (await api('POST', '/events', { event_type: 'ticket.closed', payload: { id: 'T-2' } }))
        .status,
    ).toBe(202);
    expect((await api('POST', `/webhooks/${hook.body.id}/test`, {})).body.success).toBe(true);
    await nav(page).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('cell', { name: /Billing/ }).waitFor();
    await shot('webhooks');

    await nav(page).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: '+ New key' }).click();
    await page.getByRole('dialog').getByLabel('Name', { exact: true }).fill('support desk');
    await page
      .getByRole('dialog')
      .getByRole('radio', { name: /viewer/ })
      .check();
    await page.getByRole('dialog').getByRole('button', { name: 'Create key' }).click();
    const keyText = await until('the new key', async () => {
      const el = page.getByTestId('new-key');
      return (await el.isVisible()) ? (await el.textContent())?.trim() : undefined;
    });
    expect(keyText).toMatch(/^hk_/);
    viewerKey = keyText!;
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('cell', { name: 'support desk', exact: true }).waitFor();
    await shot('api-keys');

    await nav(page).getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('api_key.created').first().waitFor();
    await shot('audit-log');

    await signOut(page);
    expect(await page.evaluate('sessionStorage.getItem("hookline.apiKey")')).toBeNull();

    await signIn(page, keyText!);
    await page.getByText('Read-only: this key can look, not change.').waitFor();
    const sidebar = nav(page);
    expect(await sidebar.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    expect(await sidebar.getByRole('link', { name: 'Audit log' }).count()).toBe(0);

    await sidebar.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: /Billing/ }).waitFor();
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    for (const name of [
      'Edit',
      'Delete',
      'Pause',
      'Reveal',
      'Send test',
      'Rotate…',
      'Check how many match',
      'Testing',
      'Settings',
    ]) {
      expect(await page.getByRole('tab', { name, exact: true }).count(), name).toBe(0);
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
      expect(await page.getByRole('link', { name, exact: true }).count(), name).toBe(0);
    }
    await sidebar.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('cell', { name: /Billing/ }).waitFor();
    expect(await page.getByRole('link', { name: '+ New webhook' }).count()).toBe(0);
    await sidebar.getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('cell', { name: 'ticket.created', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: /New event type|Edit|Archive/ }).count()).toBe(0);
    await sidebar.getByRole('link', { name: 'Deliveries' }).click();
    await page
      .getByRole('button', { name: /Open delivery/ })
      .first()
      .waitFor();
    await page
      .getByRole('button', { name: /Open delivery/ })
      .first()
      .click();
    await page.getByRole('dialog').getByText('Attempts', { exact: true }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await signOut(page);
  });

  it('works at phone width (390 px)', async () => {
    const phone = await newPage(browser, { width: 390, height: 844, errors });
    const p = phone.page;
    // Keyboard only: type the key and press Enter.
    await p.goto(`${base}/`);
    await p.getByLabel('API key').fill(ADMIN_KEY);
    await p.getByLabel('API key').press('Enter');
    await p.getByRole('heading', { name: 'Dashboard', exact: true }).waitFor();
    await shot('phone-dashboard', p);
    // The sidebar collapses into a menu.
    await p.getByRole('button', { name: 'Menu' }).click();
    await p
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Webhooks' })
      .click();
    await p.getByRole('cell', { name: /Billing/ }).waitFor();
    await shot('phone-webhooks', p);
    const width = await p.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(390);
    await p.getByRole('link', { name: 'Billing' }).click();
    await p.getByRole('heading', { name: 'Configuration' }).waitFor();
    await p.getByText('p95 latency').waitFor();
    await shot('phone-webhook-detail', p);
    await p.getByRole('tab', { name: 'Deliveries' }).click();
    await p
      .getByRole('button', { name: /Open delivery/ })
      .first()
      .waitFor();
    await p.goto(`${base}/deliveries`);
    await p
      .getByRole('button', { name: /Open delivery/ })
      .first()
      .click();
    await p.getByRole('dialog').getByText('Attempt 1').first().waitFor();
    await shot('phone-delivery-detail', p);
    await phone.context.close();
  });

  it('skips the failing head of a FIFO webhook so the deliveries behind it go out', async () => {
    await signIn(page, ADMIN_KEY);
    receiver.setStatus(500);
    const hook = await api('POST', '/webhooks', {
      name: 'Ordered',
      url: `${receiver.url}/fifo`,
      events: ['ticket.created'],
      ordering: 'fifo',
      retry_attempts: 10,
      retry_delay_seconds: 3600,
    });
    expect(hook.status).toBe(201);
    const first = await api('POST', '/events', {
      event_type: 'ticket.created',
      payload: { id: 'FIFO-1' },
    });
    await until(
      'the first attempt to fail',
      () => receiver.received.some((r) => r.url.endsWith('/fifo') && r.body.includes('FIFO-1')),
      30_000,
    );
    receiver.setStatus(200);
    const second = await api('POST', '/events', {
      event_type: 'ticket.created',
      payload: { id: 'FIFO-2' },
    });
    expect(second.status).toBe(202);
    const headId = (await api('GET', `/webhooks/${hook.body.id}/deliveries`)).body.data.find(
      (d: any) => d.event_id === first.body.id,
    ).id;

    await page.goto(`${base}/deliveries?webhook=${hook.body.id}&delivery=${headId}`);
    const drawer = page.getByRole('dialog');
    await drawer.getByText('Attempt 1').waitFor();
    await drawer.getByText('500').first().waitFor();
    await shot('delivery-fifo-head');
    // The second delivery waits behind the failing head.
    expect(
      receiver.received.some((r) => r.url.endsWith('/fifo') && r.body.includes('FIFO-2')),
    ).toBe(false);
    await drawer.getByRole('button', { name: 'Skip (FIFO)' }).click();
    await page.getByText('Delivery skipped').waitFor();
    await drawer.getByText('Skipped').first().waitFor();
    await until(
      'the delivery behind it',
      () => receiver.received.some((r) => r.url.endsWith('/fifo') && r.body.includes('FIFO-2')),
      30_000,
    );
    await drawer.getByRole('button', { name: 'Close' }).click();
    await page
      .getByRole('row', { name: /Succeeded/ })
      .first()
      .waitFor();
  });

  it('revokes a key after confirming: it gets 401 from then on', async () => {
    expect((await api('GET', '/webhooks', undefined, viewerKey)).status).toBe(200);
    await nav(page).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Revoke support desk' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('Key revoked').waitFor();
    await until(
      'the key to leave the list',
      async () =>
        (await page.getByRole('cell', { name: 'support desk', exact: true }).count()) === 0,
    );
    expect((await api('GET', '/webhooks', undefined, viewerKey)).status).toBe(401);
  });

  it('logged no console errors and no uncaught exceptions', () => {
    expect(errors).toEqual([]);
  });
});
