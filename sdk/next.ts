/**
 * Next.js route handlers (and any runtime with the Fetch API's Request and
 * Response: Remix, Hono, Bun, Deno, Cloudflare Workers).
 *
 * ```ts
 * // app/api/hooks/route.ts
 * export const POST = withWebhookVerification(process.env.WEBHOOK_SECRET!, async (event) => {
 *   await handle(event);
 *   return new Response(null, { status: 204 });
 * });
 * ```
 */
import {
  verify,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookEvent,
} from './verify.js';
import { verificationFailureBody } from './http.js';

/** Reads the request's raw body and verifies it; throws WebhookVerificationError. */
export async function verifyRequest<T = unknown>(
  req: Request,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): Promise<WebhookEvent<T>> {
  // The bytes, not req.text(): the signature covers exactly what was sent.
  const raw = Buffer.from(await req.arrayBuffer());
  return verify<T>(raw, req.headers, secret, opts);
}

/** Wraps a route handler: it runs only for verified requests; others get 400 with the reason. */
export function withWebhookVerification<T = unknown>(
  secret: string | readonly string[],
  handler: (event: WebhookEvent<T>, req: Request) => Response | Promise<Response>,
  opts: VerifyOptions = {},
): (req: Request) => Promise<Response> {
  return async (req) => {
    let event: WebhookEvent<T>;
    try {
      event = await verifyRequest<T>(req, secret, opts);
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      return Response.json(verificationFailureBody(err), { status: 400 });
    }
    return handler(event, req);
  };
}
