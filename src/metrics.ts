import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one Hookline process. A registry per instance (not the
 * global one), so several apps in one test process do not collide.
 */
export function createMetrics() {
  const registry = new Registry();
  const eventsAccepted = new Counter({
    name: 'hookline_events_accepted_total',
    help: 'Events accepted by POST /events and /events/batch.',
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'hookline_deliveries_total',
    help: 'Delivery attempts by outcome: succeeded, retrying, failed, cancelled.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deferrals = new Counter({
    name: 'hookline_deferrals_total',
    help: 'Deliveries handed back to the queue unsent, by reason: rate_limit, webhook_concurrency.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'hookline_attempt_duration_seconds',
    help: 'Duration of outbound delivery attempts.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'hookline_queue_depth',
    help: 'Deliveries pending or sending.',
    registers: [registry],
  });
  const oldestPendingAge = new Gauge({
    name: 'hookline_oldest_pending_age_seconds',
    help: 'Age of the oldest due delivery that has not been sent yet.',
    registers: [registry],
  });
  return {
    registry,
    eventsAccepted,
    deliveries,
    deferrals,
    attemptDuration,
    queueDepth,
    oldestPendingAge,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
