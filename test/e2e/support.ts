import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Config } from '../../src/config.js';
import { testConfig } from '../support/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { uiBuildIsStale, viteBuildArgs } from '../../scripts/ui-build.mjs';
import { createLogger } from '../../src/log.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Builds ui/dist when it is missing or older than ui/ (as scripts/prepare.mjs does before `npm test`). */
export function ensureUiBuilt(): void {
  if (!uiBuildIsStale(root)) return;
  const r = spawnSync(process.execPath, viteBuildArgs(root), {
    cwd: root,
    stdio: 'inherit',
    // vitest sets NODE_ENV=test, which would make vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status})`);
}

export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';

/** The real `hookline serve` (API, UI and worker) on a fresh embedded database, on a free port. */
export async function startHookline(
  overrides: Partial<Config> = {},
): Promise<{ server: RunningServer; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-e2e-'));
  // The migrated template saves the embedded database's first boot.
  cpSync(inject('pgliteTemplateDir'), join(dataDir, 'db'), { recursive: true });
  const config = testConfig({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    adminKey: ADMIN_KEY,
    dev: true,
    logLevel: 'error',
    demo: false,
    ...overrides,
  });
  const server = await startServer(config, createLogger(config));
  return {
    server,
    dataDir,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that records what it gets and answers `status` (200 by default). */
export async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  setStatus: (s: number) => void;
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: true, n: received.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    setStatus: (s) => (status = s),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects every console error and uncaught page error: a test fails if any appears. */
export function watchConsole(page: Page, into: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') into.push(`console.error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => into.push(`uncaught on ${page.url()}: ${e.message}`));
}

/**
 * Screenshots go to docs/screenshots/ when HOOKLINE_UPDATE_SCREENSHOTS=1 (to refresh the README's
 * pictures after a UI change), else to a temporary folder: a normal test run leaves the tree clean.
 */
export function screenshotDir(): string {
  const dir =
    process.env.HOOKLINE_UPDATE_SCREENSHOTS === '1'
      ? join(root, 'docs', 'screenshots')
      : mkdtempSync(join(tmpdir(), 'hookline-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function newPage(
  browser: Browser,
  opts: { width: number; height: number; errors: string[] },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width, height: opts.height },
    deviceScaleFactor: 1,
    permissions: ['clipboard-read', 'clipboard-write'],
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  watchConsole(page, opts.errors);
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** Calls the API of `base` with a key, as a script would: status and parsed body. */
export async function callApi(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Polls `fn` until it returns something truthy (then returns it), failing after `ms`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signs in through the sign-in form and waits for the app. */
export async function signIn(p: Page, base: string, key: string): Promise<void> {
  await p.goto(`${base}/`);
  await p.getByLabel('API key').fill(key);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('main#main').waitFor();
}

/**
 * Removes one console entry a test caused on purpose from `errors`, waiting for it a little: the
 * browser reports the console message apart from the page update the test waited on.
 */
export async function takeConsoleError(errors: string[], pattern: RegExp): Promise<void> {
  const i = await until(
    `a console error matching ${pattern}`,
    () => {
      const at = errors.findIndex((e) => pattern.test(e));
      return at >= 0 ? at + 1 : undefined;
    },
    5000,
  );
  errors.splice(i - 1, 1);
}

/**
 * Full-page screenshots into screenshotDir(): `done()` removes the temporary folder of a normal run.
 * Waits for spinners to go and hides toasts, so pictures show the screen rather than a transition.
 */
export function camera(): { shot: (p: Page, name: string) => Promise<void>; done: () => void } {
  const dir = screenshotDir();
  return {
    async shot(p, name) {
      await p
        .locator('.spinner')
        .first()
        .waitFor({ state: 'detached', timeout: 5000 })
        .catch(() => {});
      await p.evaluate('window.scrollTo(0, 0)');
      // Through the CSSOM: the UI's Content-Security-Policy blocks an injected <style>.
      const toasts = (display: string) =>
        p.evaluate(
          `for (const el of document.querySelectorAll('.toasts')) el.style.setProperty('display', ${JSON.stringify(display)}, ${JSON.stringify(display ? 'important' : '')})`,
        );
      await toasts('none');
      await p.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
      await toasts('');
    },
    done() {
      if (process.env.HOOKLINE_UPDATE_SCREENSHOTS !== '1')
        rmSync(dir, { recursive: true, force: true });
    },
  };
}
