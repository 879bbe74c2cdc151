import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  ADMIN_KEY,
  callApi,
  ensureUiBuilt,
  launchBrowser,
  newPage,
  startHookline,
  until,
} from './support.js';

// The management API's rate limit (docs/api.md, "Rate limits": 429 with Retry-After) as the admin UI shows it.
// Two requests a minute per key: the bucket refills one token every 30 s, so after the test drains
// it, every request the UI makes in the next half minute is refused.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let browser: Browser;
let page: Page;
let base: string;
// Chromium logs each 429 answer as a console error: expected here, so only uncaught ones count.
const logged: string[] = [];

/** Takes whatever token the key's bucket holds, so the UI's next requests get 429. */
async function drain(): Promise<void> {
  await until('a 429', async () => (await callApi(base, ADMIN_KEY, 'GET', '/me')).status === 429);
}

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline({ rateLimitPerMinute: 2 });
  base = hookline.server.url;
  browser = await launchBrowser();
  ({ page } = await newPage(browser, { width: 1280, height: 860, errors: logged }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hookline?.stop();
});

describe('the admin UI when the API answers 429', { timeout: 90_000 }, () => {
  it('says a list shown is no longer up to date when refreshing it is rate limited', async () => {
    // A saved session opened straight on /webhooks: GET /me and the list take the bucket's two
    // tokens, so the list shows; its refresh 15 s later is refused.
    await page.goto(`${base}/`);
    await page.evaluate(`sessionStorage.setItem('hookline.apiKey', ${JSON.stringify(ADMIN_KEY)})`);
    await page.goto(`${base}/webhooks`);
    await page.getByText('No webhooks yet').waitFor();
    const note = page.getByRole('status').filter({ hasText: 'Not up to date' });
    await note
      .getByText(
        /Too many requests with this API key\. This API key may make 2 management requests a minute; retry in \d+ s\./,
      )
      .waitFor({ timeout: 30_000 });
    await page.getByText('No webhooks yet').waitFor();
  });

  it('shows a page whose data was refused as rate limited, with the wait', async () => {
    await drain();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Event types' })
      .click();
    const alert = page.getByRole('alert');
    await alert.getByText('Too many requests (429)').waitFor();
    await alert
      .getByText(/^This API key may make 2 management requests a minute; retry in \d+ s\.$/)
      .waitFor();
    await alert.getByRole('button', { name: 'Try again' }).waitFor();
  });

  it('keeps the session when restoring it after a reload is rate limited, instead of calling the key invalid', async () => {
    await drain();
    await page.reload();
    await page.getByRole('heading', { name: 'Could not open your session' }).waitFor();
    await page.getByRole('alert').getByText('Too many requests (429)').waitFor();
    expect(await page.getByText('no longer valid').count()).toBe(0);
    expect(await page.evaluate('sessionStorage.getItem("hookline.apiKey")')).toBe(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate('sessionStorage.getItem("hookline.apiKey")')).toBeNull();
  });

  it('says why signing in failed when the key is rate limited', async () => {
    await drain();
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .locator('#api-key-error')
      .getByText(/^Too many requests with this API key\..*retry in \d+ s\./)
      .waitFor();
    expect(await page.getByText('Check the key').count()).toBe(0);
  });

  it('threw no uncaught exceptions', () => {
    expect(logged.filter((e) => !/status of 429/.test(e))).toEqual([]);
  });
});
