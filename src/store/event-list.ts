/**
 * GET /events: one page of an organization's events, each with the outcome of its deliveries,
 * in one statement (docs/api.md, "Events").
 */
import { OPERATIONAL_PREFIX } from '../core/matching.js';
import type { Queryable } from './db.js';

/** How an event's deliveries stand, counted by the status the API shows (docs/delivery-states.md). */
export interface DeliveriesSummary {
  total: number;
  succeeded: number;
  failed: number;
  /** Queued, no attempt made yet. */
  pending: number;
  /** Queued again after a failed attempt (status pending with attempts > 0). */
  retrying: number;
  sending: number;
  cancelled: number;
  skipped: number;
}

/** An event as the events table holds it, as both adapters return it. */
export interface EventRow {
  id: string;
  tenant_id: string | null;
  event_type: string;
  payload: unknown;
  idempotency_key: string | null;
  created_at: Date;
}

/** One row of the list: the event and its deliveries' outcomes. */
export interface EventListRow extends EventRow {
  deliveries_summary: DeliveriesSummary;
}

export interface EventListFilter {
  /** Id of the last row of the previous page: older rows come next. */
  before?: string;
  eventType?: string;
  tenantId?: string;
  since?: string;
  until?: string;
  /** true: Hookline's own `hookline.*` events only; false: the application's only; absent: both. */
  operational?: boolean;
  limit: number;
}

/**
 * `limit + 1` events, newest first, on events_org_idx. The summary is a LATERAL aggregate under
 * the LIMIT, so it is computed for the rows returned only, each on deliveries_event_idx: one
 * statement, not one query per event.
 */
export async function listEvents(
  q: Queryable,
  orgId: string,
  f: EventListFilter,
): Promise<EventListRow[]> {
  const { rows } = await q.query<EventListRow>(
    `SELECT e.id, e.tenant_id, e.event_type, e.payload, e.idempotency_key, e.created_at,
            json_build_object(
              'total', s.total, 'succeeded', s.succeeded, 'failed', s.failed, 'pending', s.pending,
              'retrying', s.retrying, 'sending', s.sending, 'cancelled', s.cancelled, 'skipped', s.skipped
            ) AS deliveries_summary
       FROM events e
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS total,
                count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE d.status = 'failed')::int AS failed,
                count(*) FILTER (WHERE d.status = 'pending' AND d.attempts = 0)::int AS pending,
                count(*) FILTER (WHERE d.status = 'pending' AND d.attempts > 0)::int AS retrying,
                count(*) FILTER (WHERE d.status = 'sending')::int AS sending,
                count(*) FILTER (WHERE d.status = 'cancelled')::int AS cancelled,
                count(*) FILTER (WHERE d.status = 'skipped')::int AS skipped
           FROM deliveries d WHERE d.event_id = e.id
       ) s
      WHERE e.org_id = $1 AND ($2::text IS NULL OR e.id < $2) AND ($3::text IS NULL OR e.event_type = $3)
        AND ($4::timestamptz IS NULL OR e.created_at >= $4) AND ($5::timestamptz IS NULL OR e.created_at < $5)
        AND ($7::text IS NULL OR e.tenant_id = $7)
        AND ($8::boolean IS NULL OR starts_with(e.event_type, $9) = $8)
      ORDER BY e.id DESC LIMIT $6`,
    [
      orgId,
      f.before ?? null,
      f.eventType ?? null,
      f.since ?? null,
      f.until ?? null,
      f.limit + 1,
      f.tenantId ?? null,
      f.operational ?? null,
      OPERATIONAL_PREFIX,
    ],
  );
  return rows;
}
