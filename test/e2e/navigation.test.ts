import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  ADMIN_KEY,
  callApi,
  ensureUiBuilt,
  launchBrowser,
  signIn,
  startHookline,
  startReceiver,
  until,
  watchConsole,
} from './support.js';

// Finding one's way: times in a chosen zone (and links that mean the same instant everywhere),
// the search box, the Events page without operational noise, lists that hold still.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;
const errors: string[] = [];
const api = (method: string, path: string, body?: unknown) =>
  callApi(base, ADMIN_KEY, method, path, body);

let webhookId: string;
let deliveryId: string;

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  receiver = await startReceiver();
  browser = await launchBrowser();
  // A viewer in New York: the browser's zone is not UTC, so a zone mix-up shows.
  context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    timezoneId: 'America/New_York',
    locale: 'en-US',
    reducedMotion: 'reduce',
  });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  watchConsole(page, errors);

  expect((await api('POST', '/event-types', { name: 'invoice.sent' })).status).toBe(201);
  const hook = await api('POST', '/webhooks', {
    name: 'Accounting',
    url: receiver.url,
    events: ['invoice.sent'],
  });
  webhookId = hook.body.id;
  const ev = await api('POST', '/events', { event_type: 'invoice.sent', payload: { n: 1 } });
  expect(ev.status).toBe(202);
  deliveryId = await until('the delivery to succeed', async () => {
    const d = (await api('GET', `/webhooks/${webhookId}/deliveries`)).body.data[0];
    return d?.status === 'succeeded' ? (d.id as string) : undefined;
  });
  await signIn(page, base, ADMIN_KEY);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await hookline?.stop();
});

const zoneSelect = () => page.getByLabel('Zone', { exact: true });

describe('finding one’s way in the admin UI', { timeout: 90_000 }, () => {
  it('shows times with their zone, offers UTC (kept after a reload), charts in the same zone', async () => {
    await page.goto(`${base}/deliveries?delivery=${deliveryId}`);
    const drawer = page.getByRole('dialog');
    await drawer
      .getByText(/Created/)
      .first()
      .waitFor();
    await drawer
      .getByText(/\d{2}:\d{2}:\d{2} (AM|PM) EST/)
      .first()
      .waitFor();
    await drawer.getByRole('button', { name: 'Close' }).click();
    await zoneSelect().selectOption('utc');
    await page.goto(`${base}/deliveries?delivery=${deliveryId}`);
    await drawer
      .getByText(/\d{2}:\d{2}:\d{2} (AM|PM) UTC/)
      .first()
      .waitFor();
    expect(await zoneSelect().inputValue()).toBe('utc');
    await drawer.getByRole('button', { name: 'Close' }).click();

    await page.goto(`${base}/`);
    await page.getByText('Deliveries over time').waitFor();
    const tip = await page.locator('.card svg title').first().textContent();
    expect(tip).toMatch(/UTC/);
  });

  it('puts the zone’s offset into the URL of a custom range, so a shared link is one instant', async () => {
    await page.goto(`${base}/deliveries`);
    await page.getByLabel('Time').selectOption('custom');
    await page.getByLabel('From').fill('2026-01-01T00:00');
    await until('the URL to carry the range', () => page.url().includes('since='));
    expect(new URL(page.url()).searchParams.get('since')).toBe('2026-01-01T00:00+00:00');
    // The same link read in New York's zone: the same instant, on New York's clock.
    await zoneSelect().selectOption('local');
    await until(
      'the From box in local time',
      async () => (await page.getByLabel('From').inputValue()) === '2025-12-31T19:00',
    );
    await page
      .getByRole('button', { name: /Open delivery/ })
      .first()
      .waitFor();
  });

  it('loads a page without fetching the OpenAPI document again', async () => {
    const asked: string[] = [];
    const log = (r: { url: () => string }) => asked.push(new URL(r.url()).pathname);
    page.on('request', log);
    await page.goto(`${base}/webhooks`);
    await page.getByRole('link', { name: 'Accounting' }).waitFor();
    page.off('request', log);
    expect(asked).toContain('/api/v1/webhooks');
    expect(asked).not.toContain('/openapi.json');
  });

  it('follows the system’s dark mode, and a switch kept in localStorage overrides it', async () => {
    const background = () =>
      page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    await until('the dark background', async () => (await background()) !== light);
    const dark = await background();
    await page.emulateMedia({ colorScheme: 'light' });
    await until('the light background', async () => (await background()) === light);
    await page.getByLabel('Theme', { exact: true }).selectOption('dark');
    await until('the dark theme', async () => (await background()) === dark);
    await page.reload();
    await page.getByRole('link', { name: 'Accounting' }).waitFor();
    expect(await background()).toBe(dark);
    await page.getByLabel('Theme', { exact: true }).selectOption('system');
    await until('the system theme', async () => (await background()) === light);
  });

  it('finds a delivery, an event or a webhook by id, and a webhook by name or URL, from any page', async () => {
    const search = page.getByRole('searchbox', { name: 'Search', exact: true });
    await page.goto(`${base}/event-types`);
    await search.fill(deliveryId);
    await search.press('Enter');
    await page.getByRole('dialog').getByText(deliveryId).first().waitFor();
    expect(new URL(page.url()).pathname).toBe('/deliveries');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    const eventId = (await api('GET', `/deliveries/${deliveryId}`)).body.event_id as string;
    await search.fill(eventId);
    await search.press('Enter');
    await page.waitForURL(/\/events\?event=evt_/);
    await page.getByRole('dialog').getByText(eventId).first().waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    await search.fill(webhookId);
    await search.press('Enter');
    await page.getByRole('heading', { name: /Accounting/ }).waitFor();

    await page.goto(`${base}/deliveries`);
    await search.fill('accoun');
    await page.getByRole('link', { name: 'Webhook Accounting' }).click();
    await page.waitForURL(`${base}/webhooks/${webhookId}`);
    await search.fill(new URL(receiver.url).host);
    await page.getByRole('link', { name: 'Webhook Accounting' }).waitFor();
    await search.fill('no such thing');
    await page.getByText('No webhook has that name or URL.').waitFor();
  });

  afterAll(() => expect(errors).toEqual([]));
});
