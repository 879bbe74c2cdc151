/**
 * The delivery log: one row per HTTP attempt. Written by the worker (in
 * batches) and by the synchronous webhook test.
 */
import { newId } from '../ids.js';
import type { Queryable } from './db.js';
import { WRITE_HEADER_SETS, setsToWrite, splitRequestHeaders } from './request-headers.js';

export interface AttemptRecord {
  orgId: string;
  deliveryId: string;
  webhookId: string;
  /** 1-based number of this attempt for its delivery. */
  attempt: number;
  /** The delivery's event id and type: the headers that carry them are not stored again. */
  eventId?: string;
  eventType?: string;
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  error: string | null;
  errorDetail?: string | null;
}

/** Stores one attempt; returns its id (`att_…`). */
export async function insertAttempt(q: Queryable, a: AttemptRecord): Promise<string> {
  const ids = await insertAttempts(q, [a]);
  return ids[0];
}

/**
 * Stores many attempts in one statement (the worker's completion path): one
 * round trip per batch instead of one per delivery.
 */
export async function insertAttempts(q: Queryable, list: AttemptRecord[]): Promise<string[]> {
  if (list.length === 0) return [];
  const ids = list.map((a) => newId('att', a.startedAt.getTime()));
  // The headers every attempt of the webhook repeats go to a shared set (request-headers.ts).
  const split = list.map((a) => splitRequestHeaders(a.webhookId, a.requestHeaders, a));
  await q.query(
    `WITH ${WRITE_HEADER_SETS('$15')}
     INSERT INTO delivery_attempts
       (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms, request_headers,
        response_status, response_headers, response_body, error, error_detail, header_set)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::int[],
                          $8::jsonb[], $9::int[], $10::jsonb[], $11::text[], $12::text[], $13::text[], $14::text[])`,
    [
      ids,
      list.map((a) => a.orgId),
      list.map((a) => a.deliveryId),
      list.map((a) => a.webhookId),
      list.map((a) => a.attempt),
      list.map((a) => a.startedAt.toISOString()),
      list.map((a) => a.durationMs),
      split.map((h) => JSON.stringify(h.own)),
      list.map((a) => a.responseStatus),
      list.map((a) => (a.responseHeaders ? JSON.stringify(a.responseHeaders) : null)),
      list.map((a) => a.responseBody),
      list.map((a) => a.error),
      list.map((a) => a.errorDetail ?? null),
      split.map((h) => h.set.id),
      JSON.stringify(setsToWrite(split.map((h) => h.set))),
    ],
  );
  return ids;
}
