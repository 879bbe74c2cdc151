/**
 * The read and operator side of deliveries: the delivery log with its filters,
 * one delivery with its attempts, and the operator's actions on the queue
 * (the lock an action takes; the transitions themselves, manual retry, replay and
 * skip, are the queue's, in src/queue/). Both follow docs/delivery-states.md.
 */
import type { Queryable } from './db.js';
import { joinRequestHeaders } from './request-headers.js';
import { TERMINAL_STATUSES, type DeliveryStatus } from '../queue/statements.js';

export { TERMINAL_STATUSES, type DeliveryStatus };
/** The status the API shows: `retrying` is a pending delivery that has been tried before. */
export type ShownStatus = DeliveryStatus | 'retrying';

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

/**
 * Every attempt of one delivery, first to last, with the request headers it sent put
 * together again from its row and its header set (src/store/request-headers.ts).
 */
export async function listAttempts(q: Queryable, deliveryId: string): Promise<AttemptRow[]> {
  const { rows } = await q.query<
    AttemptRow & {
      set_headers: Record<string, string> | null;
      set_derived: string[] | null;
      event_id: string | null;
      event_type: string | null;
    }
  >(
    `SELECT a.id, a.delivery_id, a.attempt, a.started_at, a.duration_ms, a.request_headers,
            a.response_status, a.response_headers, a.response_body, a.error,
            s.headers AS set_headers, s.derived AS set_derived, d.event_id, d.event_type
       FROM delivery_attempts a
       LEFT JOIN request_header_sets s ON s.id = a.header_set
       LEFT JOIN deliveries d ON d.id = a.delivery_id
      WHERE a.delivery_id = $1 ORDER BY a.attempt, a.started_at`,
    [deliveryId],
  );
  return rows.map(({ set_headers, set_derived, event_id, event_type, ...a }) => ({
    ...a,
    request_headers: joinRequestHeaders(
      a.request_headers,
      set_headers ? { headers: set_headers, derived: set_derived ?? [] } : null,
      {
        eventId: event_id ?? undefined,
        eventType: event_type ?? undefined,
        startedAt: a.started_at,
      },
    ),
  }));
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
