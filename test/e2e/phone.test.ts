import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  ADMIN_KEY,
  camera,
  ensureUiBuilt,
  launchBrowser,
  newPage,
  signIn,
  startHookline,
  startReceiver,
} from './support.js';
import { adminScreens, portalScreens, seed, visit, type Seeded } from './screens.js';

// A phone (390×844): no screen is wider than the phone, tables turn into stacked rows (each cell
// after its column's name) and keep every column, the audit log's target, key and changes too.

let hookline: Awaited<ReturnType<typeof startHookline>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
let base: string;
let seeded: Seeded;
let photos: ReturnType<typeof camera>;
const errors: string[] = [];
const WIDTH = 390;

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

const phone = async (): Promise<Page> =>
  (await newPage(browser, { width: WIDTH, height: 844, errors })).page;

/**
 * How far the page, or a table inside its scrolling wrapper, scrolls sideways: 0 when no column
 * is cut off at the screen's edge.
 */
const overflow = (p: Page) =>
  p.evaluate<number>(`Math.max(
    document.documentElement.scrollWidth - document.documentElement.clientWidth,
    ...[...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth - w.clientWidth),
  )`);

describe('at phone width (390×844)', { timeout: 120_000 }, () => {
  it('no admin or portal screen scrolls sideways', async () => {
    const p = await phone();
    const wide: Record<string, number> = {};
    await signIn(p, base, ADMIN_KEY);
    for (const screen of adminScreens(seeded)) {
      await visit(p, base, screen);
      if ((await overflow(p)) > 0) wide[screen.name] = await overflow(p);
    }
    await p.goto(seeded.portalUrl);
    await p.getByText('Acme receiver').first().waitFor();
    for (const screen of portalScreens(seeded)) {
      await visit(p, base, screen);
      if ((await overflow(p)) > 0) wide[screen.name] = await overflow(p);
    }
    expect(wide).toEqual({});
    await p.context().close();
  });

  it("shows the audit log's target, key and changes, each after its column's name", async () => {
    const p = await phone();
    await signIn(p, base, ADMIN_KEY);
    await visit(p, base, {
      name: 'audit-log',
      path: '/audit-log',
      ready: (q) => q.getByText('api_key.created').first().waitFor(),
    });
    const row = p.getByRole('row').filter({ hasText: 'api_key.created' }).first();
    for (const column of ['Target', 'Key', 'Changes']) {
      const cell = row.locator(`td[data-label="${column}"]`);
      expect(await cell.isVisible(), column).toBe(true);
      const box = (await cell.boundingBox())!;
      expect(box.x + box.width, column).toBeLessThanOrEqual(WIDTH);
      expect((await cell.innerText()).trim().length, column).toBeGreaterThan(0);
    }
    // The column's name is drawn before the value (the stacked row's label).
    const label = await row
      .locator('td[data-label="Target"]')
      .evaluate((td) => (globalThis as any).getComputedStyle(td, '::before').content as string);
    expect(label).toBe('"Target"');
    await photos.shot(p, 'phone-audit-log');
    await p.context().close();
  });

  it("keeps the audit log's target, key and changes at tablet width (768 px) too", async () => {
    const { page: p } = await newPage(browser, { width: 768, height: 1024, errors });
    await signIn(p, base, ADMIN_KEY);
    await visit(p, base, {
      name: 'audit-log',
      path: '/audit-log',
      ready: (q) => q.getByText('api_key.created').first().waitFor(),
    });
    const row = p.getByRole('row').filter({ hasText: 'api_key.created' }).first();
    for (const column of ['Target', 'Key', 'Changes']) {
      const cell = row.locator(`td[data-label="${column}"]`);
      expect(await cell.isVisible(), column).toBe(true);
      expect((await cell.innerText()).trim().length, column).toBeGreaterThan(0);
    }
    expect(await overflow(p)).toBe(0);
    await p.context().close();
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
