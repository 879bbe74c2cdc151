/**
 * `hookline worker`: the delivery worker alone, without the HTTP API, for
 * scaling delivery out on PostgreSQL (any number of these and of `serve`).
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { openDb } from '../store/open.js';
import { checkEncryptionKey } from '../store/secret-check.js';
import { createMetrics } from '../metrics.js';
import { createWorker, type Worker } from './loop.js';
import { startMetricsServer } from './metrics-server.js';

export interface RunningWorker {
  db: Db;
  worker: Worker;
  /** Drains the worker and closes the database. */
  stop(): Promise<void>;
}

export async function startWorkerProcess(config: Config, log: Logger): Promise<RunningWorker> {
  // The worker is what sends: --dev lets it reach private and loopback addresses, so say so here too.
  if (config.dev)
    log.warn(
      '--dev: http:// URLs and private/loopback destinations are allowed. Never use this in production.',
    );
  if (!config.databaseUrl) {
    log.warn(
      'hookline worker on the embedded database: run it instead of serve, not beside it (PGlite is one process)',
    );
  }
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.poolSize,
    log,
  });
  await checkEncryptionKey(db, config.encryptionKey).catch(async (err: unknown) => {
    await db.close().catch(() => {});
    throw err;
  });
  const metrics = createMetrics();
  const http =
    config.metricsPort > 0
      ? await startMetricsServer({ db, config, metrics }).catch(async (err: unknown) => {
          await db.close().catch(() => {});
          throw err;
        })
      : undefined;
  if (http)
    log.info(
      { url: `http://${config.host}:${config.metricsPort}/metrics` },
      'worker metrics are served',
    );
  const worker = createWorker({ db, config, metrics, log });
  await worker.start();
  let stopping: Promise<void> | undefined;
  return {
    db,
    worker,
    stop() {
      stopping ??= (async () => {
        await worker.stop({ drainMs: config.drainSeconds * 1000 });
        await http?.close();
        await db.close();
      })();
      return stopping;
    },
  };
}
