/**
 * The webhooks' health after a batch of outcomes: failure counts, last
 * success and trigger times, and the circuit, in one statement per batch
 * (the outcomes themselves are recorded by src/worker/recorder.ts). No
 * transaction per delivery: the hot path is a couple of round trips per
 * batch, whatever its size.
 */
import type { Queryable } from '../store/db.js';
import type { Outcome } from './decide.js';
import { probeWaitMs, type CircuitState, type ProbeWaitOptions } from '../core/circuit.js';

export interface WebhookHealth {
  id: string;
  org_id: string;
  name: string;
  url: string;
  tenant_id: string | null;
  is_active: boolean;
  failure_count: number;
  first_failure_at: Date | null;
  /** Before this batch. */
  old_failure_count: number;
  old_first_failure_at: Date | null;
  any_success: boolean;
  /** The circuit before and after this batch (docs/delivery-states.md, "Circuit breaker"). */
  old_circuit_state: CircuitState;
  old_circuit_since: Date | null;
  circuit_state: CircuitState;
  circuit_next_probe_at: Date | null;
}

interface HealthDelta {
  anySuccess: boolean;
  /** Failed attempts after the batch's last success (all of them when there was none). */
  fails: number;
  firstFail: Date | null;
  lastSuccess: Date | null;
  /** Null when the batch only has a probe that was never sent. */
  lastTriggered: Date | null;
  /** The batch holds this webhook's circuit probe. */
  probe: boolean;
  /** That probe made a request (it was not deferred, cancelled or skipped by the transformation). */
  probeSent: boolean;
  /** Probes failed before this one, as its claim found the webhook. */
  probesFailed: number;
  retryDelaySeconds: number;
}

const emptyDelta = (o: Outcome): HealthDelta => ({
  anySuccess: false,
  fails: 0,
  firstFail: null,
  lastSuccess: null,
  lastTriggered: null,
  probe: false,
  probeSent: false,
  probesFailed: 0,
  retryDelaySeconds: o.delivery.retry_delay_seconds,
});

const sentRequest = (o: Outcome) => o.result !== undefined && o.kind !== 'skipped';

/** Per webhook, what a batch of attempts changes, in the order the attempts started. */
export function healthDeltas(outcomes: Outcome[]): Map<string, HealthDelta> {
  const byHook = new Map<string, HealthDelta>();
  const deltaOf = (o: Outcome) => {
    let h = byHook.get(o.delivery.webhook_id);
    if (!h) byHook.set(o.delivery.webhook_id, (h = emptyDelta(o)));
    return h;
  };
  // A probe that went out unsent still has to hand its webhook's probe back.
  for (const o of outcomes) {
    if (!o.delivery.circuit_probe) continue;
    const h = deltaOf(o);
    h.probe = true;
    h.probeSent ||= sentRequest(o);
    h.probesFailed = o.delivery.circuit_probes_failed;
  }
  // A delivery its transformation skipped says nothing about the receiver's health.
  const sent = outcomes
    .filter(sentRequest)
    .sort((a, b) => a.result!.startedAt.getTime() - b.result!.startedAt.getTime());
  for (const o of sent) {
    const at = o.result!.startedAt;
    const h = deltaOf(o);
    h.lastTriggered = at;
    if (o.result!.ok) {
      h.anySuccess = true;
      h.lastSuccess = at;
      h.fails = 0;
      h.firstFail = null;
    } else {
      h.fails++;
      h.firstFail ??= at;
    }
  }
  return byHook;
}

/** What opens a circuit and how long it waits (see docs/delivery-states.md, "Circuit breaker"). */
export interface CircuitOptions extends ProbeWaitOptions {
  /** config.circuitFailures: failed attempts in a row that open it (0: never), unless the webhook sets its own. */
  failures: number;
  /** For tests: the clock the probe times are computed from. */
  now?: number;
}

/** What the relay passes: relay webhooks (hookline listen) have no circuit, their CLI forwards to a local URL. */
export const NO_CIRCUIT: CircuitOptions = { failures: 0, maxSeconds: 1 };

/**
 * Applies a batch's attempts to failure_count, first_failure_at,
 * last_success_at and last_triggered_at, and moves each webhook's circuit in
 * the same statement (docs/delivery-states.md, "Circuit breaker"):
 * - any success closes it;
 * - closed, it opens when failure_count reaches `failures`, its first probe due
 *   after one probe wait;
 * - not closed, the batch's probe re-opens it: after a longer wait when the probe
 *   failed, at once when the probe went out unsent (deferred, cancelled).
 * Other failures of a webhook whose circuit is open (deliveries already in
 * flight when it opened) leave its circuit as it is. The webhooks are locked in
 * id order so two workers updating overlapping sets cannot deadlock.
 */
export async function updateWebhookHealth(
  q: Queryable,
  outcomes: Outcome[],
  circuit: CircuitOptions = NO_CIRCUIT,
): Promise<WebhookHealth[]> {
  const deltas = healthDeltas(outcomes);
  if (deltas.size === 0) return [];
  const ids = [...deltas.keys()];
  const list = ids.map((id) => deltas.get(id)!);
  const now = circuit.now ?? Date.now();
  const probeAt = (probesFailed: number, d: HealthDelta) =>
    new Date(now + probeWaitMs(probesFailed, d.retryDelaySeconds, circuit)).toISOString();
  const { rows } = await q.query<WebhookHealth>(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::bool[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
                            $7::bool[], $8::bool[], $9::timestamptz[], $10::timestamptz[])
                AS u(id, any_success, fails, first_fail, last_success, last_triggered, probe, probe_sent, open_at, reopen_at)
     ), locked AS (
       SELECT w.id, w.failure_count AS old_failure_count, w.first_failure_at AS old_first_failure_at,
              w.circuit_state AS old_circuit_state, w.circuit_since AS old_circuit_since,
              CASE WHEN w.relay THEN 0 ELSE COALESCE(w.circuit_failures, $11::int) END AS opens_at
         FROM webhooks w WHERE w.id = ANY($1::text[]) ORDER BY w.id FOR NO KEY UPDATE
     ), n AS (
       SELECT u.*, l.old_failure_count, l.old_first_failure_at, l.old_circuit_state, l.old_circuit_since,
              CASE WHEN u.any_success THEN u.fails ELSE l.old_failure_count + u.fails END AS failure_count,
              CASE WHEN u.any_success THEN 'closed'
                   WHEN l.old_circuit_state = 'closed' AND l.opens_at > 0
                        AND l.old_failure_count + u.fails >= l.opens_at AND u.fails > 0 THEN 'open'
                   WHEN l.old_circuit_state <> 'closed' AND u.probe THEN 'open'
                   ELSE l.old_circuit_state END AS circuit_state
         FROM u JOIN locked l ON l.id = u.id
     )
     UPDATE webhooks w
        SET failure_count = n.failure_count,
            first_failure_at = CASE WHEN n.any_success THEN n.first_fail ELSE COALESCE(w.first_failure_at, n.first_fail) END,
            last_success_at = CASE WHEN n.any_success THEN GREATEST(w.last_success_at, n.last_success) ELSE w.last_success_at END,
            last_triggered_at = GREATEST(w.last_triggered_at, n.last_triggered),
            circuit_state = n.circuit_state,
            circuit_since = CASE WHEN (n.circuit_state = 'closed') <> (n.old_circuit_state = 'closed') THEN now()
                                 ELSE w.circuit_since END,
            circuit_next_probe_at = CASE WHEN n.circuit_state = 'closed' THEN NULL
                                         WHEN n.old_circuit_state = 'closed' THEN n.open_at
                                         WHEN n.probe AND n.probe_sent THEN n.reopen_at
                                         WHEN n.probe THEN now()
                                         ELSE w.circuit_next_probe_at END,
            circuit_probes_failed = CASE WHEN n.circuit_state = 'closed' OR n.old_circuit_state = 'closed' THEN 0
                                         WHEN n.probe AND n.probe_sent THEN w.circuit_probes_failed + 1
                                         ELSE w.circuit_probes_failed END
       FROM n
      WHERE w.id = n.id
     RETURNING w.id, w.org_id, w.name, w.url, w.tenant_id, w.is_active, w.failure_count, w.first_failure_at,
               n.old_failure_count, n.old_first_failure_at, n.any_success,
               n.old_circuit_state, n.old_circuit_since, w.circuit_state, w.circuit_next_probe_at`,
    [
      ids,
      list.map((d) => d.anySuccess),
      list.map((d) => d.fails),
      list.map((d) => d.firstFail?.toISOString() ?? null),
      list.map((d) => d.lastSuccess?.toISOString() ?? null),
      list.map((d) => d.lastTriggered?.toISOString() ?? null),
      list.map((d) => d.probe),
      list.map((d) => d.probeSent),
      list.map((d) => probeAt(0, d)),
      list.map((d) => probeAt(d.probesFailed + 1, d)),
      circuit.failures,
    ],
    // Run after every recorded batch: prepared once per connection (both stores).
    { name: 'hookline_webhook_health' },
  );
  return rows;
}
