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

// The routing part of the webhook form (docs/routing.md), in the admin UI and in the portal:
// the filter editor says which recent events match (a portal session only ever sees its own
// tenant's), a bad filter shows the API's 422 inline, Simulate shows a result and a thrown
// error, and a webhook saved with all three fields reads back the same. The Testing tab shows
// what a transformation did to a test send.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let page: Page;
let base: string;
const errors: string[] = [];
/** Event ids by who published them: the organization itself, or a tenant. */
const published: Record<'org' | 'acme' | 'globex', Array<{ id: string; amount: number }>> = {
  org: [],
  acme: [],
  globex: [],
};

const api = (method: string, path: string, body?: unknown) =>
  callApi(base, ADMIN_KEY, method, path, body);

const FILTER = '{"data.amount": {"$gte": 1000}}';
const CODE = 'function handler(w) { w.payload.data = { total: w.payload.data.amount }; return w }';

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  receiver = await startReceiver();
  expect((await api('POST', '/event-types', { name: 'invoice.paid' })).status).toBe(201);
  for (const [who, amount] of [
    ['org', 50],
    ['org', 1500],
    ['acme', 20],
    ['acme', 5000],
    ['globex', 7000],
  ] as const) {
    const res = await api('POST', '/events', {
      event_type: 'invoice.paid',
      payload: { amount, who },
      ...(who === 'org' ? {} : { tenant_id: who }),
    });
    expect(res.status).toBe(202);
    published[who].push({ id: res.body.id, amount });
  }
  browser = await launchBrowser();
  ({ page } = await newPage(browser, { width: 1280, height: 900, errors }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await hookline?.stop();
});

/** Fills the form's name, URL and type, and opens Advanced settings (where routing lives). */
async function startForm(p: Page, name: string) {
  await p.getByRole('heading', { name: 'New webhook' }).waitFor();
  await p.getByLabel('Name', { exact: true }).fill(name);
  await p.getByLabel('Endpoint URL').fill(receiver.url);
  await p.getByRole('checkbox', { name: 'invoice.paid' }).check();
  await p.locator('summary', { hasText: 'Advanced settings' }).click();
}

/** Tries `filter` on recent events; the ids listed as matching and as not. */
async function tryFilter(p: Page, filter: string) {
  await p.getByLabel('Filter (optional)').fill(filter);
  await p.getByRole('button', { name: 'Try on recent events' }).click();
  const list = p.getByTestId('filter-test');
  await list.waitFor();
  const rows = await list.locator('li').allTextContents();
  return {
    summary: await list.locator('p').textContent(),
    matching: rows.filter((r) => r.startsWith('✓')).map((r) => r.split(' ').pop()),
    others: rows.filter((r) => r.startsWith('✗')).map((r) => r.split(' ').pop()),
  };
}

/** Runs Simulate on `code` with `sample`, and returns what it shows once it shows `expected`. */
async function simulate(p: Page, code: string, sample: string, expected: RegExp) {
  await p.getByLabel('Transformation (optional)').fill(code);
  await p.getByLabel('Sample payload for Simulate').fill(sample);
  await p.getByRole('button', { name: 'Simulate' }).click();
  const out = p.getByTestId('simulate-result');
  await out.filter({ hasText: expected }).waitFor();
  return out.textContent();
}

/** The webhook's id once the form has saved it and shown its page. */
const savedId = (p: Page) =>
  until('the new webhook’s page', () => /\/webhooks\/(wh_\w+)$/.exec(p.url())?.[1]);

describe('routing editor', { timeout: 120_000 }, () => {
  it('in the admin UI: tries a filter, shows a bad one’s 422, simulates, and saves all three', async () => {
    await signIn(page, base, ADMIN_KEY);
    await page.goto(`${base}/webhooks/new`);
    await startForm(page, 'Big invoices');

    const tried = await tryFilter(page, FILTER);
    const big = [...published.org, ...published.acme, ...published.globex].filter(
      (e) => e.amount >= 1000,
    );
    expect(tried.summary).toBe('3 of the last 5 events of these types match.');
    expect(tried.matching.sort()).toEqual(big.map((e) => e.id).sort());

    await page.getByLabel('Filter (optional)').fill('{"data.amount": {"$gtx": 1}}');
    await page.getByRole('button', { name: 'Try on recent events' }).click();
    const bad = page.getByTestId('filter-test-error');
    await bad.waitFor();
    expect(await bad.textContent()).toMatch(/filter\.data\.amount\.\$gtx.*unknown operator \$gtx/);
    await takeConsoleError(errors, /422/);

    const ok = await simulate(page, CODE, '{"amount": 42}', /"total": 42/);
    expect(JSON.parse(ok!)).toMatchObject({
      cancel: false,
      payload: { type: 'invoice.paid', data: { total: 42 } },
    });
    const thrown = await simulate(
      page,
      'function handler() { throw new Error("no total here") }',
      '{}',
      /no total here/,
    );
    expect(thrown).toMatch(/Error: no total here/);
    await takeConsoleError(errors, /422/);

    await page.getByLabel('Filter (optional)').fill(FILTER);
    await page.getByLabel('Send only these fields (optional)').fill('amount\ncustomer.id');
    await page.getByLabel('Transformation (optional)').fill(CODE);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const id = await savedId(page);
    const saved = await api('GET', `/webhooks/${id}`);
    expect(saved.body).toMatchObject({
      filter: { 'data.amount': { $gte: 1000 } },
      include_fields: ['amount', 'customer.id'],
      transformation: { code: CODE, enabled: true },
    });

    // The edit form shows what was saved, and saving it unchanged keeps it.
    await page.goto(`${base}/webhooks/${id}/edit`);
    await page.getByRole('heading', { name: /Edit Big invoices/ }).waitFor();
    await page.locator('summary', { hasText: 'Advanced settings' }).click();
    expect(JSON.parse(await page.getByLabel('Filter (optional)').inputValue())).toEqual(
      saved.body.filter,
    );
    expect(await page.getByLabel('Send only these fields (optional)').inputValue()).toBe(
      'amount\ncustomer.id',
    );
    expect(await page.getByLabel('Transformation (optional)').inputValue()).toBe(CODE);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(new RegExp(`/webhooks/${id}$`));
    const again = await api('GET', `/webhooks/${id}`);
    expect(again.body).toMatchObject({
      filter: saved.body.filter,
      include_fields: saved.body.include_fields,
      transformation: saved.body.transformation,
    });
    expect(errors).toEqual([]);
  });

  it('in the portal: the filter sees the tenant’s own events only; simulate and save work', async () => {
    const session = await api('POST', '/tenants/acme/portal-sessions', {});
    expect(session.status).toBe(201);
    const { page: p } = await newPage(browser, { width: 1280, height: 900, errors });
    await p.goto(`${base}/portal#token=${session.body.token}`);
    await p.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await p.goto(`${base}/portal/webhooks/new`);
    await startForm(p, 'Acme invoices');

    const tried = await tryFilter(p, FILTER);
    expect(tried.summary).toBe('1 of the last 2 events of these types match.');
    expect(tried.matching).toEqual(published.acme.filter((e) => e.amount >= 1000).map((e) => e.id));
    expect(tried.others).toEqual(published.acme.filter((e) => e.amount < 1000).map((e) => e.id));
    const theirs = [...published.org, ...published.globex].map((e) => e.id);
    const text = (await p.getByTestId('filter-test').textContent()) ?? '';
    for (const id of theirs) expect(text).not.toContain(id);

    await simulate(p, CODE, '{"amount": 7}', /"total": 7/);

    await p.getByLabel('Send only these fields (optional)').fill('amount');
    await p.getByLabel('Transformation (optional)').fill(CODE);
    await p.getByRole('button', { name: 'Create webhook' }).click();
    const id = await savedId(p);
    expect((await api('GET', `/webhooks/${id}`)).body).toMatchObject({
      tenant_id: 'acme',
      filter: { 'data.amount': { $gte: 1000 } },
      include_fields: ['amount'],
      transformation: { code: CODE, enabled: true },
    });
    await p.close();
    expect(errors).toEqual([]);
  });

  it('the Testing tab shows a test send’s transformation error and a cancel’s reason', async () => {
    const make = async (name: string, code: string) => {
      const res = await api('POST', '/webhooks', {
        name,
        url: receiver.url,
        events: ['invoice.paid'],
        transformation: { code, enabled: true },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const failing = await make(
      'Broken script',
      'function handler() { throw new Error("bad map") }',
    );
    const cancelling = await make(
      'Cancelling script',
      'function handler() { return { cancel: true, reason: "tests stay home" } }',
    );
    const before = receiver.received.length;
    for (const [id, head, detail] of [
      [failing, 'Failed', /the transformation threw Error: bad map/],
      [cancelling, 'Skipped', /cancelled by the transformation: tests stay home/],
    ] as const) {
      await page.goto(`${base}/webhooks/${id}?tab=testing`);
      await page.getByRole('button', { name: 'Send test' }).click();
      const result = page.getByTestId('test-result');
      await result.waitFor();
      expect(await result.locator('strong').first().textContent()).toBe(head);
      expect(await page.getByTestId('test-error-detail').textContent()).toMatch(detail);
    }
    expect(receiver.received.length).toBe(before);
    expect(errors).toEqual([]);
  });
});
