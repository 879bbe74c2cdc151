/**
 * Recording outcomes: one statement per batch writes the attempts and the new
 * delivery states (UPDATE … FROM unnest), and one more the webhooks' health.
 * No transaction per delivery: the hot path is a couple of round trips per
 * batch, whatever its size.
 */
import type { Db, Queryable } from '../store/db.js';
import { newId } from '../ids.js';
import type { Outcome } from './decide.js';

/**
 * The delivery rows are updated only while this worker still holds them
 * under the claim the outcome belongs to (status sending, worker_id ours,
 * attempts as claimed): a delivery whose lease expired and was taken by
 * another worker, or that an admin retried meanwhile (a retry mid-send counts
 * the attempt in flight, so even a new claim by this same worker no longer
 * matches the old one), is left alone.
 * The attempt is logged either way (it happened) unless the delivery is gone:
 * its webhook was deleted while it was in flight, and its log went with it.
 * Only a delete that commits while this statement runs can still fail the
 * foreign key; recordOutcomesSafely then retries the batch row by row.
 * The rows are found by primary key (`= ANY(ARRAY(…))`, as in the claim), and
 * `COLLATE "C"` (same meaning for an equality) keeps the status test from
 * matching the lease index's predicate: otherwise the planner, whose
 * statistics see few `sending` rows, hashes every `sending` row through that
 * index. When a worker fell behind there were tens of thousands (EXPLAIN: 60 ms
 * for 60,000, then 620 ms with the array as a filter, against 1.5 ms by key),
 * so each record took longer and it fell further behind.
 */
const RECORD_SQL = `
WITH o AS (
  SELECT * FROM json_to_recordset($1::json)
           AS o(id text, claimed int, status text, attempts int, next_at timestamptz, code int, err text, attempted_at timestamptz)
), upd AS (
  UPDATE deliveries d
     SET status = o.status,
         attempts = o.attempts,
         next_attempt_at = COALESCE(o.next_at, d.next_attempt_at),
         lease_expires_at = NULL,
         worker_id = NULL,
         last_status_code = CASE WHEN o.attempted_at IS NULL THEN d.last_status_code ELSE o.code END,
         last_error = CASE WHEN o.attempted_at IS NULL THEN d.last_error ELSE o.err END,
         last_attempt_at = COALESCE(o.attempted_at, d.last_attempt_at),
         completed_at = CASE WHEN o.status IN ('succeeded', 'failed', 'cancelled', 'skipped') THEN now() END,
         updated_at = now()
    FROM o
   WHERE d.id = ANY(ARRAY(SELECT id FROM o)) AND d.id = o.id
     AND d.status = 'sending' COLLATE "C" AND d.worker_id = $2 AND d.attempts = o.claimed
  RETURNING d.id
), att AS (
  INSERT INTO delivery_attempts
    (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms, request_headers,
     response_status, response_headers, response_body, error, error_detail)
  SELECT a.id, a.org_id, a.delivery_id, a.webhook_id, a.attempt, a.started_at, a.duration_ms, a.request_headers,
         a.response_status, a.response_headers, a.response_body, a.error, a.error_detail
    FROM json_to_recordset($3::json)
         AS a(id text, org_id text, delivery_id text, webhook_id text, attempt int, started_at timestamptz, duration_ms int,
              request_headers jsonb, response_status int, response_headers jsonb, response_body text, error text, error_detail text)
   WHERE EXISTS (SELECT 1 FROM deliveries x WHERE x.id = a.delivery_id)
)
SELECT id FROM upd`;

/**
 * Writes a batch of outcomes; returns the ids of the deliveries whose state was updated.
 * The batch travels as two JSON documents: one JSON.stringify per batch on this
 * side and one C-speed parse on the server beat escaping twenty parallel arrays.
 */
export async function recordOutcomes(
  q: Queryable,
  workerId: string,
  outcomes: Outcome[],
): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const states = outcomes.map((o) => ({
    id: o.delivery.id,
    claimed: o.delivery.attempts,
    status: o.status,
    attempts: o.attempts,
    next_at: o.nextAttemptAt ?? null,
    code: o.result?.status ?? null,
    err: o.result?.error ?? null,
    attempted_at: o.result?.startedAt ?? null,
  }));
  const attempts = [];
  for (const o of outcomes) {
    const r = o.result;
    if (!r) continue;
    attempts.push({
      id: newId('att', r.startedAt.getTime()),
      org_id: o.delivery.org_id,
      delivery_id: o.delivery.id,
      webhook_id: o.delivery.webhook_id,
      attempt: o.attempts,
      started_at: r.startedAt,
      duration_ms: r.durationMs,
      request_headers: r.requestHeaders,
      response_status: r.status,
      response_headers: r.responseHeaders,
      response_body: r.responseBody,
      error: r.error,
      error_detail: r.errorDetail,
    });
  }
  const { rows } = await q.query<{ id: string }>(
    RECORD_SQL,
    [JSON.stringify(states), workerId, JSON.stringify(attempts)],
    { name: 'hookline_record' },
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Records a batch, and when the batch statement fails (one bad row, a webhook
 * deleted mid-flight), each outcome on its own, so one row never blocks the rest.
 * Outcomes that still fail stay `sending` and return to the queue when their lease expires.
 */
export async function recordOutcomesSafely(
  db: Db,
  workerId: string,
  outcomes: Outcome[],
  onError: (err: unknown, o?: Outcome) => void,
): Promise<Set<string>> {
  try {
    return await recordOutcomes(db, workerId, outcomes);
  } catch (err) {
    if (outcomes.length === 1) {
      onError(err, outcomes[0]);
      return new Set();
    }
    onError(err);
    const done = new Set<string>();
    for (const o of outcomes) {
      try {
        for (const id of await recordOutcomes(db, workerId, [o])) done.add(id);
      } catch (e) {
        onError(e, o);
      }
    }
    return done;
  }
}

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
}

interface HealthDelta {
  anySuccess: boolean;
  /** Failed attempts after the batch's last success (all of them when there was none). */
  fails: number;
  firstFail: Date | null;
  lastSuccess: Date | null;
  lastTriggered: Date;
}

/** Per webhook, what a batch of attempts changes, in the order the attempts started. */
export function healthDeltas(outcomes: Outcome[]): Map<string, HealthDelta> {
  const byHook = new Map<string, HealthDelta>();
  // A delivery its transformation skipped says nothing about the receiver's health.
  const sent = outcomes
    .filter((o) => o.result && o.kind !== 'skipped')
    .sort((a, b) => a.result!.startedAt.getTime() - b.result!.startedAt.getTime());
  for (const o of sent) {
    const at = o.result!.startedAt;
    let h = byHook.get(o.delivery.webhook_id);
    if (!h)
      byHook.set(
        o.delivery.webhook_id,
        (h = {
          anySuccess: false,
          fails: 0,
          firstFail: null,
          lastSuccess: null,
          lastTriggered: at,
        }),
      );
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

/**
 * Applies a batch's attempts to failure_count, first_failure_at,
 * last_success_at and last_triggered_at. The webhooks are locked in id order so
 * two workers updating overlapping sets cannot deadlock.
 */
export async function updateWebhookHealth(
  q: Queryable,
  outcomes: Outcome[],
): Promise<WebhookHealth[]> {
  const deltas = healthDeltas(outcomes);
  if (deltas.size === 0) return [];
  const ids = [...deltas.keys()];
  const list = ids.map((id) => deltas.get(id)!);
  const { rows } = await q.query<WebhookHealth>(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::bool[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[])
                AS u(id, any_success, fails, first_fail, last_success, last_triggered)
     ), locked AS (
       SELECT w.id, w.failure_count AS old_failure_count, w.first_failure_at AS old_first_failure_at
         FROM webhooks w WHERE w.id = ANY($1::text[]) ORDER BY w.id FOR NO KEY UPDATE
     )
     UPDATE webhooks w
        SET failure_count = CASE WHEN u.any_success THEN u.fails ELSE w.failure_count + u.fails END,
            first_failure_at = CASE WHEN u.any_success THEN u.first_fail ELSE COALESCE(w.first_failure_at, u.first_fail) END,
            last_success_at = CASE WHEN u.any_success THEN GREATEST(w.last_success_at, u.last_success) ELSE w.last_success_at END,
            last_triggered_at = GREATEST(w.last_triggered_at, u.last_triggered)
       FROM u, locked l
      WHERE w.id = u.id AND l.id = u.id
     RETURNING w.id, w.org_id, w.name, w.url, w.tenant_id, w.is_active, w.failure_count, w.first_failure_at,
               l.old_failure_count, l.old_first_failure_at, u.any_success`,
    [
      ids,
      list.map((d) => d.anySuccess),
      list.map((d) => d.fails),
      list.map((d) => d.firstFail?.toISOString() ?? null),
      list.map((d) => d.lastSuccess?.toISOString() ?? null),
      list.map((d) => d.lastTriggered.toISOString()),
    ],
  );
  return rows;
}
