import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { testConfig } from '../support/config.js';
import { createMetrics } from '../../src/metrics.js';
import { createTestApp, type TestApp } from '../support/app.js';

// The portal page is the one page of the UI that another site may frame, and only the sites the
// configuration names; the admin UI is never framed.

let t: TestApp;
let app: FastifyInstance;
let defaults: FastifyInstance;
let dir: string;

beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(join(tmpdir(), 'hookline-portal-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Hookline app</title>');
  writeFileSync(join(dir, 'portal.html'), '<!doctype html><title>Portal page</title>');
  writeFileSync(join(dir, 'assets', 'portal-abc123.js'), 'console.log(1)');
  const deps = {
    db: t.db,
    config: testConfig({
      portalFrameAncestors: "'self' https://app.example.com http://127.0.0.1:3000",
    }),
    metrics: createMetrics(),
    wake: () => {},
  };
  app = await buildApp(deps, { uiDir: dir });
  defaults = await buildApp(
    { ...deps, config: testConfig(), metrics: createMetrics() },
    { uiDir: dir },
  );
});
afterAll(async () => {
  await app?.close();
  await defaults?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The frame-ancestors directive of a Content-Security-Policy header. */
function frameAncestors(header: unknown): string | undefined {
  return String(header)
    .split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith('frame-ancestors'));
}

describe('/portal page', () => {
  it('serves portal.html at /portal and its client routes, framable by the configured origins', async () => {
    for (const url of ['/portal', '/portal/', '/portal/webhooks/wh_1', '/portal?theme=dark']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain('Portal page');
      expect(frameAncestors(res.headers['content-security-policy']), url).toBe(
        "frame-ancestors 'self' https://app.example.com http://127.0.0.1:3000",
      );
      expect(res.headers['content-security-policy'], url).toContain("script-src 'self'");
      expect(res.headers['x-frame-options'], url).toBeUndefined();
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
    }
    const res = await defaults.inject({ method: 'GET', url: '/portal' });
    expect(frameAncestors(res.headers['content-security-policy'])).toBe("frame-ancestors 'self'");
  });

  it('keeps the admin UI out of every frame', async () => {
    for (const url of ['/', '/webhooks', '/portal.html', '/portalx']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(frameAncestors(res.headers['content-security-policy']), url).toBe(
        "frame-ancestors 'none'",
      );
      expect(res.headers['x-frame-options'], url).toBe('DENY');
    }
  });

  it('serves the shared hashed assets from /assets, not under /portal', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/portal-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toMatch(/immutable/);
  });
});
