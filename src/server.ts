import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Db } from './store/db.js';
import { openDb } from './store/open.js';
import { checkEncryptionKey } from './store/secret-check.js';
import { buildApp } from './api/app.js';
import { bootstrap } from './bootstrap.js';
import { createMetrics } from './metrics.js';
import { createLogger, type Logger } from './log.js';
import { createWorker, type Worker } from './worker/loop.js';
import { createWake } from './worker/wake.js';
import { listenError } from './listen-error.js';

export interface RunningServer {
  app: FastifyInstance;
  db: Db;
  /** The delivery worker running in this process, unless --no-worker. */
  worker?: Worker;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Stops accepting, drains, closes the database. */
  stop(): Promise<void>;
}

/** What `serve` warns about at start: settings that are fine to try Hookline with but not to run it. */
export function startupWarnings(config: Pick<Config, 'dev' | 'encryptionKey'>): string[] {
  const out: string[] = [];
  if (config.dev)
    out.push(
      '--dev: http:// URLs and private/loopback destinations are allowed. Never use this in production.',
    );
  if (!config.dev && !config.encryptionKey) {
    // Not fatal: a first try-out should just work. But a database dump then holds every secret.
    out.push(
      'HOOKLINE_ENCRYPTION_KEY is not set: webhook signing secrets are stored unencrypted. Set it to 32 random bytes (base64 or hex), e.g. `openssl rand -base64 32`.',
    );
  }
  return out;
}

/** A failed listen as one line for a person (port taken, address not on this machine), not a stack. */
/**
 * `hookline serve`: the API, the admin UI and (unless disabled) the delivery
 * worker in one process, on the embedded database or on PostgreSQL.
 */
export async function startServer(
  config: Config,
  log: Logger = createLogger(config),
): Promise<RunningServer> {
  for (const warning of startupWarnings(config)) log.warn(warning);
  if (!config.databaseUrl) {
    // Creating PGlite's files and applying the migrations takes 5-20 s with nothing else printed.
    const fresh = !existsSync(join(config.dataDir, 'db', 'PG_VERSION'));
    log.info(
      { dataDir: config.dataDir },
      fresh
        ? 'creating the embedded database (first start only: this takes a few seconds)'
        : 'opening the embedded database',
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
  const boot = await bootstrap(db, { adminKey: config.adminKey, demo: config.demo });
  for (const n of boot.notices) log[n.level](n.message);
  if (boot.created && !boot.created.keyWasGiven) {
    // Printed once, on standard output, so it can be captured; it is never logged or stored.
    process.stdout.write(
      `\nCreated organization "default" and its admin API key (shown only this once):\n\n  ${boot.created.key}\n\n`,
    );
  }
  const metrics = createMetrics();
  const worker = config.worker ? createWorker({ db, config, metrics, log }) : undefined;
  // Publishes wake this process's worker at once and, on PostgreSQL, every other worker by NOTIFY.
  const wake = createWake(db, worker?.wake, (err) => log.warn({ err }, 'could not NOTIFY workers'));
  const app = await buildApp({ db, config, metrics, wake }, { logger: log });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close().catch(() => {});
    await db.close().catch(() => {});
    throw listenError(err, config.host, config.port);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url }, 'Hookline is listening');
  await worker?.start();
  let stopping: Promise<void> | undefined;
  return {
    app,
    db,
    worker,
    url,
    stop() {
      stopping ??= (async () => {
        // No new requests first, then the worker drains (stops claiming, lets attempts finish
        // or hands them back), then the database goes.
        await app.close();
        await worker?.stop({ drainMs: config.drainSeconds * 1000 });
        await db.close();
      })();
      return stopping;
    },
  };
}
