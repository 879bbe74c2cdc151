import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppDeps } from './context.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerJsonBody } from './plugins/json-body.js';
import { registerAuth } from './plugins/auth.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import { registerSecurityHeaders } from './plugins/security-headers.js';
import {
  clientLimitServerOptions,
  defaultClientLimits,
  registerClientLimits,
  type ClientLimits,
} from './plugins/client-limits.js';
import { validatorCompiler } from './validation.js';
import { healthRoutes } from './routes/health.js';
import { apiRoutes } from './routes/index.js';
import { uiRoutes } from './ui.js';
import { version } from '../version.js';

export interface BuildAppOptions {
  /** A pino logger to log requests with; none (tests) keeps the app quiet. */
  logger?: FastifyBaseLogger;
  /** Bounds on headers, URL and request time (tests shrink them). */
  limits?: Partial<ClientLimits>;
  /** Where the built admin UI is (default: ui/dist of this checkout). */
  uiDir?: string;
  /** How long a known API key is remembered (default KEY_CACHE_MS); tests lengthen it. */
  apiKeyCacheMs?: number;
}

/** Builds the HTTP application; it does not listen. Tests drive it with `app.inject()`. */
export async function buildApp(
  deps: AppDeps,
  opts: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const limits = { ...defaultClientLimits, ...opts.limits };
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    // Bounds on what a client controls before any route runs.
    routerOptions: { maxParamLength: 200 },
    ...clientLimitServerOptions(limits),
    genReqId: () => Math.random().toString(36).slice(2, 10),
    // Fastify's two lines per request (received, completed) would be most of the log and a
    // synchronous write each on the publish path; one line per request at debug level instead
    // (--log-level debug), and failures are logged where they are handled (plugins/errors.ts).
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.decorate('deps', deps);
  app.setValidatorCompiler(validatorCompiler);
  registerErrorHandling(app);
  registerSecurityHeaders(app);
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        // The path only: a query string is request data (docs/security.md, "Logs").
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  registerClientLimits(app, limits);
  registerJsonBody(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hookline API',
        version,
        description:
          'Webhook delivery: publish events, register webhooks, inspect every delivery attempt.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: hk_…' },
        },
      },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes);
  await app.register(
    async (api) => {
      registerAuth(api, { cacheMs: opts.apiKeyCacheMs });
      registerRateLimit(api);
      await api.register(apiRoutes);
    },
    { prefix: '/api/v1' },
  );
  await app.register(uiRoutes, { dir: opts.uiDir });
  return app;
}
