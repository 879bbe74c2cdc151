import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../../errors.js';

/** Liveness, readiness and Prometheus metrics: no authentication, outside /api/v1. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { db, metrics } = app.deps;
  const hide = { hide: true };

  app.get('/healthz', { schema: hide }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: hide }, async () => {
    try {
      await db.query('SELECT 1');
    } catch (err) {
      throw new HooklineError('UNAVAILABLE', 'The database does not answer.', { cause: err });
    }
    return { status: 'ready' };
  });

  app.get('/metrics', { schema: hide }, async (_request, reply) => {
    // Queue gauges are read at scrape time: one cheap query on the partial index.
    try {
      const { rows } = await db.query<{ depth: number; oldest: number | null }>(
        `SELECT count(*)::int AS depth,
                extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()))::float8 AS oldest
           FROM deliveries WHERE status IN ('pending', 'sending')`,
      );
      metrics.queueDepth.set(rows[0].depth);
      metrics.oldestPendingAge.set(rows[0].oldest ?? 0);
    } catch (err) {
      app.log.warn({ err }, 'could not read queue gauges');
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
