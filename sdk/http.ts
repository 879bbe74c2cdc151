/**
 * Middleware for Node's HTTP stack: Express (after `express.raw()`, or with no
 * body parser at all) and plain `node:http` servers share this one shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  verify,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookEvent,
} from './verify.js';

export interface MiddlewareOptions extends VerifyOptions {
  /** The most body bytes read when no parser ran before; default 2 MiB. */
  maxBodyBytes?: number;
}

/** What the middleware adds to the request: the verified, parsed event, and the raw body it was verified over. */
export interface VerifiedIncomingMessage extends IncomingMessage {
  body?: unknown;
  webhook?: WebhookEvent;
  rawBody?: Buffer;
}

/** The JSON body a receiver answers a rejected request with (status 400). */
export function verificationFailureBody(err: WebhookVerificationError) {
  return {
    error: { code: 'WEBHOOK_VERIFICATION_FAILED', reason: err.reason, message: err.message },
  };
}

/** Reads the raw body of a request no parser has consumed, up to a limit. */
export async function readRawBody(
  req: IncomingMessage,
  maxBytes = 2 * 1024 * 1024,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > maxBytes)
      throw Object.assign(new Error(`request body larger than ${maxBytes} bytes`), { status: 413 });
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Express-style middleware `(req, res, next)` that verifies the request and puts
 * the event on `req.webhook`. It needs the raw body: mount it after
 * `express.raw({ type: 'application/json' })`, or with no JSON parser before it
 * (it then reads the body itself). A rejected request gets 400 and `next` is not called.
 *
 * ```ts
 * app.post('/hooks', express.raw({ type: 'application/json' }), webhookMiddleware(process.env.WEBHOOK_SECRET!), (req, res) => {
 *   console.log(req.webhook.type); res.sendStatus(204);
 * });
 * ```
 */
export function webhookMiddleware(
  secret: string | readonly string[],
  opts: MiddlewareOptions = {},
) {
  return function verifyWebhook(
    req: VerifiedIncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    void (async () => {
      let raw: Buffer;
      if (Buffer.isBuffer(req.body)) raw = req.body;
      else if (typeof req.body === 'string') raw = Buffer.from(req.body, 'utf8');
      else if (
        req.body !== undefined &&
        req.body !== null &&
        !(typeof req.body === 'object' && Object.keys(req.body).length === 0 && req.readable)
      ) {
        throw new TypeError(
          'webhookMiddleware needs the raw body: a JSON parser already replaced it. Use express.raw({ type: "application/json" }) on this route.',
        );
      } else raw = await readRawBody(req, opts.maxBodyBytes);
      req.rawBody = raw;
      req.webhook = verify(raw, req.headers, secret, opts);
      next();
    })().catch((err: unknown) => {
      if (err instanceof WebhookVerificationError) {
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(verificationFailureBody(err)));
        return;
      }
      next(err);
    });
  };
}
