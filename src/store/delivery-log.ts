/**
 * The read and operator side of deliveries: the delivery log with its filters,
 * one delivery with its attempts, and the operator's actions on the queue
 * (manual retry, replay, skip). The worker's claim/complete queries live in
 * src/worker; both sides share the contract of docs/delivery-states.md ("Manual retry").
 */
import type { Queryable } from './db.js';

export type DeliveryStatus =
  'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
/** The status the API shows: `retrying` is a pending delivery that has been tried before. */
export type ShownStatus = DeliveryStatus | 'retrying';

export const TERMINAL_STATUSES: readonly DeliveryStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
];
export const SHOWN_STATUSES: readonly ShownStatus[] = [
  'pending',
  'retrying',
  'sending',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
];

export interface DeliveryRow {
  id: string;
  org_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  manual_attempts: number;
  next_attempt_at: Date;
  lease_expires_at: Date | null;
  worker_id: string | null;
  is_test: boolean;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  completed_at: Date | null;
  seq: number;
  created_at: Date;
  updated_at: Date;
  /** Its webhook's tenant (read with the delivery; not a column of deliveries). */
  tenant_id?: string | null;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function shownStatus(row: Pick<DeliveryRow, 'status' | 'attempts'>): ShownStatus {
  return row.status === 'pending' && row.attempts > 0 ? 'retrying' : row.status;
}

/** The API shape of a delivery. */
export function toDeliveryJson(row: DeliveryRow) {
  const terminal = TERMINAL_STATUSES.includes(row.status);
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    tenant_id: row.tenant_id ?? null,
    event_id: row.event_id,
    event_type: row.event_type,
    status: shownStatus(row),
    attempts: row.attempts,
    // The column is never null (the queue index needs a value); a finished delivery has no next attempt.
    next_attempt_at: terminal ? null : iso(row.next_attempt_at),
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    last_attempt_at: iso(row.last_attempt_at),
    completed_at: iso(row.completed_at),
    is_test: row.is_test,
    created_at: row.created_at.toISOString(),
  };
}

export function toAttemptJson(row: AttemptRow) {
  return {
    id: row.id,
    attempt: row.attempt,
    started_at: row.started_at.toISOString(),
    duration_ms: row.duration_ms,
    request_headers: row.request_headers ?? {},
    response_status: row.response_status,
    response_headers: row.response_headers,
    response_body: row.response_body,
    error: row.error,
  };
}

export interface DeliveryFilter {
  webhookId?: string;
  /** A shown status: `pending` means never tried yet, `retrying` pending after a failed attempt. */
  status?: ShownStatus;
  eventType?: string;
  eventId?: string;
  /** created_at ≥ since */
  since?: Date;
  /** created_at < until */
  until?: Date;
  isTest?: boolean;
  /** The deliveries of this tenant's webhooks only (docs/tenants.md). */
  tenantId?: string;
  /** Keyset cursor: ids are time-ordered, so the next page is `id < before`. */
  before?: string;
  limit: number;
}

// The shown status as a predicate on the stored columns.
const statusPredicate = `(
  $3::text IS NULL
  OR ($3 = 'pending' AND status = 'pending' AND attempts = 0)
  OR ($3 = 'retrying' AND status = 'pending' AND attempts > 0)
  OR ($3 NOT IN ('pending', 'retrying') AND status = $3)
)`;

/** One page of an organization's deliveries, newest first; fetches `limit + 1` rows (see toPage). */
export async function listDeliveries(
  q: Queryable,
  orgId: string,
  f: DeliveryFilter,
): Promise<DeliveryRow[]> {
  const { rows } = await q.query<DeliveryRow>(
    `SELECT d.*, (SELECT w.tenant_id FROM webhooks w WHERE w.id = d.webhook_id) AS tenant_id
       FROM deliveries d
      WHERE org_id = $1
        AND ($2::text IS NULL OR webhook_id = $2)
        AND ${statusPredicate}
        AND ($4::text IS NULL OR event_type = $4)
        AND ($5::timestamptz IS NULL OR created_at >= $5)
        AND ($6::timestamptz IS NULL OR created_at < $6)
        AND ($7::boolean IS NULL OR is_test = $7)
        AND ($8::text IS NULL OR id < $8)
        AND ($10::text IS NULL OR event_id = $10)
        AND ($11::text IS NULL OR webhook_id IN (
          SELECT w.id FROM webhooks w WHERE w.org_id = $1 AND w.tenant_id = $11))
        -- A deleted tenant's webhooks are gone for the API at once, their deliveries too.
        AND webhook_id NOT IN (
          SELECT w.id FROM webhooks w WHERE w.org_id = $1 AND w.deleted_at IS NOT NULL)
      ORDER BY id DESC LIMIT $9`,
    [
      orgId,
      f.webhookId ?? null,
      f.status ?? null,
      f.eventType ?? null,
      f.since ?? null,
      f.until ?? null,
      f.isTest ?? null,
      f.before ?? null,
      f.limit + 1,
      f.eventId ?? null,
      f.tenantId ?? null,
    ],
  );
  return rows;
}

/** One delivery of one organization; undefined when it is not there (callers answer 404). */
export async function getDelivery(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<DeliveryRow | undefined> {
  const { rows } = await q.query<DeliveryRow>(
    `SELECT d.*, w.tenant_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.org_id = $1 AND d.id = $2 AND w.deleted_at IS NULL`,
    [orgId, id],
  );
  return rows[0];
}

/** Every attempt of one delivery, first to last. */
export async function listAttempts(q: Queryable, deliveryId: string): Promise<AttemptRow[]> {
  const { rows } = await q.query<AttemptRow>(
    `SELECT id, delivery_id, attempt, started_at, duration_ms, request_headers, response_status,
            response_headers, response_body, error
       FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, started_at`,
    [deliveryId],
  );
  return rows;
}

// Manual retry (docs/delivery-states.md, "Manual retry"): back in the queue now, with one more attempt in the worker's
// budget, and no lease, so any worker may take it at once. A delivery taken from a worker
// mid-send counts that attempt now: the worker logs it under the number it claimed
// (attempts + 1) but no longer owns the row to raise `attempts`, so the next send is numbered
// after it instead of repeating its number.
const REQUEUE_SET = `status = 'pending', next_attempt_at = now(), manual_attempts = manual_attempts + 1,
  attempts = attempts + CASE WHEN status = 'sending' THEN 1 ELSE 0 END,
  lease_expires_at = NULL, worker_id = NULL, completed_at = NULL, updated_at = now()`;

/** Queues one more attempt of a delivery now, whatever its status. Callers wake the worker. */
export async function requeueDelivery(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<DeliveryRow | undefined> {
  const { rows } = await q.query<DeliveryRow>(
    `UPDATE deliveries SET ${REQUEUE_SET} WHERE org_id = $1 AND id = $2 RETURNING *`,
    [orgId, id],
  );
  return rows[0];
}

export interface ReplayFilter {
  webhookId: string;
  since: Date;
  until?: Date;
  /** `failed`: only failed deliveries; `all`: every finished one (succeeded, failed, cancelled, skipped). */
  status: 'failed' | 'all';
  eventType?: string;
}

// Replay takes finished deliveries only: one still in the queue is already going out, and
// re-queueing a `sending` one would take it from the worker that holds it. Test sends are
// not traffic, so they are never replayed.
function replayWhere(first: number): string {
  const p = (n: number) => `$${first + n}`;
  return `webhook_id = ${p(0)} AND NOT is_test
    AND created_at >= ${p(1)} AND (${p(2)}::timestamptz IS NULL OR created_at < ${p(2)})
    AND (CASE WHEN ${p(3)} = 'failed' THEN status = 'failed'
              ELSE status IN ('succeeded', 'failed', 'cancelled', 'skipped') END)
    AND (${p(4)}::text IS NULL OR event_type = ${p(4)})`;
}

function replayParams(f: ReplayFilter): unknown[] {
  return [f.webhookId, f.since, f.until ?? null, f.status, f.eventType ?? null];
}

/** How many deliveries a replay would queue (the dry run). */
export async function countReplay(q: Queryable, f: ReplayFilter): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries WHERE ${replayWhere(1)}`,
    replayParams(f),
  );
  return rows[0].n;
}

/**
 * Re-queues the next batch of matching deliveries with ids above `afterId`, in id order,
 * and returns the last id it touched (undefined when nothing was left). Walking by id means
 * a delivery the worker fails again while the replay is still running is not queued twice.
 */
export async function requeueReplayBatch(
  q: Queryable,
  f: ReplayFilter,
  afterId: string | undefined,
  batchSize: number,
): Promise<{ count: number; lastId: string | undefined }> {
  const { rows } = await q.query<{ id: string }>(
    `UPDATE deliveries SET ${REQUEUE_SET}
      WHERE id IN (
        SELECT id FROM deliveries
         WHERE ${replayWhere(1)} AND ($6::text IS NULL OR id > $6)
         ORDER BY id LIMIT $7
         FOR UPDATE)
      RETURNING id`,
    [...replayParams(f), afterId ?? null, batchSize],
  );
  if (rows.length === 0) return { count: 0, lastId: undefined };
  const lastId = rows
    .map((r) => r.id)
    .sort()
    .at(-1);
  return { count: rows.length, lastId };
}

export type DeliveryWithWebhook = DeliveryRow & {
  ordering: 'none' | 'fifo';
  is_active: boolean;
  tenant_id: string | null;
};

/** The delivery with its webhook's ordering and state, locked for an operator action in `q`'s transaction. */
export async function lockDeliveryForAction(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<DeliveryWithWebhook | undefined> {
  const { rows } = await q.query<DeliveryWithWebhook>(
    `SELECT d.*, w.ordering, w.is_active, w.tenant_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.org_id = $1 AND d.id = $2 AND w.deleted_at IS NULL FOR UPDATE OF d`,
    [orgId, id],
  );
  return rows[0];
}

/** Marks a delivery skipped: finished, never sent again, so a fifo line moves on. */
export async function markSkipped(q: Queryable, id: string): Promise<DeliveryRow> {
  const { rows } = await q.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'skipped', completed_at = now(), lease_expires_at = NULL, worker_id = NULL,
            updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id],
  );
  return rows[0];
}
