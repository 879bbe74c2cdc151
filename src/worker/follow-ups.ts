/**
 * What follows the recording of a batch of outcomes, outside the claim loop:
 * webhooks that answered 410 Gone are disabled (before the batch is
 * recorded), then the webhooks' health and circuits move, webhooks failing
 * for too long are disabled, operational events are published, and workers
 * are woken when what was recorded lets more work go. The worker records
 * its batches through recordWithFollowUps; the relay, which records one
 * attempt under its own lock, runs followUp after it; each with its policy.
 */
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../log.js';
import type { Outcome } from './decide.js';
import { NO_CIRCUIT, updateWebhookHealth, type CircuitOptions } from './webhook-health.js';
import type { WebhookHealth } from './webhook-health.js';
import {
  disableWebhooks,
  goneWebhooks,
  operationalEvents,
  publishOperational,
  staleWebhooks,
  type DisabledWebhook,
} from './disable-and-announce.js';

/** What the follow-ups write through: a Db, or anything that runs statements and transactions like one. */
export type Store = Pick<Db, 'query' | 'transaction'>;

/** Which follow-ups apply to whose outcomes. */
export interface FollowUpPolicy {
  /** How webhooks' circuits open and probe (docs/delivery-states.md, "Circuit breaker"). */
  circuit: CircuitOptions;
  /** A webhook answering 410 Gone is disabled. */
  disableGone: boolean;
  /** A webhook whose every attempt failed for this many days is disabled; null: never. */
  disableAfterDays: number | null;
  /** Publish the operational events (hookline.delivery.exhausted and the webhook ones). */
  announce: boolean;
}

/** The worker's follow-ups: all of them, as configured. */
export function workerPolicy(
  config: Pick<
    Config,
    'circuitFailures' | 'circuitMaxProbeSeconds' | 'retryDelayScale' | 'disableAfterDays'
  >,
): FollowUpPolicy {
  return {
    circuit: {
      failures: config.circuitFailures,
      maxSeconds: config.circuitMaxProbeSeconds,
      scale: config.retryDelayScale,
    },
    disableGone: true,
    disableAfterDays: config.disableAfterDays,
    announce: true,
  };
}

/**
 * The relay's (`hookline listen`): health only. Relay webhooks have no circuit
 * (docs/delivery-states.md), and a developer's local server answering 410 or
 * failing must not switch off the session that forwards to it.
 */
export const RELAY_POLICY: FollowUpPolicy = {
  circuit: NO_CIRCUIT,
  disableGone: false,
  disableAfterDays: null,
  announce: false,
};

export interface FollowUpDeps {
  db: Store;
  log: Pick<Logger, 'error' | 'warn'>;
  policy: FollowUpPolicy;
  /** Wakes every worker: a fifo head finished, a circuit moved, operational events were queued. */
  wakeAll(): void;
  /** A retry is due at `at` (ms): this worker looks again if it would sleep past it. */
  dueAt(at: number): void;
}

async function disable(
  deps: FollowUpDeps,
  list: Array<{ id: string; reason: string }>,
): Promise<DisabledWebhook[]> {
  if (list.length === 0) return [];
  try {
    const disabled = await deps.db.transaction((tx) => disableWebhooks(tx, list));
    for (const w of disabled)
      deps.log.warn({ webhook: w.id, reason: w.disabled_reason }, 'webhook disabled');
    return disabled;
  } catch (err) {
    deps.log.error({ err }, 'could not disable webhooks');
    return [];
  }
}

/**
 * Records `batch` with `record` (which returns the outcomes applied) and runs
 * the follow-ups on what was applied; returns that.
 */
export async function recordWithFollowUps(
  deps: FollowUpDeps,
  batch: Outcome[],
  record: (batch: Outcome[]) => Promise<Outcome[]>,
): Promise<Outcome[]> {
  // 410 first: the webhook is off and its queue cancelled before the delivery that saw the 410
  // leaves `sending`, so a fifo successor never slips out in between.
  const disabled = deps.policy.disableGone ? await disable(deps, goneWebhooks(batch)) : [];
  const applied = await record(batch);
  if (applied.length > 0) await followUp(deps, applied, disabled);
  return applied;
}

/**
 * After `applied` was recorded: health and circuits, stale disabling, operational events
 * (with the webhooks `disabled` before recording), wakes. Logs its failures and goes on.
 */
export async function followUp(
  deps: FollowUpDeps,
  applied: Outcome[],
  disabled: DisabledWebhook[] = [],
): Promise<WebhookHealth[]> {
  const { policy, log } = deps;
  let health: WebhookHealth[] = [];
  try {
    health = await updateWebhookHealth(deps.db, applied, policy.circuit);
  } catch (err) {
    log.error({ err }, 'could not update webhook health');
  }
  if (policy.disableAfterDays !== null)
    disabled = [
      ...disabled,
      ...(await disable(deps, staleWebhooks(health, policy.disableAfterDays))),
    ];
  const ops = policy.announce ? operationalEvents(applied, health, disabled) : new Map();
  if (
    ops.size > 0 &&
    (await publishOperational(deps.db, ops, (err) =>
      log.error({ err }, 'could not publish an operational event'),
    )) > 0
  ) {
    deps.wakeAll();
  }
  // A fifo head reached an outcome, or a circuit moved (closed: its queue goes at once; opened or
  // probed: the loops must learn the next probe time; docs/delivery-states.md, "Circuit breaker"):
  // the next in line may go, here or in another worker.
  if (
    applied.some((o) => o.delivery.ordering === 'fifo' || o.delivery.circuit_probe) ||
    health.some((h) => h.circuit_state !== h.old_circuit_state)
  )
    deps.wakeAll();
  else {
    // A retry due before the idle timer: look again now so the timer is set right.
    const next = Math.min(...applied.map((o) => o.nextAttemptAt?.getTime() ?? Infinity));
    if (next < Infinity) deps.dueAt(next);
  }
  return health;
}
