/**
 * The delivery worker, wired from its roles: the producer claims due
 * deliveries in batches while there is room (src/worker/producer.ts), the
 * executor makes one attempt of each (src/worker/executor.ts), the recorder
 * writes their outcomes in batches (src/worker/recorder.ts) through
 * recordWithFollowUps, which then moves health and circuits, disables
 * webhooks, publishes operational events and wakes workers
 * (src/worker/follow-ups.ts). This file owns what they share: the set of
 * attempts in flight, the stats, and start and stop.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Metrics } from '../metrics.js';
import type { Logger } from '../log.js';
import { WAKE_CHANNEL } from '../store/events.js';
import { claimDeliveries, msUntilNextDue, type ClaimedDelivery } from '../queue/claim.js';
import { releaseClaims } from '../queue/release.js';
import { deliveryDispatcher } from './send.js';
import { createWebhookSlots, webhookCap } from './webhook-slots.js';
import { createRateLimiter } from './rate-limit.js';
import { slotsAndRates } from './claim-room.js';
import { createWake } from './wake.js';
import { startMaintenance } from './maintenance.js';
import { createProducer } from './producer.js';
import { createExecutor, slotWaitMs } from './executor.js';
import { createRecorder, recordApplied } from './recorder.js';
import { recordWithFollowUps, workerPolicy } from './follow-ups.js';

/** Even with no notification (a lost LISTEN connection) the queue is looked at this often. */
const SAFETY_NET_MS = 10_000;

export interface WorkerDeps {
  db: Db;
  config: Config;
  metrics: Metrics;
  log: Logger;
}

export interface WorkerOptions {
  id?: string;
  dispatcher?: Dispatcher;
  /** Jitter source, for tests. */
  random?: () => number;
  /** Wakes every worker (this one and, on PostgreSQL, the others); defaults to createWake(db, this.wake). */
  wakeAll?: () => void;
  /** Run the lease reaper, queue gauges and retention (default true). */
  maintenance?: boolean;
  /**
   * With nothing due and no wake, look at the queue anyway this often (default 10 s): the
   * safety net under NOTIFY. Tests lengthen it to prove that a wake, not the poll, found work.
   */
  idlePollMs?: number;
}

export interface Worker {
  readonly id: string;
  /** New work may be due: claim now. Cheap; call freely. */
  wake(): void;
  start(): Promise<void>;
  /**
   * Stops claiming, waits up to `drainMs` for attempts in flight, records their
   * outcomes, and hands what is still unsent back to the queue.
   */
  stop(opts?: { drainMs?: number }): Promise<void>;
  /** `deferred`: claims handed back unsent (over the webhook's in-flight cap or its rate limit). */
  readonly stats: { claimed: number; recorded: number; inFlight: number; deferred: number };
}

/** A delivery worker: call start(), and stop() before closing the database. */
export function createWorker(deps: WorkerDeps, opts: WorkerOptions = {}): Worker {
  const { db, config, metrics, log } = deps;
  const id = opts.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const slots = createWebhookSlots({ cap: webhookCap(config), maxWaitMs: slotWaitMs(config) });
  const limiter = createRateLimiter();
  const batchSize = config.workerBatchSize;
  const concurrency = config.workerConcurrency;
  const stats = { claimed: 0, recorded: 0, inFlight: 0, deferred: 0 };
  const inflight = new Map<string, ClaimedDelivery>();
  const roomWaiters = new Set<() => void>();
  let started = false;
  let closed = false; // after stop(): late results are dropped, their deliveries were released
  let loopDone: Promise<void> = Promise.resolve();
  let unlisten: (() => Promise<void>) | undefined;
  let stopMaintenance: (() => Promise<void>) | undefined;
  let stopping: Promise<void> | undefined;

  const producer = createProducer({
    claim: async (limit, room) => {
      const claimed = await claimDeliveries(db, id, limit, config.leaseSeconds, room);
      stats.claimed += claimed.length;
      return claimed;
    },
    nextDue: (since, busy) => msUntilNextDue(db, since, busy),
    release: (claimed) => releaseClaims(db, id, claimed),
    dispatch,
    inFlight: () => inflight.size,
    slots: slotsAndRates(slots, limiter),
    batchSize,
    concurrency,
    idlePollMs: opts.idlePollMs ?? SAFETY_NET_MS,
    log,
  });
  const wake = producer.wake;
  const wakeAll =
    opts.wakeAll ??
    createWake(db, wake, (err) => log.warn({ err }, 'could not NOTIFY other workers'));
  const execute = createExecutor({
    config,
    metrics,
    log,
    dispatcher: opts.dispatcher ?? deliveryDispatcher(config),
    slots,
    limiter,
    running: () => producer.running,
    random: opts.random,
  });
  const followUps = { db, log, policy: workerPolicy(config), wakeAll, dueAt: producer.dueAt };
  const recorder = createRecorder({
    // Record at once when half a claim's worth has come back.
    flushAt: Math.floor(batchSize / 2),
    log,
    write: async (batch) => {
      await recordWithFollowUps(followUps, batch, async (b) => {
        const applied = await recordApplied(db, id, b, log);
        stats.recorded += applied.length;
        for (const o of applied)
          if (o.kind !== 'deferred') metrics.deliveries.inc({ outcome: o.kind });
        return applied;
      });
    },
  });

  function dispatch(c: ClaimedDelivery): void {
    inflight.set(c.id, c);
    stats.inFlight = inflight.size;
    void execute(c).then((outcome) => {
      inflight.delete(c.id);
      stats.inFlight = inflight.size;
      if (outcome.kind === 'deferred') stats.deferred++;
      if (!closed) recorder.add(outcome);
      producer.attemptEnded(c.webhook_id);
      for (const r of roomWaiters) r();
    });
  }

  /** Resolves when an attempt ends or at `deadline`, whichever is first. */
  function attemptEndedOr(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      const r = () => {
        clearTimeout(t);
        roomWaiters.delete(r);
        resolve();
      };
      roomWaiters.add(r);
    });
  }

  return {
    id,
    stats,
    wake,
    async start() {
      if (started) return;
      started = true;
      // After the LISTEN connection was lost and came back, wakes NOTIFYed meanwhile were lost: look now.
      if (db.kind === 'postgres')
        unlisten = await db.listen(WAKE_CHANNEL, wake, { onReconnect: wake });
      if (opts.maintenance ?? true)
        stopMaintenance = startMaintenance({
          db,
          config,
          metrics,
          log,
          wake,
          claimed: () => stats.claimed,
        });
      loopDone = producer.start().catch((err) => log.fatal({ err }, 'the delivery loop stopped'));
      log.info({ worker: id, batch: batchSize, concurrency }, 'delivery worker started');
    },
    stop({ drainMs = 10_000 } = {}) {
      stopping ??= (async () => {
        await producer.stop();
        await loopDone;
        await stopMaintenance?.();
        const deadline = Date.now() + drainMs;
        while (inflight.size > 0 && Date.now() < deadline) await attemptEndedOr(deadline);
        closed = true;
        await recorder.flush();
        const unsent = [...inflight.values()];
        if (unsent.length > 0) {
          const n = await releaseClaims(db, id, unsent).catch(
            (err) => (log.warn({ err }, 'could not release claims'), 0),
          );
          log.warn({ released: n }, 'released deliveries still in flight at shutdown');
        }
        await unlisten?.();
        log.info({ worker: id }, 'delivery worker stopped');
      })();
      return stopping;
    },
  };
}
