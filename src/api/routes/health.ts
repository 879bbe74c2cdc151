import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../../errors.js';
import { readQueueGauges } from '../../queue/gauges.js';

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
    // Queue gauges are read at scrape time: one pass over the queue's own table (src/queue/gauges.ts).
    try {
      const g = await readQueueGauges(db);
      metrics.queueDepth.set(g.depth);
      metrics.oldestPendingAge.set(g.oldestDueSeconds);
    } catch (err) {
      app.log.warn({ err }, 'could not read queue gauges');
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
