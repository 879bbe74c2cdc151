/**
 * Security headers on every answer (docs/security.md, "Response headers").
 *
 * - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere.
 * - A Content-Security-Policy chosen by path: the admin UI (every path the server does
 *   not own) gets the UI policy (only this origin's scripts, styles, images and API),
 *   the swagger-ui page under /docs a policy it works with (it sets inline styles), and
 *   the API, health and metrics `default-src 'none'`, which a browser applies if such a
 *   response is ever opened as a document.
 * - Framing: `frame-ancestors 'none'` plus `X-Frame-Options: DENY` unless a route
 *   allows embedding.
 *
 * A route that must be embeddable (an iframe portal) sets its own ancestors either in
 * its route config, `{ config: { frameAncestors: ["https://app.example.com"] } }`, or
 * per answer with `reply.frameAncestors([...])`. The sources are CSP source
 * expressions ('self', an origin, a scheme). `X-Frame-Options` is then left out,
 * since it can only say DENY or SAMEORIGIN and browsers that know frame-ancestors
 * ignore it anyway.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Origins allowed to frame this route's answers (CSP frame-ancestors); default none. */
    frameAncestors?: readonly string[];
  }
  interface FastifyReply {
    /** Lets these origins frame this one answer (CSP frame-ancestors); overrides the route config. */
    frameAncestors(sources: readonly string[]): FastifyReply;
  }
}

const FRAME_ANCESTORS = Symbol('hookline.frameAncestors');
type WithAncestors = FastifyReply & { [FRAME_ANCESTORS]?: readonly string[] };

/** The admin UI: Vite builds only external scripts and stylesheets (no inline code). */
const UI_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
];

/** The customer portal: the UI's policy, and the organization's logo from any https site. */
const PORTAL_POLICY = UI_POLICY.map((d) => (d.startsWith('img-src') ? `${d} https:` : d));

/** swagger-ui loads only its own files but sets inline styles while it renders. */
const DOCS_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
];

/** JSON, text and assets: nothing may run or load if one is opened as a document. */
const DATA_POLICY = ["default-src 'none'", "base-uri 'none'", "form-action 'none'"];

// Only characters that can appear in a CSP source expression: no ";" or "," to end the directive early.
const SOURCE = /^[A-Za-z0-9'*:/.\-+_[\]]+$/;

/** The frame-ancestors directive for these sources; 'none' when the list is empty. */
export function frameAncestorsDirective(sources: readonly string[]): string {
  for (const s of sources)
    if (!SOURCE.test(s)) throw new Error(`not a CSP source expression: ${JSON.stringify(s)}`);
  return `frame-ancestors ${sources.length ? sources.join(' ') : "'none'"}`;
}

// By path, not by content type: a file sent as a stream has no content-type yet in onSend.
const DATA_PATHS = ['/api', '/openapi.json', '/healthz', '/readyz', '/metrics'];
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

// Joined once: the header is written on every answer, the publish hot path included.
const UI_HEADER = UI_POLICY.join('; ');
const PORTAL_HEADER = PORTAL_POLICY.join('; ');
const DOCS_HEADER = DOCS_POLICY.join('; ');
const DATA_HEADER = DATA_POLICY.join('; ');
const NO_FRAMING = frameAncestorsDirective([]);

function policyFor(request: FastifyRequest): string {
  const path = request.url.split('?')[0];
  if (under(path, '/docs')) return DOCS_HEADER;
  if (under(path, '/portal')) return PORTAL_HEADER;
  if (DATA_PATHS.some((p) => under(path, p))) return DATA_HEADER;
  return UI_HEADER;
}

/** Adds the headers above to every answer of `app` (register on the root instance). */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.decorateReply('frameAncestors', function (this: FastifyReply, sources: readonly string[]) {
    frameAncestorsDirective(sources); // refuse a bad source now, where the caller can see it
    (this as WithAncestors)[FRAME_ANCESTORS] = [...sources];
    return this;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const ancestors =
      (reply as WithAncestors)[FRAME_ANCESTORS] ??
      request.routeOptions.config?.frameAncestors ??
      [];
    const framing = ancestors.length ? frameAncestorsDirective(ancestors) : NO_FRAMING;
    reply.header('content-security-policy', `${policyFor(request)}; ${framing}`);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (ancestors.length === 0) reply.header('x-frame-options', 'DENY');
    else reply.removeHeader('x-frame-options');
    return payload;
  });
}
