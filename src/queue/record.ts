/**
 * Recording what happened to claimed deliveries (docs/delivery-states.md):
 * the batched outcome statement of the worker, which the relay shares, and
 * the relay's lock on the claim it reports. (A test send records its own
 * finished delivery: fan-out.ts, insertFinishedTestDelivery.)
 */
import type { Queryable } from '../store/db.js';
import { newId } from '../ids.js';
import type { Outcome } from '../worker/decide.js';
import type { ClaimedDelivery } from './claim.js';
import { CLAIMED_COLUMNS, TERMINAL_SQL } from './statements.js';
import {
  WRITE_HEADER_SETS,
  setsToWrite,
  splitRequestHeaders,
  type HeaderSet,
} from '../store/request-headers.js';

/**
 * The delivery rows are updated only while this worker still holds them
 * under the claim the outcome belongs to (pending under a lease with
 * worker_id ours, attempts as claimed): a delivery whose lease expired and was taken by
 * another worker, or that an admin retried meanwhile (a retry mid-send counts
 * the attempt in flight, so even a new claim by this same worker no longer
 * matches the old one), is left alone.
 * The attempt is logged either way (it happened) unless the delivery is gone:
 * its webhook was deleted while it was in flight, and its log went with it.
 * (No foreign key checks that, row by row: sql/000104_attempts_without_fk.sql.
 * Only a delete that commits while this statement runs can leave the attempt
 * without its delivery.)
 * The rows are found by primary key (`= ANY(ARRAY(…))`, as in the claim), whatever
 * the planner's statistics say of the pending rows: a plan that walked them all
 * (EXPLAIN, with the old lease index: 60 ms for 60,000 against 1.5 ms by key)
 * made each record slower as a worker fell behind, so it fell further behind.
 * An attempt's request headers are stored as its own (the signatures) and the name
 * of a set that every attempt of its webhook shares (src/store/request-headers.ts).
 */
const RECORD_SQL = `
WITH o AS (
  SELECT * FROM json_to_recordset($1::json)
           AS o(id text, claimed int, status text, attempts int, next_at timestamptz, code int, err text, attempted_at timestamptz)
), upd AS (
  UPDATE deliveries d
     SET state = o.status,
         attempts = o.attempts,
         next_attempt_at = COALESCE(o.next_at, d.next_attempt_at),
         lease_expires_at = NULL,
         worker_id = NULL,
         last_status_code = CASE WHEN o.attempted_at IS NULL THEN d.last_status_code ELSE o.code END,
         last_error = CASE WHEN o.attempted_at IS NULL THEN d.last_error ELSE o.err END,
         last_attempt_at = COALESCE(o.attempted_at, d.last_attempt_at),
         completed_at = CASE WHEN o.status IN ${TERMINAL_SQL} THEN now() END,
         updated_at = now()
    FROM o
   WHERE d.id = ANY(ARRAY(SELECT id FROM o)) AND d.id = o.id
     AND d.state = 'pending' AND d.worker_id = $2 AND d.attempts = o.claimed
  RETURNING d.id
), ${WRITE_HEADER_SETS('$4')}, att AS (
  INSERT INTO delivery_attempts
    (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms, request_headers, header_set,
     response_status, response_headers, response_body, error, error_detail)
  SELECT a.id, a.org_id, a.delivery_id, a.webhook_id, a.attempt, a.started_at, a.duration_ms, a.request_headers,
         a.header_set, a.response_status, a.response_headers, a.response_body, a.error, a.error_detail
    FROM json_to_recordset($3::json)
         AS a(id text, org_id text, delivery_id text, webhook_id text, attempt int, started_at timestamptz, duration_ms int,
              request_headers jsonb, header_set text, response_status int, response_headers jsonb, response_body text,
              error text, error_detail text)
   WHERE EXISTS (SELECT 1 FROM deliveries x WHERE x.id = a.delivery_id)
)
SELECT id FROM upd`;

/**
 * Records a batch of attempt outcomes (docs/delivery-states.md: `sending` →
 * `succeeded`, `failed`, `cancelled`, or back to `pending` with
 * `next_attempt_at` set) and logs their attempts; returns the ids of the deliveries whose state was updated.
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
  const sets: HeaderSet[] = [];
  for (const o of outcomes) {
    const r = o.result;
    if (!r) continue;
    const d = o.delivery;
    const { own, set } = splitRequestHeaders(d.webhook_id, r.requestHeaders, {
      eventId: d.event_id,
      eventType: d.event_type,
      startedAt: r.startedAt,
    });
    sets.push(set);
    attempts.push({
      id: newId('att', r.startedAt.getTime()),
      org_id: o.delivery.org_id,
      delivery_id: o.delivery.id,
      webhook_id: o.delivery.webhook_id,
      attempt: o.attempts,
      started_at: r.startedAt,
      duration_ms: r.durationMs,
      request_headers: own,
      header_set: set.id,
      response_status: r.status,
      response_headers: r.responseHeaders,
      response_body: r.responseBody,
      error: r.error,
      error_detail: r.errorDetail,
    });
  }
  const { rows } = await q.query<{ id: string }>(
    RECORD_SQL,
    [JSON.stringify(states), workerId, JSON.stringify(attempts), JSON.stringify(setsToWrite(sets))],
    { name: 'hookline_record' },
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Locks a relay delivery still leased to `lease` (status `sending`,
 * docs/delivery-states.md) and reads it as the worker's claim reads a
 * delivery, so the relay records its outcome with the worker's rules.
 * Undefined when the lease is no longer held.
 */
export async function lockRelayClaim(
  tx: Queryable,
  webhookId: string,
  deliveryId: string,
  lease: string,
): Promise<ClaimedDelivery | undefined> {
  const { rows } = await tx.query<ClaimedDelivery>(
    `SELECT ${CLAIMED_COLUMNS}, false AS circuit_probe, 0 AS circuit_probes_failed
       FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.id = $1 AND d.webhook_id = $2 AND d.status = 'sending' AND d.worker_id = $3 AND w.relay
        FOR UPDATE OF d`,
    [deliveryId, webhookId, lease],
  );
  return rows[0];
}
