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

// Lists a reader can trust (issue 14, items 7 and 8, and names instead of ids): the Events page
// shows the application's events with their outcome, the delivery and event lists hold new rows
// behind "N new · Show", finished drawers stop polling, the webhooks list's success rate
// refreshes, and ids are shown by name. One server, receivers and browser; steps in order.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let ok: Awaited<ReturnType<typeof startReceiver>>;
let gone: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
const errors: string[] = [];
const api = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
  callApi(base, key, method, path, body);
let deskId: string;

/** The requests the page makes, by path (/api/v1/…), to tell which resources it polls. */
const requests: string[] = [];
const count = (path: string) => requests.filter((p) => p === path).length;

/** Publishes one ticket.created and waits until every delivery of it is finished. */
async function publishAndSettle(): Promise<{ eventId: string; deliveryIds: string[] }> {
  const res = await api('POST', '/events', { event_type: 'ticket.created', payload: { n: 1 } });
  expect(res.status).toBe(202);
  const event = await until('the deliveries to finish', async () => {
    const e = (await api('GET', `/events/${res.body.id}`)).body;
    return e.deliveries.every((d: { status: string }) =>
      ['succeeded', 'failed', 'cancelled'].includes(d.status),
    )
      ? e
      : undefined;
  });
  return { eventId: res.body.id, deliveryIds: event.deliveries.map((d: { id: string }) => d.id) };
}

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  ok = await startReceiver();
  gone = await startReceiver();
  gone.setStatus(410);
  browser = await launchBrowser();
  ({ page } = await newPage(browser, { width: 1280, height: 860, errors }));
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));

  expect((await api('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
  // "Desk" is made with a named key, so its page can say who created it.
  const deploy = await api('POST', '/api-keys', { name: 'Deploy bot', role: 'admin' });
  expect(deploy.status).toBe(201);
  const desk = await api(
    'POST',
    '/webhooks',
    { name: 'Desk', url: ok.url, events: ['ticket.*'] },
    deploy.body.key,
  );
  expect(desk.status).toBe(201);
  deskId = desk.body.id;
  const old = await api('POST', '/webhooks', { name: 'Old CRM', url: gone.url, events: ['*'] });
  expect(old.status).toBe(201);
  await signIn(page, base, ADMIN_KEY);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ok?.close();
  await gone?.close();
  await hookline?.stop();
});

describe('lists that keep still and say what happened', { timeout: 90_000 }, () => {
  it("shows the application's events with their outcome; Hookline's own behind a toggle", async () => {
    // Old CRM answers 410 Gone: Hookline disables it and publishes hookline.webhook.disabled.
    const { eventId } = await publishAndSettle();
    await until('the operational event', async () => {
      const ops = await api('GET', '/events?operational=true');
      return ops.body.data.length > 0;
    });
    await page.goto(`${base}/events`);
    const row = page.getByRole('row', { name: new RegExp(eventId) });
    await row.getByText('1 delivered').waitFor();
    await row.getByText('1 failed').waitFor();
    const operational = page.getByRole('button', { name: /: hookline\.webhook\.disabled$/ });
    expect(await operational.count()).toBe(0);

    await page.getByLabel('Show operational events (hookline.*)').check();
    await operational.waitFor();
    expect(new URL(page.url()).searchParams.get('operational')).toBe('1');
    await page.getByLabel('Show operational events (hookline.*)').uncheck();
    await operational.waitFor({ state: 'detached' });
  });

  it('holds deliveries that arrive while the log is read behind "N new · Show"', async () => {
    await page.goto(`${base}/deliveries`);
    const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
    await rows.first().waitFor();
    const before = await rows.count();

    const { deliveryIds } = await publishAndSettle();
    const [fresh] = deliveryIds;
    const banner = page.getByRole('status').filter({ hasText: '1 new delivery' });
    await banner.waitFor();
    // The rows under the reader did not move: the new one is not among them yet.
    expect(await rows.count()).toBe(before);
    expect(await page.getByRole('row', { name: new RegExp(fresh) }).count()).toBe(0);

    await banner.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('row', { name: new RegExp(fresh) }).waitFor();
    expect(await rows.count()).toBe(before + 1);
    expect(await rows.first().textContent()).toContain(fresh);
    await banner.waitFor({ state: 'detached' });

    // More than a page of them: the rows read stay (none drops off the end), the count says so.
    const batch = await api('POST', '/events/batch', {
      events: Array.from({ length: 51 }, (_, n) => ({
        event_type: 'ticket.created',
        payload: { n },
      })),
    });
    expect(batch.status).toBe(202);
    const flood = page.getByRole('status').filter({ hasText: '50+ new deliveries' });
    await flood.waitFor();
    expect(await rows.count()).toBe(before + 1);
    expect(await rows.first().textContent()).toContain(fresh);
    await flood.getByRole('button', { name: 'Show' }).click();
    await flood.waitFor({ state: 'detached' });
    expect(await rows.first().textContent()).not.toContain(fresh);
    await page.getByRole('button', { name: 'Load more' }).waitFor();
  });

  it("stops polling a finished delivery's drawer, while the list goes on refreshing", async () => {
    const { deliveryIds } = await publishAndSettle();
    const [done] = deliveryIds;
    await page.goto(`${base}/deliveries?delivery=${done}`);
    const drawer = page.getByRole('dialog');
    await drawer.getByText('Succeeded').first().waitFor();
    const detail = `/api/v1/deliveries/${done}`;
    const list = '/api/v1/deliveries';
    // Let a list refresh pass first, so a detail request already under way is counted.
    const listed = count(list);
    await until('a list refresh', () => count(list) > listed);
    const polled = count(detail);
    const later = count(list);
    await until('two more list refreshes', () => count(list) >= later + 2, 30_000);
    expect(count(detail)).toBe(polled);
    await drawer.getByRole('button', { name: 'Close' }).click();
  });

  it('holds new events the same way; an event whose deliveries are done stops polling', async () => {
    await page.goto(`${base}/events`);
    const rows = page.getByRole('table', { name: 'Events' }).locator('tbody tr');
    await rows.first().waitFor();
    const before = await rows.count();
    const { eventId } = await publishAndSettle();
    const banner = page.getByRole('status').filter({ hasText: '1 new event' });
    await banner.waitFor();
    expect(await rows.count()).toBe(before);
    await banner.getByRole('button', { name: 'Show' }).click();
    const open = page.getByRole('button', { name: `Open event ${eventId}: ticket.created` });
    await open.click();
    await page.getByRole('dialog').getByText('Succeeded').first().waitFor();
    const detail = `/api/v1/events/${eventId}`;
    const list = '/api/v1/events';
    const listed = count(list);
    await until('a list refresh', () => count(list) > listed);
    const polled = count(detail);
    const later = count(list);
    await until('two more list refreshes', () => count(list) >= later + 2, 30_000);
    expect(count(detail)).toBe(polled);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  });

  it('refreshes the webhooks list\'s "Success (24h)" with the rows', async () => {
    const fresh = await api('POST', '/webhooks', {
      name: 'Fresh',
      url: ok.url,
      events: ['ticket.created'],
    });
    expect(fresh.status).toBe(201);
    await page.goto(`${base}/webhooks`);
    const row = page.getByRole('row', { name: /Fresh/ });
    await row.getByText('—', { exact: true }).first().waitFor();
    await publishAndSettle();
    // The list refreshes by itself (every 15 s): the rate follows without a reload.
    await row.getByText('100%').waitFor({ timeout: 40_000 });
    // One request for the rates of the whole page, never one per webhook (a key's rate limit).
    expect(count('/api/v1/stats/webhooks')).toBeGreaterThanOrEqual(2);
    expect(requests.filter((p) => /^\/api\/v1\/webhooks\/[^/]+\/stats$/.test(p))).toEqual([]);
  });

  it('names keys and targets instead of showing their ids', async () => {
    await page.goto(`${base}/webhooks/${deskId}`);
    await page.getByText('by Deploy bot').waitFor();
    await page.goto(`${base}/audit-log?action=webhook.created`);
    const entry = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Desk' }) });
    await entry.getByText('Deploy bot').waitFor();
    expect(await page.getByRole('table', { name: 'Audit log' }).textContent()).not.toContain(
      deskId,
    );
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
