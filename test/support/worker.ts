/**
 * A real delivery worker on a test app's database, woken by the app's publishes.
 */
import type { Config } from '../../src/config.js';
import type { Db } from '../../src/store/db.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { startMaintenance } from '../../src/worker/maintenance.js';
import { testConfig } from './config.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/worker/loop.js';
import { createWake } from '../../src/worker/wake.js';
import type { TestApp } from './app.js';

export interface TestWorkerOptions extends WorkerOptions {
  config?: Partial<Config>;
}

/** Starts a worker on `t.db` and points the app's `deps.wake` at it. Stop it before t.close(). */
export async function startTestWorker(t: TestApp, opts: TestWorkerOptions = {}): Promise<Worker> {
  const config = { ...t.config, ...opts.config };
  const log = createLogger({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const worker = createWorker({ db: t.db, config, metrics: t.metrics, log }, opts);
  t.app.deps.wake = createWake(t.db, worker.wake);
  await worker.start();
  return worker;
}

/** Starts the worker's maintenance chores alone on `db` (no sending); returns their stop. */
export function startTestMaintenance(db: Db): () => Promise<void> {
  return startMaintenance({
    db,
    config: testConfig(),
    metrics: createMetrics(),
    log: createLogger({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    wake: () => {},
  });
}
