/**
 * Hookline's customer portal inside your own application (Express 5).
 *
 *   HOOKLINE_URL=http://127.0.0.1:8080 HOOKLINE_API_KEY=hk_… PORT=3000 \
 *     node --import tsx examples/portal-embed/server.ts
 *
 * For the customer signed in to your app, the server makes the three calls of docs/portal.md
 * (upsert the tenant, mint a portal session) and renders a page that frames the portal. The
 * admin key stays on this server; the browser only ever sees a short-lived hlp_ token. Start
 * Hookline with `--portal-frame-ancestors http://127.0.0.1:3000` so it lets this page frame it.
 */
import express, { type Express, type Request } from 'express';
import { fileURLToPath } from 'node:url';

/** A customer of your application, as your own sign-in knows it. */
export interface Customer {
  id: string;
  name: string;
}

export interface PortalEmbedOptions {
  /** Where Hookline answers, e.g. http://127.0.0.1:8080. */
  hooklineUrl: string;
  /** An admin key of your Hookline organization: server-side only. */
  apiKey: string;
  /** Who is signed in. This example's stand-in is a cookie set by /sign-in; use your own. */
  customers: Record<string, Customer>;
  /** How long a portal link works, in seconds (60 to 86400). */
  expiresIn?: number;
}

async function hookline(
  opts: PortalEmbedOptions,
  method: string,
  path: string,
  body: unknown,
): Promise<any> {
  const res = await fetch(`${opts.hooklineUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json: any = await res.json().catch(() => null);
  if (!res.ok)
    throw new Error(`Hookline ${method} ${path}: ${res.status} ${json?.error?.message ?? ''}`);
  return json;
}

/**
 * A portal URL for this customer: the tenant is created on first use (PUT is an upsert, with
 * your own id), then a session is minted. `theme` makes the portal follow this page.
 */
export async function portalUrlFor(
  opts: PortalEmbedOptions,
  customer: Customer,
  theme: 'light' | 'dark',
): Promise<string> {
  const tenant = encodeURIComponent(customer.id);
  await hookline(opts, 'PUT', `/tenants/${tenant}`, { name: customer.name });
  const session = await hookline(opts, 'POST', `/tenants/${tenant}/portal-sessions`, {
    expires_in: opts.expiresIn ?? 3600,
  });
  // The token is in the URL's fragment (never sent to a server); the query goes before it.
  const url = new URL(session.url);
  url.searchParams.set('theme', theme);
  return url.toString();
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signedIn(req: Request, opts: PortalEmbedOptions): Customer | undefined {
  const m = /(?:^|;\s*)customer=([^;]+)/.exec(req.headers.cookie ?? '');
  return m ? opts.customers[decodeURIComponent(m[1])] : undefined;
}

const page = (title: string, body: string, theme: string) => `<!doctype html>
<html lang="en" data-theme="${theme}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${escape(title)}</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #fff; color: #1a1f36; }
  [data-theme='dark'] body { background: #0f1320; color: #e6e9f2; }
  header { padding: 14px 24px; border-bottom: 1px solid #8884; display: flex; gap: 16px; }
  main { padding: 16px 24px; }
  iframe { width: 100%; height: 80vh; border: 1px solid #8884; border-radius: 8px; }
</style></head><body>${body}</body></html>`;

/** The example application: a sign-in stand-in and a "Webhooks" settings page framing the portal. */
export function createPortalEmbedApp(opts: PortalEmbedOptions): Express {
  const app = express();
  app.get('/sign-in', (req, res) => {
    const id = String(req.query.as ?? '');
    if (!opts.customers[id]) {
      res.status(404).send('No such customer');
      return;
    }
    res.cookie('customer', id, { httpOnly: true, sameSite: 'lax' });
    res.redirect('/settings/webhooks');
  });
  app.get('/settings/webhooks', async (req, res, next) => {
    const customer = signedIn(req, opts);
    if (!customer) {
      res.redirect('/sign-in');
      return;
    }
    const theme = req.query.theme === 'dark' ? 'dark' : 'light';
    try {
      const src = await portalUrlFor(opts, customer, theme);
      // The page holds a live token: never cache it, never leak where it came from.
      res.set('cache-control', 'no-store');
      res.set('referrer-policy', 'no-referrer');
      res.send(
        page(
          'Webhooks',
          `<header><strong>Example App</strong><span>Signed in as ${escape(customer.name)}</span></header>
<main><h1>Webhooks</h1>
<iframe title="Webhooks" src="${escape(src)}" referrerpolicy="no-referrer"></iframe></main>`,
          theme,
        ),
      );
    } catch (err) {
      next(err);
    }
  });
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const apiKey = process.env.HOOKLINE_API_KEY;
  if (!apiKey) throw new Error('set HOOKLINE_API_KEY to an admin key of your organization');
  const port = Number(process.env.PORT ?? 3000);
  createPortalEmbedApp({
    hooklineUrl: process.env.HOOKLINE_URL ?? 'http://127.0.0.1:8080',
    apiKey,
    customers: { acme: { id: 'acme', name: 'Acme Inc.' } },
  }).listen(port, () =>
    console.log(`open http://127.0.0.1:${port}/sign-in?as=acme to see the portal embedded`),
  );
}
