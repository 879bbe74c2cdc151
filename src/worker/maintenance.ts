/**
 * The worker's periodic chores, off the hot path: handing back expired
 * leases, the queue gauges, retention, and on both stores the queue tables'
 * own vacuum; on the embedded store the general table maintenance too. On the
 * embedded store the long chores (that maintenance, the queue's index rebuild)
 * wait for a moment the traffic allows (maintenance-moment.ts). The queue's
 * vacuum and the embedded maintenance have a one-second clock of their own.
 */
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Metrics } from '../metrics.js';
import type { Logger } from '../log.js';
import { settleSchedule } from '../queue/schedule.js';
import { releaseExpiredLeases } from '../queue/release.js';
import { readQueueGauges } from '../queue/gauges.js';
import { vacuumQueueIfDue } from '../queue/vacuum.js';
import { countQueuedUpTo, reindexQueueIfBloated } from '../queue/reindex.js';
import { vacuumEmbedded } from './embedded-vacuum.js';
import { isMaintenanceMoment, MAINTENANCE_EVERY_MS } from './maintenance-moment.js';
import { pruneOldData } from './retention.js';
import { purgeDeletedWebhooks, purgeIsDue } from './tenant-purge.js';

const GAUGES_EVERY_MS = 5000;
// How often the queue tables' dead rows are looked at (src/queue/vacuum.ts): a second's deliveries.
const QUEUE_VACUUM_EVERY_MS = 1000;
// How often the traffic is sampled for the embedded maintenance (claimedLastSecond): each second.
const SAMPLE_EVERY_MS = 1000;
// After the queue table was too busy for its indexes' rebuild: writers waited for it each time.
const REINDEX_BUSY_WAIT_MS = 10_000;
const RETENTION_EVERY_MS = 60 * 60 * 1000;
// The first retention pass waits a little, so a restart storm does not start with deletes.
const RETENTION_FIRST_MS = 60 * 1000;

export interface MaintenanceDeps {
  db: Db;
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** Called when expired leases were handed back: there is work. */
  wake: () => void;
  /** Deliveries this worker has claimed so far: the traffic the embedded maintenance waits on. */
  claimed?: () => number;
}

/** Reads the queue depth and the age of the oldest due delivery into the gauges. */
async function updateQueueGauges(db: Db, metrics: Metrics): Promise<void> {
  const g = await readQueueGauges(db);
  metrics.queueDepth.set(g.depth);
  metrics.oldestPendingAge.set(g.oldestDueSeconds);
}

/**
 * Runs `chore` every `ms` (and at once when `now`), never two runs at a time; the returned
 * function stops the clock and waits for the run in progress.
 */
function repeat(ms: number, chore: () => Promise<void>, now = false): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= chore().finally(() => (running = undefined));
  };
  const timer = setInterval(run, ms);
  timer.unref();
  if (now) run();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Starts the chores; returns a function that stops them and waits for the ones running. */
export function startMaintenance(deps: MaintenanceDeps): () => Promise<void> {
  const { db, config, metrics, log } = deps;
  // Expired leases are looked for a few times per lease, so a dead worker's deliveries wait about one lease.
  const reapEvery = Math.min(10_000, Math.max(200, (config.leaseSeconds * 1000) / 3));
  let stopped = false;
  let lastGauges = 0;
  let nextRetention = Date.now() + RETENTION_FIRST_MS;

  const tick = async () => {
    try {
      const released = await releaseExpiredLeases(db);
      if (released > 0) {
        log.warn({ released }, 'handed back deliveries whose lease expired');
        deps.wake();
      }
      // Webhooks whose due work has all been taken: claims stop looking at them until their next.
      await settleSchedule(db);
      if (Date.now() - lastGauges >= GAUGES_EVERY_MS) {
        lastGauges = Date.now();
        await updateQueueGauges(db, metrics);
      }
      // Deleted tenants' webhooks (store/tenants.ts): a bounded pass per tick until none is left.
      if (await purgeIsDue(db)) {
        const purged = await purgeDeletedWebhooks(db, { stopped: () => stopped });
        if (purged.webhooks) log.info(purged, 'removed the webhooks of deleted tenants');
      }
      if (Date.now() >= nextRetention) {
        nextRetention = Date.now() + RETENTION_EVERY_MS;
        const pruned = await pruneOldData(db, {
          retentionDays: config.retentionDays,
          stopped: () => stopped,
        });
        if (pruned.attempts || pruned.events || pruned.headerSets)
          log.info(pruned, 'retention: removed old attempts and events');
      }
    } catch (err) {
      if (!stopped) log.warn({ err }, 'worker maintenance failed; will retry');
    }
  };
  // The embedded store's traffic, sampled every second on a clock of its own (maintainEmbedded):
  // its long chores wait for a moment it allows (maintenance-moment.ts).
  let claimedBefore = deps.claimed?.() ?? 0;
  let claimedLastSecond = 0;
  const momentFor = (dueSince: number, every = 0) =>
    isMaintenanceMoment(
      {
        dueForMs: Date.now() - dueSince - every,
        claimedLastSecond,
        batchSize: config.workerBatchSize,
      },
      (upTo) => countQueuedUpTo(db, upTo),
    );

  let reindexNotBefore = 0;
  // Since when the embedded queue's indexes have been found bloated and their rebuild put off.
  let rebuildDueSince: number | undefined;
  const mayRebuild =
    db.kind === 'pglite'
      ? async () => {
          rebuildDueSince ??= Date.now();
          const now = await momentFor(rebuildDueSince);
          if (now) rebuildDueSince = undefined;
          return now;
        }
      : undefined;
  const vacuumQueue = async () => {
    try {
      const started = Date.now();
      const dead = await vacuumQueueIfDue(db);
      const ms = Date.now() - started;
      if (dead === undefined) return;
      log[ms >= 500 ? 'info' : 'debug']({ dead, ms }, 'queue vacuum');
      // At most once a pass: the indexes can only have grown while deliveries flow.
      if (Date.now() < reindexNotBefore) return;
      const rebuilt = await reindexQueueIfBloated(db, mayRebuild);
      if (rebuilt === 'busy') {
        reindexNotBefore = Date.now() + REINDEX_BUSY_WAIT_MS;
        log.debug(
          { retryInMs: REINDEX_BUSY_WAIT_MS },
          'queue indexes bloated, table busy: rebuild put off',
        );
      } else if (rebuilt === 'deferred')
        log.debug({ claimedLastSecond }, 'queue indexes bloated, light traffic: rebuild put off');
      else if (rebuilt)
        log.info({ ...rebuilt, ms: Date.now() - started - ms }, 'queue indexes rebuilt');
      // Not bloated (any more), or another worker's: a later bloat waits from its own start.
      else rebuildDueSince = undefined;
    } catch (err) {
      if (!stopped) log.warn({ err }, 'queue vacuum failed; will retry');
    }
  };
  let lastPass = Date.now();
  const maintainEmbedded = async () => {
    // Sampled every second, whether or not a pass is due, so the rate is the last second's.
    const claimed = deps.claimed?.() ?? 0;
    claimedLastSecond = claimed - claimedBefore;
    claimedBefore = claimed;
    try {
      if (!(await momentFor(lastPass, MAINTENANCE_EVERY_MS))) return;
      lastPass = Date.now();
      const pass = await vacuumEmbedded(db);
      const ms = Date.now() - lastPass;
      // A long pass held the one database connection that long: worth an operator's notice.
      if (pass)
        log[ms >= 500 ? 'info' : 'debug'](
          { ...pass, ms, claimedLastSecond },
          'embedded table maintenance',
        );
    } catch (err) {
      if (!stopped) log.warn({ err }, 'embedded table maintenance failed; will retry');
    }
  };
  const stopTicks = repeat(reapEvery, tick, true);
  // Their own clock: the chores above may take longer than a second after a mass delete.
  const stopQueueVacuum = repeat(QUEUE_VACUUM_EVERY_MS, vacuumQueue);
  const stopEmbedded =
    db.kind === 'pglite' ? repeat(SAMPLE_EVERY_MS, maintainEmbedded) : async () => {};
  return async () => {
    stopped = true;
    await Promise.all([stopTicks(), stopQueueVacuum(), stopEmbedded()]);
  };
}
