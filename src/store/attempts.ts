/**
 * The delivery log: one row per HTTP attempt. Written by the worker (in
 * batches) and by the synchronous webhook test.
 */
import { newId } from '../ids.js';
import type { Queryable } from './db.js';

export interface AttemptRecord {
  orgId: string;
  deliveryId: string;
  webhookId: string;
  /** 1-based number of this attempt for its delivery. */
  attempt: number;
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
  await q.query(
    `INSERT INTO delivery_attempts
       (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms, request_headers,
        response_status, response_headers, response_body, error, error_detail)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::int[],
                          $8::jsonb[], $9::int[], $10::jsonb[], $11::text[], $12::text[], $13::text[])`,
    [
      ids,
      list.map((a) => a.orgId),
      list.map((a) => a.deliveryId),
      list.map((a) => a.webhookId),
      list.map((a) => a.attempt),
      list.map((a) => a.startedAt.toISOString()),
      list.map((a) => a.durationMs),
      list.map((a) => JSON.stringify(a.requestHeaders)),
      list.map((a) => a.responseStatus),
      list.map((a) => (a.responseHeaders ? JSON.stringify(a.responseHeaders) : null)),
      list.map((a) => a.responseBody),
      list.map((a) => a.error),
      list.map((a) => a.errorDetail ?? null),
    ],
  );
  return ids;
}
