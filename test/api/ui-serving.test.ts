import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { testConfig } from '../support/config.js';
import { createMetrics } from '../../src/metrics.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { precompressDir } from '../../ui/precompress.js';

let t: TestApp;
let withUi: FastifyInstance;
let withoutUi: FastifyInstance;
let dir: string;
// Big enough to be worth compressing, like the real bundle; too small files get no copy.
const bigScript = Array.from({ length: 2000 }, (_, i) => `export const v${i} = ${i};`).join('\n');

beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(join(tmpdir(), 'hookline-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Hookline app</title>');
  writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'big-def456.js'), bigScript);
  precompressDir(dir);
  const deps = { db: t.db, config: testConfig(), metrics: createMetrics(), wake: () => {} };
  withUi = await buildApp(deps, { uiDir: dir });
  withoutUi = await buildApp(
    { ...deps, metrics: createMetrics() },
    { uiDir: join(dir, 'missing') },
  );
});
afterAll(async () => {
  await withUi?.close();
  await withoutUi?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin UI serving', () => {
  it('serves index.html at / and for client routes, so reloads and shared links work', async () => {
    for (const url of ['/', '/webhooks', '/webhooks/wh_123/edit', '/deliveries?status=failed']) {
      const res = await withUi.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/text\/html/);
      expect(res.body, url).toContain('Hookline app');
    }
  });

  it('serves hashed assets with a long cache lifetime, and 404s a missing file', async () => {
    const res = await withUi.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('console.log(1)');
    expect(res.headers['cache-control']).toMatch(/immutable/);
    const missing = await withUi.inject({ method: 'GET', url: '/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
    const traversal = await withUi.inject({ method: 'GET', url: '/assets/..%2f..%2fpackage.json' });
    expect(traversal.statusCode).toBe(404);
  });

  it('sends the pre-compressed copy a browser accepts, and the file itself to anyone else', async () => {
    const url = '/assets/big-def456.js';
    const br = await withUi.inject({
      method: 'GET',
      url,
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.rawPayload.length).toBeLessThan(bigScript.length / 3);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(bigScript);

    const gz = await withUi.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(bigScript);

    const plain = await withUi.inject({ method: 'GET', url, headers: { 'accept-encoding': '' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(bigScript);

    // A file too small to have a copy is sent as it is, whatever the browser accepts.
    const small = await withUi.inject({
      method: 'GET',
      url: '/assets/app-abc123.js',
      headers: { 'accept-encoding': 'br' },
    });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body).toBe('console.log(1)');
  });

  it('never answers server paths with the app', async () => {
    for (const url of [
      '/api/v1/no-such-thing',
      '/api',
      '/docs/nope.js',
      '/healthz/x',
      '/metrics/x',
    ]) {
      const res = await withUi.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('NOT_FOUND');
    }
    expect((await withUi.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    expect((await withUi.inject({ method: 'GET', url: '/openapi.json' })).json().openapi).toBe(
      '3.1.0',
    );
  });

  it('explains how to build the UI when ui/dist is missing', async () => {
    const res = await withoutUi.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('npm run build');
  });
});

describe('GET /me', () => {
  it('tells every role its organization and role', async () => {
    for (const role of ['admin', 'viewer', 'publisher'] as const) {
      const res = await t.org[role]('GET', '/me');
      expect(res.status, role).toBe(200);
      expect(res.body).toMatchObject({ org_id: t.org.orgId, org_name: 'default', role });
      expect(res.body.key_id).toMatch(/^key_/);
    }
    expect((await t.as(undefined)('GET', '/me')).status).toBe(401);
  });
});
