import type { FastifyInstance, FastifyReply } from 'fastify';

// The customer portal (docs/portal.md) is the admin UI's second entry, ui/dist/portal.html, with
// the same hashed assets under /assets. It is the one page that may be framed, and only by the
// sites --portal-frame-ancestors names; every other page of the UI refuses to be framed.

const notBuiltPortal = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portal</title></head>
<body>
<h1>The portal is not built</h1>
<p>This Hookline checkout has no <code>ui/dist/portal.html</code>; build it with <code>npm run build</code>.</p>
</body></html>`;

/**
 * Serves the portal at `/portal` and its client routes (`/portal/webhooks/…`), with
 * a Content-Security-Policy whose `frame-ancestors` comes from the configuration. No X-Frame-Options: its only
 * values (DENY, SAMEORIGIN) cannot name another origin, and browsers that know frame-ancestors
 * ignore it anyway. The token travels in the URL fragment, which never reaches this route.
 */
export function registerPortalPage(app: FastifyInstance, opts: { built: boolean }): void {
  const handler = async (_request: unknown, reply: FastifyReply) => {
    // The rest of the policy (and no X-Frame-Options) comes from plugins/security-headers.ts.
    reply.frameAncestors(app.deps.config.portalFrameAncestors.split(/\s+/).filter(Boolean));
    reply.header('cache-control', 'no-cache');
    // The page is framed by another site: it must not tell that site where the user came from.
    reply.header('referrer-policy', 'no-referrer');
    if (!opts.built) return reply.code(200).type('text/html; charset=utf-8').send(notBuiltPortal);
    return reply.sendFile('portal.html', { cacheControl: false });
  };
  app.get('/portal', { schema: { hide: true } }, handler);
  app.get('/portal/*', { schema: { hide: true } }, handler);
}
