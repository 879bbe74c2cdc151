/** How long and how big each phase is: the full run and --quick (smaller windows, same JSON shape). */
export interface Plan {
  quick: boolean;
  /** Whole-run bound: phases that would start after it are skipped. */
  budgetS: number;
  ceilingConcurrency: number;
  ceilingWarmupS: number;
  ceilingWindowS: number;
  /** Steady-state phases (pg-boss, Hookline fan-out 1 and 10, isolation). */
  warmupS: number;
  windowS: number;
  /** Deliveries kept queued but not yet delivered during steady phases. */
  highWater: number;
  /** Deliveries per publish call during steady phases. */
  publishBatchDeliveries: number;
  drainBoundS: number;
  ingestWarmupS: number;
  ingestS: number;
  /** Upper bound on events per ingest phase, so the queue they leave stays small. */
  ingestMaxEvents: number;
  ingestConcurrency: number;
  ingestBatchSize: number;
  ingestBatchConcurrency: number;
  /** Offered rates of the open-loop latency phase, events/s, each for latencyS. */
  latencyRates: number[];
  latencyS: number;
  /** How long a transaction is held open beside the vacuum-held-back measurement (its window). */
  vacuumHoldS: number;
  isolationWarmupS: number;
  isolationWindowS: number;
  hangTimeoutS: number;
  backlogDeliveries: number;
  backlogBoundS: number;
  /** The routing phase: webhooks per side, events published at most, publishers in parallel. */
  routingWebhooks: number;
  routingEvents: number;
  routingConcurrency: number;
}

const full: Plan = {
  quick: false,
  budgetS: 19 * 60,
  ceilingConcurrency: 128,
  ceilingWarmupS: 3,
  ceilingWindowS: 20,
  warmupS: 5,
  windowS: 20,
  highWater: 10_000,
  publishBatchDeliveries: 1_000,
  drainBoundS: 30,
  ingestWarmupS: 2,
  ingestS: 10,
  ingestMaxEvents: 60_000,
  ingestConcurrency: 32,
  ingestBatchSize: 100,
  ingestBatchConcurrency: 4,
  latencyRates: [10, 100, 1_000],
  latencyS: 20,
  vacuumHoldS: 60,
  isolationWarmupS: 5,
  isolationWindowS: 20,
  hangTimeoutS: 5,
  backlogDeliveries: 100_000,
  backlogBoundS: 180,
  routingWebhooks: 1_000,
  routingEvents: 500,
  routingConcurrency: 4,
};

const quick: Plan = {
  ...full,
  quick: true,
  budgetS: 220,
  ceilingWarmupS: 1,
  ceilingWindowS: 3,
  warmupS: 2,
  windowS: 3,
  highWater: 5_000,
  drainBoundS: 5,
  ingestWarmupS: 1,
  ingestS: 2,
  ingestMaxEvents: 10_000,
  latencyS: 3,
  vacuumHoldS: 10,
  isolationWarmupS: 1,
  isolationWindowS: 3,
  backlogDeliveries: 10_000,
  backlogBoundS: 20,
  routingEvents: 100,
};

export function planFor(isQuick: boolean): Plan {
  return { ...(isQuick ? quick : full) };
}
