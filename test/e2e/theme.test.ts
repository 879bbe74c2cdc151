import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureUiBuilt, launchBrowser, newPage, startHookline } from './support.js';

// Dark mode is decided once, before the first paint, by ui/public/theme.js: the app's own
// scripts are blocked here, and the page still carries the right data-theme. The stylesheets
// then hold one dark palette, under [data-theme='dark'] only.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let browser: Browser;
let base: string;
// Blocking the app's scripts makes the browser log each refused load: not checked here.
const blockedLoads: string[] = [];

beforeAll(async () => {
  ensureUiBuilt();
  hookline = await startHookline();
  base = hookline.server.url;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await hookline?.stop();
});

/** A page whose bundled scripts (/assets/*.js) never load: only theme.js can set the theme. */
async function withoutApp(scheme: 'light' | 'dark', init?: string): Promise<Page> {
  const { page } = await newPage(browser, { width: 1280, height: 860, errors: blockedLoads });
  await page.emulateMedia({ colorScheme: scheme });
  await page.route('**/assets/*.js', (r) => r.abort());
  if (init) await page.addInitScript(init);
  return page;
}

const theme = (p: Page) => p.evaluate<string | undefined>('document.documentElement.dataset.theme');
const background = (p: Page) =>
  p.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');

describe('theme before the first paint', { timeout: 60_000 }, () => {
  it('follows the system in the admin UI when nothing is chosen, the stored choice first', async () => {
    const dark = await withoutApp('dark');
    await dark.goto(`${base}/`);
    expect(await theme(dark)).toBe('dark');
    const light = await withoutApp('light');
    await light.goto(`${base}/webhooks`);
    expect(await theme(light)).toBe('light');
    expect(await background(light)).not.toBe(await background(dark));
    // The sidebar's switch, kept in localStorage, wins over the system.
    const chosen = await withoutApp('dark', "localStorage.setItem('hookline.theme', 'light')");
    await chosen.goto(`${base}/`);
    expect(await theme(chosen)).toBe('light');
    expect(await background(chosen)).toBe(await background(light));
    // The system changing while the page is open is followed.
    await dark.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => theme(dark)).toBe('light');
    for (const p of [dark, light, chosen]) await p.context().close();
  });

  it("takes the portal's ?theme= over the system, and keeps it for the tab", async () => {
    const p = await withoutApp('light');
    await p.goto(`${base}/portal?theme=dark`);
    expect(await theme(p)).toBe('dark');
    await p.goto(`${base}/portal/webhooks`);
    expect(await theme(p)).toBe('dark');
    await p.goto(`${base}/portal?theme=light`);
    expect(await theme(p)).toBe('light');
    await p.context().close();
    const system = await withoutApp('dark');
    await system.goto(`${base}/portal`);
    expect(await theme(system)).toBe('dark');
    await system.context().close();
  });

  it('has one dark palette: no prefers-color-scheme rule, one [data-theme=dark] rule', async () => {
    const { page } = await newPage(browser, { width: 1280, height: 860, errors: blockedLoads });
    for (const path of ['/', '/portal']) {
      await page.goto(`${base}${path}`);
      await page.locator('#root > *').first().waitFor();
      const rules = await page.evaluate<{ media: number; dark: number }>(`(() => {
        const all = [...document.styleSheets].flatMap((s) => [...s.cssRules]);
        const flat = all.flatMap((r) => (r.cssRules ? [r, ...r.cssRules] : [r]));
        return {
          media: flat.filter((r) => r.conditionText && r.conditionText.includes('prefers-color-scheme')).length,
          dark: flat.filter((r) => r.selectorText && /data-theme=.?dark/.test(r.selectorText) && r.style.getPropertyValue('--bg')).length,
        };
      })()`);
      expect(rules, path).toEqual({ media: 0, dark: 1 });
    }
    await page.context().close();
  });
});
