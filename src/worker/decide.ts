/**
 * What an attempt's result means for its delivery. Pure: the clock, the
 * random source and the test time scale come in as arguments.
 */
import { nextAttemptDelayMs } from '../core/retry.js';
import type { AttemptResult } from './send.js';
import type { ClaimedDelivery } from '../queue/claim.js';

export type OutcomeKind =
  'succeeded' | 'retrying' | 'failed' | 'cancelled' | 'deferred' | 'skipped';

export interface Outcome {
  delivery: ClaimedDelivery;
  kind: OutcomeKind;
  /** The row's new status. */
  status: 'succeeded' | 'pending' | 'failed' | 'cancelled' | 'skipped';
  /** Attempts after this outcome (unchanged for cancelled and deferred: nothing was sent). */
  attempts: number;
  /** For `pending`: when to try again. */
  nextAttemptAt?: Date;
  /** The attempt made, if one was. */
  result?: AttemptResult;
  /** The attempt used up the delivery's budget (not set for 410). */
  exhausted?: boolean;
  /** The receiver answered 410 Gone: the webhook is to be disabled. */
  gone?: boolean;
}

export interface DecideOptions {
  now?: number;
  random?: () => number;
  /** config.retryDelayScale */
  scale?: number;
}

/**
 * After a failed attempt the delivery is exhausted when
 * attempts >= 1 + retry_attempts + manual_attempts (docs/delivery-states.md, "Attempt
 * budget": manual retries grant one attempt each on top of the webhook's policy).
 */
export function decide(
  d: ClaimedDelivery,
  result: AttemptResult,
  opts: DecideOptions = {},
): Outcome {
  const now = opts.now ?? Date.now();
  const attempts = d.attempts + 1;
  if (result.ok) return { delivery: d, kind: 'succeeded', status: 'succeeded', attempts, result };
  if (result.status === 410)
    return { delivery: d, kind: 'failed', status: 'failed', attempts, result, gone: true };
  if (attempts >= 1 + d.retry_attempts + d.manual_attempts) {
    return { delivery: d, kind: 'failed', status: 'failed', attempts, result, exhausted: true };
  }
  const delay = nextAttemptDelayMs({
    attempts,
    retryDelaySeconds: d.retry_delay_seconds,
    status: result.status ?? undefined,
    retryAfter: result.retryAfter,
    scale: opts.scale,
    now,
    random: opts.random,
  });
  return {
    delivery: d,
    kind: 'retrying',
    status: 'pending',
    attempts,
    result,
    nextAttemptAt: new Date(now + delay),
  };
}

/**
 * The webhook's transformation cancelled the delivery: it ends `skipped`, and
 * `result` (nothing sent, error transformation_cancelled) records why.
 */
export function skipped(d: ClaimedDelivery, result: AttemptResult): Outcome {
  return { delivery: d, kind: 'skipped', status: 'skipped', attempts: d.attempts + 1, result };
}

/** The webhook was switched off (or disabled) after this delivery was queued: it is not sent. */
export function cancelled(d: ClaimedDelivery): Outcome {
  return { delivery: d, kind: 'cancelled', status: 'cancelled', attempts: d.attempts };
}

/** Not sent now because of the webhook's rate limit: back to the queue for `at`, no attempt used. */
export function deferred(d: ClaimedDelivery, at: Date): Outcome {
  return {
    delivery: d,
    kind: 'deferred',
    status: 'pending',
    attempts: d.attempts,
    nextAttemptAt: at,
  };
}
