/**
 * The executor: one attempt of one claimed delivery, start to outcome. It
 * cancels a delivery whose webhook was switched off, takes one of the
 * webhook's in-flight slots, waits out or defers for its rate limit, runs the
 * transformation, sends, and decides what the result means. It claims
 * nothing and records nothing: the producer hands it a claim, the recorder
 * takes its outcome.
 */
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Logger } from '../log.js';
import type { Transformation } from '../core/transformation.js';
import { createSecretBox } from '../core/secret-box.js';
import type { ClaimedDelivery } from '../queue/claim.js';
import { internalFailure, sendAttempt } from './send.js';
import type { AttemptMessage, AttemptOptions, AttemptResult, AttemptTarget } from './send.js';
import { cancelled, decide, deferred, skipped, type Outcome } from './decide.js';
import { prepareTransformed } from './transform-step.js';
import { createRateLimiter, MAX_RATE_WAIT_MS, type RateLimiter } from './rate-limit.js';
import type { Slot, WebhookSlots } from './webhook-slots.js';
import { createSecretCache } from './secrets.js';
import { createEndpointCache } from './endpoints.js';

/** The settling of a delivery whose webhook has no rate limit: nothing was counted. */
const NOTHING_EXPECTED = () => {};

/**
 * A delivery over its webhook's in-flight cap waits in process when a slot is expected
 * this soon (and within a tenth of the lease it holds meanwhile), and goes back to the
 * queue if none came after twice as long.
 */
const MAX_SLOT_WAIT_MS = 1000;

/** How long a delivery may wait in process for one of its webhook's slots (see MAX_SLOT_WAIT_MS). */
export const slotWaitMs = (config: Pick<Config, 'leaseSeconds'>): number =>
  Math.min(MAX_SLOT_WAIT_MS, (config.leaseSeconds * 1000) / 10);

/** The request an attempt made, or why none was made. */
export type Attempted =
  | { kind: 'sent'; result: AttemptResult }
  /** The transformation cancelled it: nothing was sent. */
  | { kind: 'skip'; result: AttemptResult }
  /** The transformation failed: a failed attempt, nothing was sent. */
  | { kind: 'fail'; result: AttemptResult };

/**
 * One request shaped like a delivery's (docs/routing.md): the webhook's
 * transformation, which may cancel or fail it, then the signed request. The
 * worker and the test send both make their attempts here. Rejects only for
 * Hookline's own problems (a transformation that could not run at all).
 */
export async function transformAndSend(
  transformation: Transformation | null | undefined,
  target: AttemptTarget,
  message: AttemptMessage,
  config: Config,
  send: AttemptOptions,
): Promise<Attempted> {
  if (transformation?.enabled) {
    const p = await prepareTransformed(transformation, target, message, config);
    if (p.kind !== 'send') return p;
    target = { ...target, url: p.url, customHeaders: p.headers };
    message = { ...message, body: p.body };
  }
  return { kind: 'sent', result: await sendAttempt(target, message, send) };
}

export interface ExecutorDeps {
  config: Config;
  metrics: Metrics;
  log: Logger;
  dispatcher: Dispatcher;
  slots: WebhookSlots;
  /** False once the worker stops: a delivery that waited for a slot meanwhile goes back unsent. */
  running: () => boolean;
  /** The webhooks' token buckets, shared with the producer's claim room (claim-room.ts). */
  limiter?: RateLimiter;
  /** Jitter source, for tests. */
  random?: () => number;
}

/** Runs one attempt of a claimed delivery; never rejects (a failed attempt is an outcome). */
export type Executor = (c: ClaimedDelivery) => Promise<Outcome>;

/** An executor with its own secret, endpoint and rate-limit state, kept across attempts. */
export function createExecutor(deps: ExecutorDeps): Executor {
  const { config, metrics, log, dispatcher, slots } = deps;
  const secrets = createSecretCache(createSecretBox(config.encryptionKey));
  const endpoints = createEndpointCache(createSecretBox(config.encryptionKey), config);
  const limiter = deps.limiter ?? createRateLimiter();
  const waitMs = slotWaitMs(config);
  const decideOpts = { scale: config.retryDelayScale, random: deps.random };

  /** One of the webhook's in-flight slots, or the time to hand the delivery back to the queue for. */
  async function acquireSlot(c: ClaimedDelivery): Promise<Slot | Date> {
    const a = slots.admit(c.webhook_id, Date.now());
    if (a.kind === 'send') return a.slot;
    if (a.kind === 'defer') return new Date(a.at);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), 2 * waitMs)),
    );
    let slot = await Promise.race([a.granted, gaveUp]);
    clearTimeout(timer);
    if (!slot) {
      const at = a.cancel(Date.now());
      if (at !== undefined) return new Date(at);
      slot = await a.granted; // granted just as the wait ran out
    }
    if (!deps.running()) {
      // Stopped while it waited: hand it back rather than start a request now.
      slot.release(Date.now());
      return new Date();
    }
    return slot;
  }

  async function execute(c: ClaimedDelivery): Promise<Outcome> {
    // Counted against the webhook's claim room until it has its token (or will not need one).
    const reserved = c.rate_limit_per_second
      ? limiter.expect(c.webhook_id, c.rate_limit_per_second)
      : NOTHING_EXPECTED;
    try {
      return await attempt(c, reserved);
    } finally {
      reserved();
    }
  }

  async function attempt(c: ClaimedDelivery, reserved: () => void): Promise<Outcome> {
    if (!c.is_active) return cancelled(c);
    // Over its webhook's cap a delivery is deferred without holding a slot: it leaves the
    // worker's in-flight set at once and the producer fills that room with other webhooks' work.
    const slot = await acquireSlot(c);
    if (slot instanceof Date) {
      metrics.deferrals.inc({ reason: 'webhook_concurrency' });
      return deferred(c, slot);
    }
    let durationMs: number | undefined;
    try {
      if (c.rate_limit_per_second) {
        const wait = limiter.reserve(c.webhook_id, c.rate_limit_per_second);
        reserved();
        if (wait > MAX_RATE_WAIT_MS) {
          limiter.refund(c.webhook_id);
          metrics.deferrals.inc({ reason: 'rate_limit' });
          return deferred(c, new Date(Date.now() + wait));
        }
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const target: AttemptTarget = {
        url: c.url,
        timeoutSeconds: c.timeout_seconds,
        customHeaders: c.custom_headers,
        secrets: secrets.get(c),
        endpoint: endpoints.get(c),
      };
      const message: AttemptMessage = {
        eventId: c.event_id,
        eventType: c.event_type,
        createdAt: c.event_created_at,
        payloadText: c.payload_text,
        includeFields: c.include_fields,
      };
      const a = await transformAndSend(c.transformation, target, message, config, {
        dispatcher,
        timeoutScale: config.timeoutScale,
      });
      if (a.kind === 'skip') return skipped(c, a.result);
      if (a.kind === 'sent') {
        durationMs = a.result.durationMs;
        metrics.attemptDuration.observe(a.result.durationMs / 1000);
      }
      return decide(c, a.result, decideOpts);
    } catch (err) {
      // Hookline's own problem (e.g. a sealed secret and no key): still a recorded, retried attempt.
      log.error({ err, delivery: c.id }, 'could not make a delivery attempt');
      return decide(c, internalFailure(err), decideOpts);
    } finally {
      slot.release(Date.now(), durationMs);
    }
  }

  return execute;
}
