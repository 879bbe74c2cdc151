import { existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { HooklineError } from '../errors.js';
import { registerPortalPage } from './portal-ui.js';

/** ui/dist of this checkout: src/api/ui.ts (tsx) and dist/api/ui.js (built) are both two levels down. */
export const defaultUiDir = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

// Paths that belong to the server: never answered with the app's index.html.
const serverPrefixes = [
  '/api/',
  '/api',
  '/docs',
  '/openapi.json',
  '/healthz',
  '/readyz',
  '/metrics',
];

function isServerPath(path: string): boolean {
  return serverPrefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}

// No inline <style>: the UI's Content-Security-Policy (plugins/security-headers.ts) would block it.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hookline</title>
</head><body>
<h1>Hookline is running</h1>
<p>The admin UI has not been built in this checkout (<code>ui/dist/</code> is missing).</p>
<p>Build it with <code>npm run build</code> (or start with <code>npm start</code>, which builds it), then reload this page.</p>
<p>The API answers at <code>/api/v1</code>; its reference is at <a href="/docs">/docs</a>.</p>
</body></html>`;

/**
 * Serves the admin UI (ui/dist) at `/`. Client-side routes such as /webhooks/wh_… get index.html
 * so a reload or a shared link works; the API, docs, health and metrics paths never do.
 */
export async function uiRoutes(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const root = opts.dir ?? defaultUiDir;
  const built = existsSync(join(root, 'index.html'));
  // `preCompressed`: a browser that accepts brotli or gzip gets the copy the UI build wrote beside each
  // file (ui/precompress.ts); any other client, or a file without a copy, gets the file itself.
  if (built) await app.register(fastifyStatic, { root, serve: false, preCompressed: true });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = decodeURIComponent(request.url.split('?')[0]);
    if (isServerPath(path))
      throw new HooklineError('NOT_FOUND', `No route for ${request.method} ${path}.`);
    if (!built) return reply.code(200).type('text/html; charset=utf-8').send(notBuiltPage);
    // The same URL answers compressed or not by Accept-Encoding: caches must keep them apart.
    reply.header('vary', 'accept-encoding');
    // A real file (hashed assets, favicon) is sent as it is; anything else is a client route.
    const rel = normalize(path).replace(/^[/\\]+/, '');
    if (rel && extname(rel) && !rel.split(sep).includes('..')) {
      const file = join(root, rel);
      if (file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
        const hashed = rel.startsWith('assets' + sep) || rel.startsWith('assets/');
        return reply.sendFile(rel, { maxAge: hashed ? '365d' : 0, immutable: hashed });
      }
      throw new HooklineError('NOT_FOUND', `No file ${path}.`);
    }
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { maxAge: 0 });
  };
  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
  registerPortalPage(app, { built: built && existsSync(join(root, 'portal.html')) });
}
