/**
 * The delivery worker: claims due deliveries in batches, sends them with a
 * bounded number in flight, records outcomes in batches, and sleeps when
 * there is nothing due until it is woken (a publish in this process, NOTIFY
 * from another) or the next scheduled retry comes due.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Metrics } from '../metrics.js';
import type { Logger } from '../log.js';
import { WAKE_CHANNEL } from '../store/events.js';
import { createSecretBox } from '../core/secret-box.js';
import { claimDeliveries, msUntilNextDue, type ClaimedDelivery } from '../queue/claim.js';
import { releaseClaims } from '../queue/release.js';
import { deliveryDispatcher, internalFailure, sendAttempt } from './send.js';
import type { AttemptMessage, AttemptTarget } from './send.js';
import { cancelled, decide, deferred, type Outcome } from './decide.js';
import { skipped as skippedByTransformation } from './decide.js';
import { prepareTransformed } from './transform-step.js';
import { recordOutcomesSafely, updateWebhookHealth, type WebhookHealth } from './complete.js';
import {
  disableWebhooks,
  goneWebhooks,
  operationalEvents,
  publishOperational,
  staleWebhooks,
  type DisabledWebhook,
} from './disable-and-announce.js';
import { createRateLimiter } from './rate-limit.js';
import { createWebhookSlots, tookAllRoom, webhookCap, type Slot } from './webhook-slots.js';
import { createSecretCache } from './secrets.js';
import { createEndpointCache } from './endpoints.js';
import { createWake } from './wake.js';
import { startMaintenance } from './maintenance.js';

/** Even with no notification (a lost LISTEN connection) the queue is looked at this often. */
const SAFETY_NET_MS = 10_000;
/** A rate-limited send waits in process up to this long; longer, it goes back to the queue. */
const MAX_RATE_WAIT_MS = 1000;
/**
 * A delivery over its webhook's in-flight cap waits in process when a slot is expected
 * this soon (and within a tenth of the lease it holds meanwhile), and goes back to the
 * queue if none came after twice as long.
 */
const MAX_SLOT_WAIT_MS = 1000;
/** How long an outcome may wait for others to share its statement. */
const FLUSH_DELAY_MS = 5;
/** Outcomes recorded per statement at most. */
const MAX_RECORD_BATCH = 1000;

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

export function createWorker(deps: WorkerDeps, opts: WorkerOptions = {}): Worker {
  const { db, config, metrics, log } = deps;
  const id = opts.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const dispatcher = opts.dispatcher ?? deliveryDispatcher(config);
  const secrets = createSecretCache(createSecretBox(config.encryptionKey));
  const endpoints = createEndpointCache(createSecretBox(config.encryptionKey), config);
  const limiter = createRateLimiter();
  const idlePollMs = opts.idlePollMs ?? SAFETY_NET_MS;
  const slotWaitMs = Math.min(MAX_SLOT_WAIT_MS, (config.leaseSeconds * 1000) / 10);
  const slots = createWebhookSlots({ cap: webhookCap(config), maxWaitMs: slotWaitMs });
  const batchSize = config.workerBatchSize;
  const concurrency = config.workerConcurrency;
  const stats = { claimed: 0, recorded: 0, inFlight: 0, deferred: 0 };
  const inflight = new Map<string, ClaimedDelivery>();
  const buffer: Outcome[] = [];

  let running = false;
  let closed = false; // after stop(): late results are dropped, their deliveries were released
  let woke = false;
  let waiting: { reason: 'room' | 'work'; done: () => void } | undefined;
  let timerAt = Infinity; // when the idle timer fires, if the loop sleeps on one
  let loopDone: Promise<void> = Promise.resolve();
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  // Record at once when half a claim's worth has come back.
  const flushAt = Math.max(1, Math.floor(batchSize / 2));
  let unlisten: (() => Promise<void>) | undefined;
  let stopMaintenance: (() => Promise<void>) | undefined;
  let stopping: Promise<void> | undefined;
  const roomWaiters = new Set<() => void>();
  /** Webhooks the last claim left out as busy. */
  let skipped = new Set<string>();

  const wake = () => {
    woke = true;
    waiting?.done();
  };
  const wakeAll =
    opts.wakeAll ??
    createWake(db, wake, (err) => log.warn({ err }, 'could not NOTIFY other workers'));

  function sleep(reason: 'room' | 'work', ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        waiting = undefined;
        timerAt = Infinity;
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(done, Math.max(0, Math.min(ms, idlePollMs)));
        timerAt = Date.now() + ms;
      }
      waiting = { reason, done };
    });
  }

  async function loop(): Promise<void> {
    let errors = 0;
    while (running) {
      const room = concurrency - inflight.size;
      // Claim in worthwhile batches: wait for half a batch of room unless nothing is in flight.
      if (room <= 0 || (inflight.size > 0 && room < Math.min(batchSize, concurrency) / 2)) {
        await sleep('room');
        continue;
      }
      const limit = Math.min(batchSize, room);
      woke = false;
      const claimStarted = new Date();
      // Webhooks with no room here are left out of the claim; the first of their requests to end
      // with room again wakes the loop (dispatch), so none waits for a poll.
      const claimRoom = slots.room(claimStarted.getTime());
      skipped = new Set(claimRoom.busy);
      let claimed: ClaimedDelivery[];
      try {
        claimed = await claimDeliveries(db, id, limit, config.leaseSeconds, claimRoom);
        errors = 0;
      } catch (err) {
        errors++;
        log.error({ err }, 'claiming deliveries failed; retrying');
        await sleep('work', Math.min(100 * 2 ** errors, 5000));
        continue;
      }
      stats.claimed += claimed.length;
      if (!running) {
        // Stopped while the claim ran: hand them straight back.
        await releaseClaims(db, id, claimed).catch((err) =>
          log.warn({ err }, 'could not release claims'),
        );
        break;
      }
      for (const c of claimed) dispatch(c);
      // A webhook that got all the room it had may have more rows due, and may have cut the claim short
      // of others' rows behind its own: claim again (without it if it is busy by then).
      if (claimed.length === limit || woke || tookAllRoom(claimRoom, claimed)) continue;
      let ms: number | undefined;
      try {
        ms = await msUntilNextDue(db, claimStarted, claimRoom.busy);
      } catch (err) {
        log.warn({ err }, 'could not read the next due time');
      }
      if (woke || !running || ms === 0) continue;
      await sleep('work', ms ?? idlePollMs);
    }
  }

  function dispatch(c: ClaimedDelivery): void {
    inflight.set(c.id, c);
    stats.inFlight = inflight.size;
    void attemptOne(c).then((outcome) => {
      inflight.delete(c.id);
      stats.inFlight = inflight.size;
      if (outcome.kind === 'deferred') stats.deferred++;
      if (!closed) enqueue(outcome);
      if (skipped.has(c.webhook_id) && !slots.isBusy(c.webhook_id, Date.now())) {
        skipped.delete(c.webhook_id);
        wake();
      }
      if (waiting?.reason === 'room') waiting.done();
      for (const r of roomWaiters) r();
    });
  }

  async function attemptOne(c: ClaimedDelivery): Promise<Outcome> {
    if (!c.is_active) return cancelled(c);
    // Over its webhook's cap a delivery is deferred without holding a slot: it leaves `inflight`
    // at once and the claim loop fills that room with other webhooks' work.
    const slot = await acquireSlot(c);
    if (slot instanceof Date) {
      metrics.deferrals.inc({ reason: 'webhook_concurrency' });
      return deferred(c, slot);
    }
    let durationMs: number | undefined;
    try {
      if (c.rate_limit_per_second) {
        const wait = limiter.reserve(c.webhook_id, c.rate_limit_per_second);
        if (wait > MAX_RATE_WAIT_MS) {
          limiter.refund(c.webhook_id);
          metrics.deferrals.inc({ reason: 'rate_limit' });
          return deferred(c, new Date(Date.now() + wait));
        }
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      let target: AttemptTarget = {
        url: c.url,
        timeoutSeconds: c.timeout_seconds,
        customHeaders: c.custom_headers,
        secrets: secrets.get(c),
        endpoint: endpoints.get(c),
      };
      let message: AttemptMessage = {
        eventId: c.event_id,
        eventType: c.event_type,
        createdAt: c.event_created_at,
        payloadText: c.payload_text,
        includeFields: c.include_fields,
      };
      if (c.transformation?.enabled) {
        const p = await prepareTransformed(c.transformation, target, message, config);
        if (p.kind === 'skip') return skippedByTransformation(c, p.result);
        if (p.kind === 'fail')
          return decide(c, p.result, { scale: config.retryDelayScale, random: opts.random });
        target = { ...target, url: p.url, customHeaders: p.headers };
        message = { ...message, body: p.body };
      }
      const result = await sendAttempt(target, message, {
        dispatcher,
        timeoutScale: config.timeoutScale,
      });
      durationMs = result.durationMs;
      metrics.attemptDuration.observe(result.durationMs / 1000);
      return decide(c, result, { scale: config.retryDelayScale, random: opts.random });
    } catch (err) {
      // Hookline's own problem (e.g. a sealed secret and no key): still a recorded, retried attempt.
      log.error({ err, delivery: c.id }, 'could not make a delivery attempt');
      return decide(c, internalFailure(err), {
        scale: config.retryDelayScale,
        random: opts.random,
      });
    } finally {
      slot.release(Date.now(), durationMs);
    }
  }

  /** One of the webhook's in-flight slots, or the time to hand the delivery back to the queue for. */
  async function acquireSlot(c: ClaimedDelivery): Promise<Slot | Date> {
    const a = slots.admit(c.webhook_id, Date.now());
    if (a.kind === 'send') return a.slot;
    if (a.kind === 'defer') return new Date(a.at);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), 2 * slotWaitMs)),
    );
    let slot = await Promise.race([a.granted, gaveUp]);
    clearTimeout(timer);
    if (!slot) {
      const at = a.cancel(Date.now());
      if (at !== undefined) return new Date(at);
      slot = await a.granted; // granted just as the wait ran out
    }
    if (!running) {
      // Stopped while it waited: hand it back rather than start a request now.
      slot.release(Date.now());
      return new Date();
    }
    return slot;
  }

  function enqueue(o: Outcome): void {
    buffer.push(o);
    if (flushing) return; // the running flush takes these too when it is done with its batch
    if (buffer.length >= flushAt) {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      void flush();
    } else {
      // A short wait lets outcomes gather into one statement: each statement has a fixed cost
      // (a round trip; on the embedded store a whole serialized query), whatever its size.
      flushTimer ??= setTimeout(() => {
        flushTimer = undefined;
        void flush();
      }, FLUSH_DELAY_MS);
    }
  }

  function flush(): Promise<void> {
    if (flushing) return flushing;
    if (buffer.length === 0) return Promise.resolve();
    const run = (async () => {
      try {
        while (buffer.length > 0) await recordBatch(buffer.splice(0, MAX_RECORD_BATCH));
        if (flushTimer) clearTimeout(flushTimer);
        flushTimer = undefined;
      } catch (err) {
        log.error({ err }, 'recording outcomes failed');
      } finally {
        flushing = undefined;
      }
    })();
    flushing = run;
    return run;
  }

  async function disable(list: Array<{ id: string; reason: string }>): Promise<DisabledWebhook[]> {
    if (list.length === 0) return [];
    try {
      const disabled = await db.transaction((tx) => disableWebhooks(tx, list));
      for (const w of disabled)
        log.warn({ webhook: w.id, reason: w.disabled_reason }, 'webhook disabled');
      return disabled;
    } catch (err) {
      log.error({ err }, 'could not disable webhooks');
      return [];
    }
  }

  async function recordBatch(batch: Outcome[]): Promise<void> {
    const onError = (err: unknown, o?: Outcome) =>
      log.error({ err, delivery: o?.delivery.id }, 'could not record a delivery outcome');
    // 410 first: the webhook is off and its queue cancelled before the delivery that saw the 410
    // leaves `sending`, so a fifo successor never slips out in between.
    const disabled = await disable(goneWebhooks(batch));
    const recorded = await recordOutcomesSafely(db, id, batch, onError);
    const applied = batch.filter((o) => recorded.has(o.delivery.id));
    stats.recorded += applied.length;
    for (const o of applied) if (o.kind !== 'deferred') metrics.deliveries.inc({ outcome: o.kind });
    if (applied.length === 0) return;

    let health: WebhookHealth[] = [];
    try {
      health = await updateWebhookHealth(db, applied, {
        failures: config.circuitFailures,
        maxSeconds: config.circuitMaxProbeSeconds,
        scale: config.retryDelayScale,
      });
    } catch (err) {
      log.error({ err }, 'could not update webhook health');
    }
    disabled.push(...(await disable(staleWebhooks(health, config.disableAfterDays))));
    const ops = operationalEvents(applied, health, disabled);
    if (
      ops.size > 0 &&
      (await publishOperational(db, ops, (err) =>
        log.error({ err }, 'could not publish an operational event'),
      )) > 0
    ) {
      wakeAll();
    }
    // A fifo head reached an outcome, or a circuit moved (closed: its queue goes at once; opened or
    // probed: the loops must learn the next probe time; docs/delivery-states.md, "Circuit breaker"):
    // the next in line may go, here or in another worker.
    if (
      applied.some((o) => o.delivery.ordering === 'fifo' || o.delivery.circuit_probe) ||
      health.some((h) => h.circuit_state !== h.old_circuit_state)
    )
      wakeAll();
    // A retry due before the idle timer: look again now so the timer is set right.
    else if (applied.some((o) => o.nextAttemptAt && o.nextAttemptAt.getTime() < timerAt)) wake();
  }

  return {
    id,
    stats,
    wake,
    async start() {
      if (running) return;
      running = true;
      // After the LISTEN connection was lost and came back, wakes NOTIFYed meanwhile were lost: look now.
      if (db.kind === 'postgres')
        unlisten = await db.listen(WAKE_CHANNEL, wake, { onReconnect: wake });
      if (opts.maintenance ?? true)
        stopMaintenance = startMaintenance({ db, config, metrics, log, wake });
      loopDone = loop().catch((err) => log.fatal({ err }, 'the delivery loop stopped'));
      log.info({ worker: id, batch: batchSize, concurrency }, 'delivery worker started');
    },
    stop({ drainMs = 10_000 } = {}) {
      stopping ??= (async () => {
        running = false;
        wake();
        await loopDone;
        await stopMaintenance?.();
        const deadline = Date.now() + drainMs;
        while (inflight.size > 0 && Date.now() < deadline) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
            const r = () => {
              clearTimeout(t);
              roomWaiters.delete(r);
              resolve();
            };
            roomWaiters.add(r);
          });
        }
        closed = true;
        await flush();
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
