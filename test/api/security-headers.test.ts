import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { testConfig } from '../support/config.js';
import { createMetrics } from '../../src/metrics.js';
import { frameAncestorsDirective } from '../../src/api/plugins/security-headers.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let app: FastifyInstance;
let notBuilt: FastifyInstance;
let dir: string;

function directives(csp: unknown): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of String(csp).split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name, values.join(' '));
  }
  return map;
}

beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(join(tmpdir(), 'hookline-csp-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Hookline app</title>');
  const deps = { db: t.db, config: testConfig(), metrics: createMetrics(), wake: () => {} };
  app = await buildApp(deps, { uiDir: dir });
  // What an embeddable route (a portal) does: ancestors from its route config, or per answer.
  app.get('/embeddable', { config: { frameAncestors: ['https://app.example.com'] } }, () => ({}));
  app.get('/embeddable-reply', (_req, reply) => reply.frameAncestors(["'self'"]).send('<p>x</p>'));
  notBuilt = await buildApp({ ...deps, metrics: createMetrics() }, { uiDir: join(dir, 'no') });
});
afterAll(async () => {
  await app?.close();
  await notBuilt?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('security headers', () => {
  it('gives the admin UI a CSP that allows only this origin and forbids framing', async () => {
    for (const url of ['/', '/webhooks/wh_1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      const csp = directives(res.headers['content-security-policy']);
      expect(csp.get('default-src'), url).toBe("'self'");
      expect(csp.get('script-src'), url).toBe("'self'");
      expect(csp.get('style-src'), url).toBe("'self'");
      expect(csp.get('img-src'), url).toBe("'self' data:");
      expect(csp.get('connect-src'), url).toBe("'self'");
      expect(csp.get('frame-ancestors'), url).toBe("'none'");
      expect(csp.get('base-uri'), url).toBe("'none'");
      expect(csp.get('form-action'), url).toBe("'self'");
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('the page shown when the UI is not built has no inline style the CSP would block', async () => {
    const res = await notBuilt.inject({ method: 'GET', url: '/' });
    expect(res.headers['content-security-policy']).toMatch(/style-src 'self'/);
    expect(res.body).not.toMatch(/<style|style=/);
  });

  it('sends nosniff, no-referrer and a deny-all CSP on API answers, errors included', async () => {
    const answers = [
      await app.inject({ method: 'GET', url: '/healthz' }),
      await app.inject({ method: 'GET', url: '/openapi.json' }),
      await app.inject({ method: 'GET', url: '/api/v1/webhooks' }), // 401
      await app.inject({
        method: 'GET',
        url: '/api/v1/webhooks',
        headers: { authorization: `Bearer ${t.org.keys.admin}` },
      }),
      await app.inject({ method: 'GET', url: '/api/v1/nope' }), // 404
    ];
    for (const res of answers) {
      const csp = directives(res.headers['content-security-policy']);
      expect(csp.get('default-src'), res.body).toBe("'none'");
      expect(csp.get('frame-ancestors'), res.body).toBe("'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('gives /docs a policy swagger-ui works with (own scripts only, inline styles)', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    const csp = directives(page.headers['content-security-policy']);
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('style-src')).toBe("'self' 'unsafe-inline'");
    expect(csp.get('connect-src')).toBe("'self'");
    expect(csp.get('frame-ancestors')).toBe("'none'");
    // Its page loads only scripts of its own, so script-src 'self' is enough.
    expect(page.body).not.toMatch(/<script>(?!\s*<)/);
    expect(page.body).toMatch(/<script src=/);
  });

  it('lets a route allow framing by given origins, from its config or per answer', async () => {
    const fromConfig = await app.inject({ method: 'GET', url: '/embeddable' });
    expect(directives(fromConfig.headers['content-security-policy']).get('frame-ancestors')).toBe(
      'https://app.example.com',
    );
    expect(fromConfig.headers['x-frame-options']).toBeUndefined();
    const perReply = await app.inject({ method: 'GET', url: '/embeddable-reply' });
    expect(directives(perReply.headers['content-security-policy']).get('frame-ancestors')).toBe(
      "'self'",
    );
    expect(perReply.headers['x-frame-options']).toBeUndefined();
  });

  it('refuses a frame-ancestors source that would end the directive', () => {
    expect(() => frameAncestorsDirective(['https://a.example; script-src *'])).toThrow();
    expect(() => frameAncestorsDirective(['https://a.example,x'])).toThrow();
    expect(frameAncestorsDirective([])).toBe("frame-ancestors 'none'");
  });
});
