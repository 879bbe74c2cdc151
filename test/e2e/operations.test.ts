import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
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
  until,
} from './support.js';

// An admin's operations in the UI: a webhook Hookline switched off (its receiver answered 410 Gone)
// shown with its reason and re-enabled, then the audit log of all that, narrowed by its filters.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let healthy: Awaited<ReturnType<typeof startReceiver>>;
let gone: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
const errors: string[] = [];
let photos: ReturnType<typeof camera>;
const api = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
  callApi(base, key, method, path, body);
const row = (text: string | RegExp) => page.getByRole('row').filter({ hasText: text });

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  healthy = await startReceiver();
  gone = await startReceiver();
  gone.setStatus(410);
  browser = await launchBrowser();
  photos = camera();
  ({ page } = await newPage(browser, { width: 1280, height: 860, errors }));
}, 180_000);

afterAll(async () => {
  photos?.done();
  await browser?.close();
  await healthy?.close();
  await gone?.close();
  await hookline?.stop();
});

describe('operations in the admin UI', { timeout: 90_000 }, () => {
  let goneId: string;

  it('shows a webhook Hookline disabled (410 Gone) with its reason, and re-enables it', async () => {
    expect((await api('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
    const hook = await api('POST', '/webhooks', {
      name: 'Retired endpoint',
      url: gone.url,
      events: ['ticket.created'],
    });
    expect(
      (
        await api('POST', '/webhooks', {
          name: 'Desk',
          url: healthy.url,
          events: ['ticket.created'],
        })
      ).status,
    ).toBe(201);
    goneId = hook.body.id;
    expect(
      (await api('POST', '/events', { event_type: 'ticket.created', payload: { id: 'T-1' } }))
        .status,
    ).toBe(202);
    const disabled = await until(
      'Hookline to disable the webhook',
      async () => {
        const w = (await api('GET', `/webhooks/${goneId}`)).body;
        return w.disabled_reason ? w : undefined;
      },
      30_000,
    );
    expect(disabled.is_active).toBe(false);
    expect(disabled.disabled_reason).toContain('410');

    await signIn(page, base, ADMIN_KEY);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Webhooks' })
      .click();
    await row('Retired endpoint').getByText('Disabled').waitFor();
    await row('Retired endpoint')
      .getByText(/The endpoint answered 410 Gone/)
      .waitFor();
    await row('Desk').getByText('Active').waitFor();
    await photos.shot(page, 'webhook-disabled');

    await page.getByRole('link', { name: 'Retired endpoint' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Hookline disabled this webhook' });
    await alert.getByText(/The endpoint answered 410 Gone/).waitFor();
    await alert.getByRole('button', { name: 'Re-enable' }).click();
    await page.getByText('Webhook enabled').waitFor();
    await alert.waitFor({ state: 'detached' });
    await page
      .getByRole('heading', { name: /Retired endpoint/ })
      .getByText('Active')
      .waitFor();
    expect((await api('GET', `/webhooks/${goneId}`)).body).toMatchObject({
      is_active: true,
      disabled_reason: null,
      failure_count: 0,
    });
  });

  it('filters the audit log by action, target, key and time, keeping the filters in the URL', async () => {
    const viewer = await api('POST', '/api-keys', { name: 'ops viewer', role: 'viewer' });
    expect(viewer.status).toBe(201);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Audit log' })
      .click();
    await row('api_key.created').first().waitFor();
    await row('webhook.disabled').waitFor();

    // Action, with the `webhook.*` wildcard: only webhook entries are left.
    await page.getByLabel('Action').fill('webhook.*');
    await page.getByLabel('Action').press('Enter');
    await until(
      'the api_key entries to go',
      async () => (await row('api_key.created').count()) === 0,
    );
    expect(new URL(page.url()).searchParams.get('action')).toBe('webhook.*');
    await row('webhook.disabled').waitFor();
    await row('webhook.created').first().waitFor();

    // Target id: the disabled webhook's entries only (created, disabled by Hookline, re-enabled).
    await page.getByLabel('Target id').fill(goneId);
    await page.getByLabel('Target id').press('Enter');
    await until(
      'one webhook.created entry',
      async () => (await row('webhook.created').count()) === 1,
    );
    await row('webhook.updated').waitFor();
    await row('webhook.disabled').getByText('system').waitFor();
    await photos.shot(page, 'audit-log-filtered');

    // Key: the admin key's own changes, so Hookline's webhook.disabled goes.
    const me = (await api('GET', '/me')).body;
    await page.getByRole('combobox', { name: /^Key/ }).selectOption(me.key_id);
    await row('webhook.disabled').waitFor({ state: 'detached' });
    await row('webhook.updated').waitFor();

    // The filters live in the URL: a reload shows the same view.
    await page.reload();
    await row('webhook.updated').waitFor();
    expect(await row('webhook.disabled').count()).toBe(0);
    expect(await page.getByLabel('Target id').inputValue()).toBe(goneId);
    // The keys are loaded apart from the list: the select shows the key once its option is there.
    await expect
      .poll(() => page.getByRole('combobox', { name: /^Key/ }).inputValue())
      .toBe(me.key_id);

    // Target type and time.
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await page.getByLabel('Target type').selectOption('api_key');
    await row('ops viewer').waitFor();
    await until('only api_key entries', async () => (await row('webhook.').count()) === 0);
    await page.getByLabel('Time').selectOption('custom');
    await page.getByLabel('From').fill('2099-01-01T00:00');
    await page.getByText('No entries match these filters').waitFor();
    expect(page.url()).toContain('since=2099');
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await row('webhook.disabled').waitFor();
  });

  it('logged no console errors and no uncaught exceptions', () => {
    expect(errors).toEqual([]);
  });
});
