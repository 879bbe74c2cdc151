/**
 * A Next.js (App Router) route handler verifying Hookline's signatures:
 * app/api/webhooks/route.ts. Only the Web Request/Response API is used, so the
 * same file works in Remix, Hono, Bun or Deno with a different export name.
 *
 * In your own app, import from 'hookline/sdk' instead of the relative path.
 */
import { withWebhookVerification, type WebhookEvent } from '../../../../../sdk/index.js';

/** What the app does with a verified event; replace with your own. */
export const received: WebhookEvent[] = [];

export async function POST(req: Request): Promise<Response> {
  // Read per request, so a rotated secret in the environment is picked up on redeploy.
  const secret = process.env.HOOKLINE_WEBHOOK_SECRET;
  if (!secret) return new Response('HOOKLINE_WEBHOOK_SECRET is not set', { status: 500 });
  const handle = withWebhookVerification(secret, async (event) => {
    received.push(event);
    return new Response(null, { status: 204 });
  });
  return handle(req);
}
