/**
 * Fastify: a plugin that, in the encapsulated scope it is registered in, parses
 * `application/json` as a raw Buffer (so the signature can be checked over the
 * exact bytes) and verifies every request before its handler runs. Routes
 * outside that scope keep Fastify's normal JSON parser.
 *
 * ```ts
 * app.register(async (hooks) => {
 *   await hooks.register(fastifyWebhookVerification, { secret: process.env.WEBHOOK_SECRET! });
 *   hooks.post('/hooks', async (request) => { const event = request.body as WebhookEvent; … });
 * });
 * ```
 */
import type { FastifyPluginAsync } from 'fastify';
import { verify, WebhookVerificationError, type VerifyOptions } from './verify.js';
import { verificationFailureBody } from './http.js';

export interface FastifyWebhookOptions extends VerifyOptions {
  secret: string | readonly string[];
  /** The most body bytes accepted; default 2 MiB. */
  bodyLimit?: number;
}

const rawBodies = new WeakMap<object, Buffer>();

/** The raw body a request of a verified scope was checked over. */
export function rawWebhookBody(request: object): Buffer | undefined {
  return rawBodies.get(request);
}

export const fastifyWebhookVerification: FastifyPluginAsync<FastifyWebhookOptions> = async (
  scope,
  opts,
) => {
  const { secret, bodyLimit = 2 * 1024 * 1024, ...verifyOpts } = opts;
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit },
    (_request, body, done) => done(null, body),
  );
  scope.addHook('preHandler', async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    try {
      // After verification the handler sees the parsed event, like any JSON route.
      request.body = verify(
        raw,
        request.headers as Record<string, string | string[] | undefined>,
        secret,
        verifyOpts,
      );
      rawBodies.set(request, raw);
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      return reply.code(400).send(verificationFailureBody(err));
    }
  });
};

// What fastify-plugin does: apply the parser and hook to the scope that registers this plugin,
// not to a child scope of its own, so the routes declared next to it are covered.
(fastifyWebhookVerification as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] =
  true;
