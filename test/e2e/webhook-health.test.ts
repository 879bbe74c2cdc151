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
  takeConsoleError,
  until,
} from './support.js';

// What an admin sees of webhooks that fail: the counts said as what they count, feedback that is
// not hidden behind a dialog, the state first on a webhook's page, error codes in plain words.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let broken: Awaited<ReturnType<typeof startReceiver>>;
let gone: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
const errors: string[] = [];
const api = (method: string, path: string, body?: unknown) =>
  callApi(base, ADMIN_KEY, method, path, body);

/** Publishes one event and waits until its delivery to `webhookId` is finished (`status`). */
async function deliverOne(webhookId: string, status: string): Promise<string> {
  const ev = await api('POST', '/events', { event_type: 'order.paid', payload: { n: 1 } });
  expect(ev.status).toBe(202);
  return until(`a ${status} delivery of ${ev.body.id}`, async () => {
    const list = await api('GET', `/webhooks/${webhookId}/deliveries?limit=100`);
    const d = list.body.data.find((x: any) => x.event_id === ev.body.id);
    return d?.status === status ? (d.id as string) : undefined;
  });
}

let failingId: string;
let refusedId: string;
let goneId: string;
let pausedId: string;

beforeAll(async () => {
  ensureUiBuilt();
  // Retries a thousand times sooner: a delivery's two attempts take milliseconds, not a minute.
  hookline = await startHookline({ retryDelayScale: 0.001 });
  base = hookline.server.url;
  broken = await startReceiver();
  broken.setStatus(500);
  gone = await startReceiver();
  gone.setStatus(410);
  // A port nothing listens on: its webhook's attempts end in connection_refused.
  const closed = await startReceiver();
  const refusedUrl = closed.url;
  await closed.close();
  browser = await launchBrowser();
  ({ page } = await newPage(browser, { width: 1280, height: 860, errors }));

  expect((await api('POST', '/event-types', { name: 'order.paid' })).status).toBe(201);
  const make = async (name: string, url: string, extra: object = {}) => {
    const r = await api('POST', '/webhooks', {
      name,
      url,
      events: ['order.paid'],
      retry_attempts: 1,
      retry_delay_seconds: 10,
      ...extra,
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  failingId = await make('Billing', broken.url);
  refusedId = await make('Warehouse', refusedUrl);
  goneId = await make('Retired', gone.url);
  pausedId = await make('Paused one', broken.url, { is_active: false });
  // Two deliveries of two attempts each to Billing: four failed attempts in a row.
  await deliverOne(failingId, 'failed');
  await deliverOne(failingId, 'failed');
  await until('Retired to be disabled', async () => {
    const w = (await api('GET', `/webhooks/${goneId}`)).body;
    return w.disabled_reason ? w : undefined;
  });
  await until('Warehouse to have failed', async () => {
    const w = (await api('GET', `/webhooks/${refusedId}`)).body;
    return w.failure_count >= 2 ? w : undefined;
  });
  await signIn(page, base, ADMIN_KEY);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await broken?.close();
  await gone?.close();
  await hookline?.stop();
});

describe('failing webhooks in the admin UI', { timeout: 90_000 }, () => {
  it('says failure_count as failed attempts in a row, with when the failing began', async () => {
    const w = (await api('GET', `/webhooks/${failingId}`)).body;
    expect(w.failure_count).toBe(4);
    expect(typeof w.first_failure_at).toBe('string');
    const row = page.getByRole('row').filter({ hasText: 'Billing' });
    await row.getByText(/4 failed attempts in a row, failing since/).waitFor();
    expect(await page.getByText(/failed deliveries in a row/).count()).toBe(0);
    await page.goto(`${base}/webhooks/${failingId}`);
    await page
      .getByText(/4 failed attempts in a row, failing since/)
      .first()
      .waitFor();
  });

  it('the OpenAPI document says failure_count counts attempts', async () => {
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    const text = JSON.stringify(doc);
    expect(text).not.toContain('Consecutive failed deliveries');
    expect(text).toContain('Failed attempts in a row');
  });

  it('shows an action’s error above the open drawer, and no Retry for a webhook that is off', async () => {
    const ledgerId = (
      await api('POST', '/webhooks', {
        name: 'Ledger',
        url: broken.url,
        events: ['order.paid'],
        retry_attempts: 0,
      })
    ).body.id as string;
    const deliveryId = await deliverOne(ledgerId, 'failed');
    await page.goto(`${base}/deliveries?delivery=${deliveryId}`);
    const drawer = page.getByRole('dialog');
    const retry = drawer.getByRole('button', { name: 'Retry now' });
    await retry.waitFor();
    // Paused behind the UI's back: the page still thinks the webhook is on, the server refuses.
    expect((await api('PATCH', `/webhooks/${ledgerId}`, { is_active: false })).status).toBe(200);
    await retry.click();
    const toast = drawer.locator('.toast').filter({ hasText: 'is disabled' });
    await toast.waitFor();
    // A click hit-tests the point: it fails if the toast is covered by, or inert behind, the dialog.
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    await toast.waitFor({ state: 'detached' });
    await takeConsoleError(errors, /409/);

    await page.reload();
    await drawer.getByRole('button', { name: 'Retry now' }).waitFor();
    expect(await drawer.getByRole('button', { name: 'Retry now' }).isDisabled()).toBe(true);
    await drawer.getByText('This webhook is paused, so a retry would not be sent').waitFor();
  });

  it('puts a webhook’s state first, and keeps its tabs in the URL', async () => {
    await page.goto(`${base}/webhooks/${failingId}`);
    const banner = page.getByRole('alert').filter({ hasText: 'This webhook is failing' });
    await banner.getByText(/Last error/).waitFor();
    await banner.getByText('500').first().waitFor();
    // The banner comes before the tabs and everything in them.
    const above = await page.evaluate<boolean>(
      `document.querySelector('.health-banner').getBoundingClientRect().bottom <=
       document.querySelector('[role=tablist]').getBoundingClientRect().top`,
    );
    expect(above).toBe(true);
    await banner.getByRole('link', { name: 'View failed deliveries' }).click();
    await page.getByRole('tab', { name: 'Deliveries', selected: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('tab')).toBe('deliveries');
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed');
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    await page
      .getByRole('button', { name: /Open delivery dlv_/ })
      .first()
      .waitFor();
    await page.getByRole('tab', { name: 'Testing' }).click();
    await page.getByRole('button', { name: 'Send test' }).waitFor();
    await page.reload();
    await page.getByRole('tab', { name: 'Testing', selected: true }).waitFor();
    await page.getByRole('button', { name: 'Send test' }).waitFor();
  });

  it('lists failing and disabled webhooks on the dashboard with their last error, not paused ones', async () => {
    await page.goto(`${base}/`);
    const attention = page.locator('section').filter({
      has: page.getByRole('heading', { name: 'Webhooks needing attention' }),
    });
    const billing = attention.getByRole('row').filter({ hasText: 'Billing' });
    await billing.getByText(/failed with a server error \(500\)/).waitFor();
    await attention.getByRole('row').filter({ hasText: 'Retired' }).waitFor();
    await attention.getByRole('row').filter({ hasText: 'Warehouse' }).waitFor();
    expect(await attention.getByRole('row').filter({ hasText: 'Paused one' }).count()).toBe(0);
    expect((await api('GET', `/webhooks/${pausedId}`)).body.is_active).toBe(false);
    await billing.getByRole('link', { name: 'View failed deliveries' }).click();
    await page.waitForURL(/\/webhooks\/wh_\w+\?tab=deliveries&status=failed/);
    await page
      .getByRole('button', { name: /Open delivery dlv_/ })
      .first()
      .waitFor();
  });

  it('explains attempt error codes in plain words with a hint, and formats the disabled time', async () => {
    const refused = (await api('GET', `/webhooks/${refusedId}/deliveries`)).body.data[0];
    expect(refused.last_error).toBe('connection_refused');
    await page.goto(`${base}/deliveries?webhook=${refusedId}`);
    const row = page.getByRole('row').filter({ hasText: refused.id });
    await row.getByText('Nothing accepted the connection at that address.').waitFor();
    await row.getByRole('button', { name: /Open delivery/ }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByText('Check that the receiving server is running').first().waitFor();
    await drawer.getByText('connection_refused').first().waitFor();
    await drawer.getByRole('button', { name: 'Close' }).click();

    const reason = (await api('GET', `/webhooks/${goneId}`)).body.disabled_reason as string;
    const iso = /\d{4}-\d{2}-\d{2}T[\d:.]+Z/.exec(reason)![0];
    const local = await page.evaluate(
      (t) =>
        new Date(t).toLocaleString(undefined, {
          year: 'numeric',
          month: 'short',
          day: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
          timeZoneName: 'short',
        }),
      iso,
    );
    await page.goto(`${base}/webhooks`);
    const retired = page.getByRole('row').filter({ hasText: 'Retired' });
    await retired.getByText(`The endpoint answered 410 Gone (${local}).`).waitFor();
    expect(await retired.textContent()).not.toContain(iso);
  });

  it('shows an open circuit in the list and on the page, and closes it from the banner', async () => {
    const flaky = await startReceiver();
    flaky.setStatus(500);
    try {
      const r = await api('POST', '/webhooks', {
        name: 'Flaky',
        url: flaky.url,
        events: ['order.paid'],
        retry_attempts: 1,
        retry_delay_seconds: 10,
        circuit_failures: 1,
      });
      expect(r.status).toBe(201);
      const id = r.body.id as string;
      expect((await api('POST', '/events', { event_type: 'order.paid', payload: {} })).status).toBe(
        202,
      );
      await until('Flaky’s circuit to open', async () => {
        const w = (await api('GET', `/webhooks/${id}`)).body;
        return w.circuit.state === 'open' ? w : undefined;
      });
      await page.goto(`${base}/webhooks`);
      await page.getByRole('row').filter({ hasText: 'Flaky' }).getByText('Circuit open').waitFor();
      await page.goto(`${base}/webhooks/${id}`);
      const banner = page.getByRole('status').filter({ hasText: 'Circuit open' });
      await banner.getByText(/deliveries wait without using their attempts/).waitFor();
      flaky.setStatus(200);
      await banner.getByRole('button', { name: 'Close circuit' }).click();
      await page.getByText('Circuit closed: the held deliveries go now.').waitFor();
      await banner.waitFor({ state: 'detached' });
      expect((await api('GET', `/webhooks/${id}`)).body.circuit.state).toBe('closed');
    } finally {
      await flaky.close();
    }
  });

  afterAll(() => expect(errors).toEqual([]));
});
