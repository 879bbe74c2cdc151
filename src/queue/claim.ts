/**
 * Claiming work (docs/delivery-states.md: `pending` → `sending`): due
 * deliveries are taken in batches with FOR UPDATE SKIP LOCKED and put under a
 * lease (`sending`), so any number of workers on one PostgreSQL share the
 * queue without sending a claimed delivery twice. The lease is all a claim
 * writes: the row stays `pending` in `state`, so no indexed column changes and
 * the update is HOT (sql/000103_hot_claim.sql). The pending rows are found
 * through the queue's own table (sql/000106_delivery_queue.sql), in due or seq
 * order, and every step below skips leased rows (`UNLEASED`); the update tests
 * the state again by key, for a row finished meanwhile. A lease that expires (its
 * worker died) is handed back by the reaper (release.ts). The relay's claim
 * (`hookline listen`) takes a relay webhook's rows under the same lease.
 */
import type { Queryable } from '../store/db.js';
import type { PreviousSecret } from '../store/webhooks.js';
import type { StoredEndpoint } from '../core/endpoint-security.js';
import type { ClaimRoom } from '../worker/webhook-slots.js';
import type { Transformation } from '../core/transformation.js';
import {
  CLAIMED_DELIVERY_COLUMNS,
  CLAIMED_WEBHOOK_COLUMNS,
  QUEUED,
  UNLEASED,
} from './statements.js';
import { RATE_CLAIM_SECONDS } from '../worker/rate-limit.js';

/** A room that bounds nothing (the claim's int parameters). */
const UNBOUNDED = 2 ** 31 - 1;

/** A claimed delivery's webhook, as it was when the delivery was claimed. */
export interface ClaimedWebhook {
  url: string;
  webhook_name: string;
  /** The webhook's tenant (null: the organization's own), for operational events. */
  tenant_id: string | null;
  is_active: boolean;
  timeout_seconds: number;
  retry_attempts: number;
  retry_delay_seconds: number;
  rate_limit_per_second: number | null;
  ordering: 'none' | 'fifo';
  custom_headers: Record<string, string>;
  secret: string;
  previous_secrets: PreviousSecret[];
  webhook_updated_at: Date;
  endpoint_security: StoredEndpoint;
  include_fields: string[] | null;
  transformation: Transformation | null;
}

/** A claimed delivery with everything needed to send it: no further reads on the hot path. */
export interface ClaimedDelivery extends ClaimedWebhook {
  id: string;
  org_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  /** Attempts made before this one. */
  attempts: number;
  manual_attempts: number;
  payload_text: string;
  event_created_at: Date;
  /** Claimed as its webhook's circuit probe (docs/delivery-states.md, "Circuit breaker"). */
  circuit_probe: boolean;
  /** Probes failed since the circuit opened, as the claim found it (sets the next probe's wait). */
  circuit_probes_failed: number;
}

/**
 * Three kinds of due work, probes first:
 * - probes (docs/delivery-states.md, "Circuit breaker"): a webhook whose circuit
 *   is open waits as a whole until its probe time; then one of its due deliveries
 *   (a fifo webhook's head) is claimed and the webhook turns half_open with the
 *   probe time moved to the end of the lease, in the same statement. The webhook
 *   row is locked before the delivery (SKIP LOCKED), so of several workers only
 *   one probes: the others skip the locked row, and one that reaches it after the
 *   commit re-reads it (READ COMMITTED) and finds the probe time moved on. A probe whose worker
 *   dies is not stuck: when the lease ends the probe time has come again.
 * - fifo webhooks: only the lowest-seq non-terminal delivery may be claimed.
 *   One index probe per fifo webhook finds its head; the head is claimable
 *   when it is unleased and due. While it is being sent (leased) or waits
 *   for its retry (`pending`, not yet due) nothing behind it qualifies. After
 *   the lock the lease is checked again, so two workers that both saw the
 *   same head cannot both take it.
 * - every other webhook (docs/delivery-states.md, "Claiming"): taken webhook by
 *   webhook, not row by row. `ready` walks the webhooks whose time has come
 *   (webhook_schedule, src/queue/schedule.ts), earliest first; fifo and relay
 *   webhooks, active webhooks whose circuit is not closed, and the ones this worker
 *   has no room for (`busy`: every slot taken, see webhook-slots.ts) are dropped
 *   there, as one row each, before any of their deliveries is read: a long line
 *   held behind a fifo head, an open circuit or a busy worker costs a claim the same
 *   with 10 rows or 100,000. A webhook with nothing due is not even walked once its
 *   time has been moved on. Of the rest, in that order, each gives its oldest due
 *   rows, as many as it has room for (a rate-limited webhook: at most RATE_CLAIM_SECONDS of its
 *   rate, src/worker/rate-limit.ts), until the batch is full. (An inactive
 *   webhook's deliveries are claimed only to be cancelled, so its circuit does not
 *   hold them.)
 * Relay webhooks (hookline listen) are sent by the CLI that claims them
 * through /relay, never by workers. What this worker could only hand back
 * stays in the queue, for another worker or a later claim.
 * `= ANY(ARRAY(…))` rather than a join on the CTE: the planner then walks the
 * primary key for the claimed ids instead of hashing the whole table. The probe
 * and head rows are found by primary key too.
 * The final join reads the webhook as the statement began, before `probed`
 * turned it half_open: a claimed row of an active webhook whose circuit was not
 * closed can only have come from `probe_rows`, which is what `circuit_probe` says.
 */
const CLAIM_SQL = `
WITH probe_cand AS (
  SELECT pw.id AS webhook_id, h.id
    FROM webhooks pw
   CROSS JOIN LATERAL (SELECT x.id, x.lease_expires_at, q.next_attempt_at FROM ${QUEUED('q', 'x')}
                        WHERE q.webhook_id = pw.id
                          AND (pw.ordering = 'fifo' OR (x.lease_expires_at IS NULL AND q.next_attempt_at <= now()))
                        ORDER BY q.webhook_id, q.seq LIMIT 1) h
   WHERE pw.circuit_state <> 'closed' AND pw.circuit_next_probe_at <= now() AND pw.is_active AND NOT pw.relay
     AND pw.id <> ALL($4::text[]) AND h.lease_expires_at IS NULL AND h.next_attempt_at <= now()
   ORDER BY pw.circuit_next_probe_at
   LIMIT $1
), probe_hooks AS (
  -- Locked only when there is something to probe with: an open webhook with nothing due is not
  -- written to (a row lock is a write) by every claim of every worker.
  SELECT pw.id
    FROM webhooks pw
   WHERE pw.id IN (SELECT webhook_id FROM probe_cand)
     AND pw.circuit_state <> 'closed' AND pw.circuit_next_probe_at <= now()
   FOR NO KEY UPDATE OF pw SKIP LOCKED
), probe_rows AS (
  SELECT d.id, d.webhook_id
    FROM deliveries d
   WHERE d.id = ANY(ARRAY(SELECT c.id FROM probe_cand c WHERE c.webhook_id IN (SELECT id FROM probe_hooks)))
     AND d.state = 'pending' AND d.lease_expires_at IS NULL
   FOR UPDATE OF d SKIP LOCKED
), probed AS (
  UPDATE webhooks w
     SET circuit_state = 'half_open', circuit_next_probe_at = now() + make_interval(secs => $2)
   WHERE w.id IN (SELECT webhook_id FROM probe_rows)
  RETURNING w.id
), heads AS (
  SELECT d.id
    FROM deliveries d
   WHERE d.id = ANY(ARRAY(SELECT h.id
                    FROM webhooks fw
                   CROSS JOIN LATERAL (SELECT q.delivery_id AS id, q.next_attempt_at FROM delivery_queue q
                                        WHERE q.webhook_id = fw.id
                                        ORDER BY q.webhook_id, q.seq LIMIT 1) h
                   WHERE fw.ordering = 'fifo' AND NOT fw.relay AND (fw.circuit_state = 'closed' OR NOT fw.is_active)
                     AND h.next_attempt_at <= now()))
     AND d.state = 'pending' AND d.lease_expires_at IS NULL
   FOR UPDATE OF d SKIP LOCKED
), ready AS (
  -- The webhooks whose time has come (webhook_schedule), in that order, that send on their own
  -- and have a due row: a probe of each one's oldest pending row, only for the webhooks that
  -- pass the checks on their two rows, and only until $1 are found (each gives at least its
  -- oldest row, unless another worker holds them all).
  SELECT s.webhook_id,
         LEAST(COALESCE((SELECT r.room FROM unnest($5::text[], $6::int[]) AS r(webhook_id, room)
                          WHERE r.webhook_id = s.webhook_id), $7),
               COALESCE(ow.rate_limit_per_second * ${RATE_CLAIM_SECONDS}, ${UNBOUNDED})) AS room
    FROM webhook_schedule s
    JOIN webhooks ow ON ow.id = s.webhook_id
   CROSS JOIN LATERAL (SELECT q.next_attempt_at AS head FROM ${QUEUED('q', 'x')}
                        WHERE q.webhook_id = s.webhook_id AND ${UNLEASED('x')}
                        ORDER BY q.webhook_id, q.next_attempt_at LIMIT 1) h
   WHERE s.claimable_at <= now() AND h.head <= now()
     AND ow.ordering <> 'fifo' AND NOT ow.relay AND (ow.circuit_state = 'closed' OR NOT ow.is_active)
     AND s.webhook_id <> ALL($4::text[])
   ORDER BY s.claimable_at
   LIMIT $1
), others AS (
  -- Webhook by webhook in that order, the oldest due rows each has room for, until $1: a nested
  -- loop that stops at the LIMIT, so rows are locked only as they are taken.
  SELECT o.id
    FROM ready rw
   CROSS JOIN LATERAL (SELECT d.id FROM ${QUEUED('q', 'd')}
                        WHERE q.webhook_id = rw.webhook_id AND q.next_attempt_at <= now()
                          AND ${UNLEASED('d')} AND d.next_attempt_at <= now()
                        ORDER BY q.webhook_id, q.next_attempt_at
                        LIMIT rw.room
                        FOR UPDATE OF d SKIP LOCKED) o
   LIMIT $1
), due AS (
  -- Probes and heads first, so a large backlog elsewhere never starves them. Rows locked here
  -- but cut by the LIMIT are simply unlocked when the statement ends.
  (SELECT id FROM probe_rows WHERE webhook_id IN (SELECT id FROM probed)
   UNION ALL SELECT id FROM heads
   UNION ALL SELECT id FROM others) LIMIT $1
), claimed AS (
  UPDATE deliveries d
     SET lease_expires_at = now() + make_interval(secs => $2), worker_id = $3, updated_at = now()
    FROM events e, webhooks w
   WHERE d.id = ANY(ARRAY(SELECT id FROM due)) AND d.state = 'pending' AND e.id = d.event_id AND w.id = d.webhook_id
  RETURNING ${CLAIMED_DELIVERY_COLUMNS},
            (w.circuit_state <> 'closed' AND w.is_active) AS circuit_probe, w.circuit_probes_failed
)
-- The webhook's columns on its first row only (claimDeliveries copies them to the rest): a batch
-- is mostly a few webhooks' rows, and their JSON columns cost more to send and parse than the rest.
SELECT d.*, ${CLAIMED_WEBHOOK_COLUMNS}
  FROM (SELECT c.*, row_number() OVER (PARTITION BY c.webhook_id) AS nth FROM claimed c) d
  LEFT JOIN webhooks w ON d.nth = 1 AND w.id = d.webhook_id`;

/** No per-webhook bound: what a worker without slots (tests, tools) passes. */
export const UNBOUNDED_ROOM: ClaimRoom = { busy: [], ids: [], rooms: [], fresh: UNBOUNDED };

/** Claims up to `limit` due deliveries for `workerId`, leased for `leaseSeconds`, within each webhook's `room`. */
export async function claimDeliveries(
  q: Queryable,
  workerId: string,
  limit: number,
  leaseSeconds: number,
  room: ClaimRoom = UNBOUNDED_ROOM,
): Promise<ClaimedDelivery[]> {
  const { text, values } = claimQuery(workerId, limit, leaseSeconds, room);
  const { rows } = await q.query<ClaimedDelivery & { nth?: number | string }>(text, values, {
    name: 'hookline_claim',
  });
  const webhooks = new Map<string, ClaimedDelivery>();
  for (const r of rows) if (Number(r.nth) === 1) webhooks.set(r.webhook_id, r);
  return rows.map((r) => {
    const w = webhooks.get(r.webhook_id)!;
    const { nth: _, ...delivery } = r;
    return r === w ? delivery : { ...delivery, ...webhookPart(w) };
  });
}

/** The columns CLAIMED_WEBHOOK_COLUMNS reads, taken from a claimed row that has them. */
function webhookPart(w: ClaimedWebhook): ClaimedWebhook {
  return {
    url: w.url,
    webhook_name: w.webhook_name,
    tenant_id: w.tenant_id,
    is_active: w.is_active,
    timeout_seconds: w.timeout_seconds,
    retry_attempts: w.retry_attempts,
    retry_delay_seconds: w.retry_delay_seconds,
    rate_limit_per_second: w.rate_limit_per_second,
    ordering: w.ordering,
    custom_headers: w.custom_headers,
    secret: w.secret,
    previous_secrets: w.previous_secrets,
    webhook_updated_at: w.webhook_updated_at,
    endpoint_security: w.endpoint_security,
    include_fields: w.include_fields,
    transformation: w.transformation,
  };
}

/** The claim's statement and parameters, for claimDeliveries and for EXPLAIN in tests. */
export function claimQuery(
  workerId: string,
  limit: number,
  leaseSeconds: number,
  room: ClaimRoom = UNBOUNDED_ROOM,
): { text: string; values: unknown[] } {
  return {
    text: CLAIM_SQL,
    values: [limit, leaseSeconds, workerId, room.busy, room.ids, room.rooms, room.fresh],
  };
}

/**
 * Milliseconds until the earliest pending delivery due after `since` (the
 * moment the last claim began), or the earliest circuit probe time after it,
 * or undefined when there is none. Rows due before `since` are left out: the
 * claim saw them and could not take them (fifo rows held behind their head,
 * rows locked by another worker), and counting them would spin the loop. A
 * retry that came due while the claim ran is counted (it reads as 0 ms: claim
 * again now), unless it is a `busy` webhook's, which the claim skipped: the
 * loop is woken when one has room. Rows held by an open circuit are left out
 * too: their webhook's probe time is what wakes the loop.
 */
export async function msUntilNextDue(
  q: Queryable,
  since: Date,
  busy: string[] = [],
): Promise<number | undefined> {
  const { text, values } = nextDueQuery(since, busy);
  const { rows } = await q.query<{ ms: number | null }>(text, values, {
    name: 'hookline_next_due',
  });
  const ms = rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Math.max(0, ms);
}

// A webhook whose time (webhook_schedule) has not come counts with that time: its rows are due no
// earlier. One whose time has come counts with its earliest row due after $1, one probe each.
// Neither when busy here, or held by an open circuit.
const NOT_WAITING = `s.webhook_id <> ALL($2::text[])
  AND s.webhook_id NOT IN (SELECT id FROM webhooks
                            WHERE circuit_state <> 'closed' AND circuit_next_probe_at > now() AND is_active)`;
const NEXT_DUE_SQL = `SELECT (extract(epoch FROM LEAST(
          (SELECT min(s.claimable_at) FROM webhook_schedule s
            WHERE s.claimable_at > now() AND s.claimable_at < 'infinity' AND ${NOT_WAITING}),
          (SELECT min(n.at) FROM webhook_schedule s
            CROSS JOIN LATERAL (SELECT q.next_attempt_at AS at FROM ${QUEUED('q', 'x')}
                                 WHERE q.webhook_id = s.webhook_id AND ${UNLEASED('x')} AND q.next_attempt_at > $1
                                 ORDER BY q.webhook_id, q.next_attempt_at LIMIT 1) n
            WHERE s.claimable_at <= now() AND ${NOT_WAITING}),
          (SELECT min(circuit_next_probe_at) FROM webhooks
            WHERE circuit_state <> 'closed' AND circuit_next_probe_at > $1 AND id <> ALL($2::text[]))
        ) - now()) * 1000)::float8 AS ms`;

/** msUntilNextDue's statement and parameters, for it and for EXPLAIN in tests. */
export function nextDueQuery(
  since: Date,
  busy: string[] = [],
): { text: string; values: unknown[] } {
  return { text: NEXT_DUE_SQL, values: [since.toISOString(), busy] };
}

/** A relay webhook's delivery as its claim returns it. */
export interface RelayClaimRow {
  id: string;
  event_id: string;
  event_type: string;
  attempts: number;
}

/**
 * Claims up to `limit` due deliveries of one relay webhook (`pending` →
 * `sending`, docs/delivery-states.md) in seq order: the worker's lease (until
 * `leaseSeconds` from now, `worker_id` = the lease token), taken with SKIP
 * LOCKED, so two API processes never hand out the same one.
 */
export async function claimRelayRows(
  tx: Queryable,
  webhookId: string,
  lease: string,
  leaseSeconds: number,
  limit: number,
): Promise<RelayClaimRow[]> {
  const { rows } = await tx.query<RelayClaimRow>(
    `WITH due AS (
       SELECT x.id FROM ${QUEUED('q', 'x')}
        WHERE q.webhook_id = $1 AND q.next_attempt_at <= now() AND ${UNLEASED('x')} AND x.next_attempt_at <= now()
        ORDER BY q.webhook_id, q.seq LIMIT $4 FOR UPDATE OF x SKIP LOCKED)
     UPDATE deliveries d
        SET lease_expires_at = now() + make_interval(secs => $3), worker_id = $2, updated_at = now()
       FROM due WHERE d.id = due.id AND d.state = 'pending'
     RETURNING d.id, d.event_id, d.event_type, d.attempts`,
    [webhookId, lease, leaseSeconds, limit],
  );
  return rows;
}
