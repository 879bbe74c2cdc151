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
} from './support.js';
import { seriousViolations, type Violation } from './axe.js';
import { adminScreens, portalScreens, seed, visit, type Seeded } from './screens.js';

// Every screen of the admin UI and of the portal, in the light and in the dark theme, judged by
// axe-core: no violation of impact serious or critical (contrast, names, ARIA). The dark pass also
// takes the dark screenshots of docs/screenshots/ (HOOKLINE_UPDATE_SCREENSHOTS=1).

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let base: string;
let seeded: Seeded;
let photos: ReturnType<typeof camera>;
const errors: string[] = [];

// The dark screens pictured in docs/screenshots/ (as dark-<name>.png).
const darkShots = new Set(['dashboard', 'webhook-overview', 'delivery-drawer', 'audit-log']);

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  receiver = await startReceiver();
  seeded = await seed(base, receiver.url);
  browser = await launchBrowser();
  photos = camera();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await hookline?.stop();
  photos?.done();
});

/** A desktop page in the system theme `theme` (what ui/public/theme.js follows with no choice). */
async function themedPage(theme: 'light' | 'dark'): Promise<Page> {
  const { page } = await newPage(browser, { width: 1280, height: 860, errors });
  await page.emulateMedia({ colorScheme: theme });
  return page;
}

/** Checks the page as it is; its violations go into `into` under `name`. */
async function check(page: Page, name: string, into: Record<string, Violation[]>): Promise<void> {
  const v = await seriousViolations(page);
  if (v.length) into[name] = v;
}

describe('accessibility (axe-core) in Chromium', { timeout: 240_000 }, () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`finds no serious or critical violation on any admin screen, ${theme}`, async () => {
      const page = await themedPage(theme);
      const found: Record<string, Violation[]> = {};
      await page.goto(`${base}/`);
      await page.getByLabel('API key').waitFor();
      await check(page, 'sign-in', found);
      if (theme === 'dark') await photos.shot(page, 'dark-sign-in');
      await signIn(page, base, ADMIN_KEY);
      for (const screen of adminScreens(seeded)) {
        await visit(page, base, screen);
        await check(page, screen.name, found);
        if (theme === 'dark' && darkShots.has(screen.name))
          await photos.shot(page, `dark-${screen.name}`);
      }
      // Dialogs opened from a button rather than a URL: page, button, a field of the dialog.
      const dialogs: [string, string, string, string][] = [
        ['portal-settings', '/tenants', 'Portal settings', 'Title'],
        ['new-key', '/api-keys', '+ New key', 'Name'],
        ['new-event-type', '/event-types', '+ New event type', 'Name'],
        [
          'rotate-secret',
          `/webhooks/${seeded.healthyId}?tab=settings`,
          'Rotate…',
          'Keep the old secret valid for',
        ],
      ];
      for (const [name, path, button, field] of dialogs) {
        await page.goto(`${base}${path}`);
        await page.getByRole('button', { name: button }).click();
        await page.getByRole('dialog').getByLabel(field, { exact: true }).waitFor();
        await page.locator('.spinner, .loading').first().waitFor({ state: 'detached' });
        await check(page, name, found);
      }
      expect(found).toEqual({});
      await page.context().close();
    });

    it(`finds no serious or critical violation on any portal screen, ${theme}`, async () => {
      const page = await themedPage(theme);
      const found: Record<string, Violation[]> = {};
      await page.goto(seeded.portalUrl);
      await page.getByText('Acme receiver').waitFor();
      for (const screen of portalScreens(seeded)) {
        await visit(page, base, screen);
        await check(page, screen.name, found);
        if (theme === 'dark' && screen.name === 'portal-webhooks')
          await photos.shot(page, 'dark-portal');
      }
      expect(found).toEqual({});
      await page.context().close();
    });
  }

  it("keeps an organization's dark or pale accent readable as text in the portal", async () => {
    // A navy brand is unreadable on the dark theme's navy as it is, a pale one on the light page.
    const accents: Array<['light' | 'dark', string]> = [
      ['dark', '#1a237e'],
      ['light', '#f5c542'],
    ];
    const found: Record<string, Violation[]> = {};
    try {
      for (const [theme, accent_color] of accents) {
        const set = await callApi(base, ADMIN_KEY, 'PATCH', '/portal-settings', { accent_color });
        expect(set.status, JSON.stringify(set.body)).toBe(200);
        const page = await themedPage(theme);
        await page.goto(seeded.portalUrl);
        await page.getByText('Acme receiver').waitFor();
        for (const screen of portalScreens(seeded).slice(0, 3)) {
          await visit(page, base, screen);
          await check(page, `${theme} ${accent_color} ${screen.name}`, found);
        }
        await page.context().close();
      }
    } finally {
      await callApi(base, ADMIN_KEY, 'PATCH', '/portal-settings', { accent_color: null });
    }
    expect(found).toEqual({});
  });

  it('returns focus to the opener when a dialog closes with Escape or its close button', async () => {
    const page = await themedPage('light');
    await signIn(page, base, ADMIN_KEY);
    const focused = () =>
      page.evaluate<string | null>(
        "document.activeElement && (document.activeElement.getAttribute('aria-label') || document.activeElement.textContent)",
      );
    /** Opens the dialog with `opener` (by keyboard, as its users do), closes it with `close`. */
    const roundTrip = async (path: string, opener: string | RegExp, close: 'Escape' | 'Close') => {
      await page.goto(`${base}${path}`);
      const button = page.getByRole('button', { name: opener }).first();
      await button.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      if (close === 'Escape') await page.keyboard.press('Escape');
      else await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const name = (await button.getAttribute('aria-label')) ?? (await button.textContent());
      await expect.poll(focused, { timeout: 5000 }).toBe(name);
    };
    await roundTrip('/event-types', '+ New event type', 'Escape');
    await roundTrip('/deliveries', /Open delivery/, 'Escape');
    await roundTrip('/events', /Open event/, 'Close');
    await roundTrip('/api-keys', 'Revoke support desk', 'Escape');
    await roundTrip('/tenants', 'Portal settings', 'Close');
    await page.context().close();
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
