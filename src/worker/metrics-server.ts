/**
 * The HTTP face of a standalone `hookline worker` (--metrics-port): /metrics for
 * Prometheus (this process's delivery counters and attempt latencies, which no
 * `serve` can export for it), /healthz and /readyz for an orchestrator. The
 * same routes as serve's, and nothing else: no API, no UI.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Metrics } from '../metrics.js';
import { healthRoutes } from '../api/routes/health.js';
import { registerErrorHandling } from '../api/plugins/errors.js';
import { listenError } from '../listen-error.js';

export async function startMetricsServer(deps: {
  db: Db;
  config: Config;
  metrics: Metrics;
}): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({ logger: false });
  app.decorate('deps', { ...deps, wake: () => {} });
  registerErrorHandling(app);
  await app.register(healthRoutes);
  try {
    await app.listen({ port: config.metricsPort, host: config.host });
  } catch (err) {
    await app.close().catch(() => {});
    throw listenError(err, config.host, config.metricsPort, '--metrics-port');
  }
  return app;
}
