/**
 * Rows of the delivery log written straight with SQL, for tests that need a
 * log in an exact state (statuses, attempt counts, timestamps in the past)
 * that the API and the worker would take real time to produce.
 */
import { newId } from '../../src/ids.js';
import { generateSecret } from '../../src/core/signing.js';
import type { Queryable } from '../../src/store/db.js';
import type { AttemptResult } from '../../src/worker/send.js';

export interface WebhookSeed {
  url?: string;
  events?: string[];
  ordering?: 'none' | 'fifo';
  isActive?: boolean;
  secret?: string;
  retryAttempts?: number;
  retryDelaySeconds?: number;
  failureCount?: number;
  name?: string;
}

export async function seedWebhook(
  q: Queryable,
  orgId: string,
  s: WebhookSeed = {},
): Promise<string> {
  const id = newId('wh');
  await q.query(
    `INSERT INTO webhooks (id, org_id, name, url, events, ordering, is_active, secret, retry_attempts,
                           retry_delay_seconds, failure_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      id,
      orgId,
      s.name ?? 'seeded',
      s.url ?? 'http://127.0.0.1:9/hook',
      s.events ?? ['*'],
      s.ordering ?? 'none',
      s.isActive ?? true,
      s.secret ?? generateSecret(),
      s.retryAttempts ?? 5,
      s.retryDelaySeconds ?? 60,
      s.failureCount ?? 0,
    ],
  );
  return id;
}

export async function seedEvent(
  q: Queryable,
  orgId: string,
  eventType = 'ticket.created',
  opts: { createdAt?: Date; payload?: unknown } = {},
): Promise<string> {
  const id = newId('evt', opts.createdAt?.getTime());
  await q.query(
    `INSERT INTO events (id, org_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)`,
    [id, orgId, eventType, JSON.stringify(opts.payload ?? { n: 1 }), opts.createdAt ?? new Date()],
  );
  return id;
}

export interface DeliverySeed {
  status?: 'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
  attempts?: number;
  eventType?: string;
  createdAt?: Date;
  isTest?: boolean;
  nextAttemptAt?: Date;
  lastStatusCode?: number | null;
  lastError?: string | null;
}

/** An event and one delivery of it to `webhookId`; returns the delivery id. */
export async function seedDelivery(
  q: Queryable,
  orgId: string,
  webhookId: string,
  s: DeliverySeed = {},
): Promise<string> {
  const createdAt = s.createdAt ?? new Date();
  const eventType = s.eventType ?? 'ticket.created';
  const eventId = await seedEvent(q, orgId, eventType, { createdAt });
  const id = newId('dlv', createdAt.getTime());
  const status = s.status ?? 'pending';
  const terminal = !['pending', 'sending'].includes(status);
  await q.query(
    // `sending` is stored as `pending` under a lease (docs/delivery-states.md, "What is stored").
    `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, state, attempts, is_test, created_at,
                             next_attempt_at, last_status_code, last_error, last_attempt_at, completed_at,
                             lease_expires_at, worker_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      id,
      orgId,
      webhookId,
      eventId,
      eventType,
      status === 'sending' ? 'pending' : status,
      s.attempts ?? (status === 'pending' ? 0 : 1),
      s.isTest ?? false,
      createdAt,
      s.nextAttemptAt ?? createdAt,
      s.lastStatusCode ?? null,
      s.lastError ?? null,
      (s.attempts ?? 1) > 0 && status !== 'pending' ? createdAt : null,
      terminal ? createdAt : null,
      status === 'sending' ? new Date(Date.now() + 60_000) : null,
      status === 'sending' ? 'seeded-worker' : null,
    ],
  );
  return id;
}

export interface AttemptSeed {
  attempt: number;
  durationMs: number;
  responseStatus?: number | null;
  error?: string | null;
  startedAt?: Date;
  responseBody?: string;
}

export async function seedAttempt(
  q: Queryable,
  orgId: string,
  webhookId: string,
  deliveryId: string,
  a: AttemptSeed,
): Promise<string> {
  const startedAt = a.startedAt ?? new Date();
  // As the worker names it: the id starts with the time it started (retention reads it).
  const id = newId('att', startedAt.getTime());
  await q.query(
    `INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms,
                                    request_headers, response_status, response_headers, response_body, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      id,
      orgId,
      deliveryId,
      webhookId,
      a.attempt,
      startedAt,
      a.durationMs,
      JSON.stringify({ 'webhook-id': 'evt_x', 'content-type': 'application/json' }),
      a.responseStatus === undefined ? 200 : a.responseStatus,
      a.responseStatus === null ? null : JSON.stringify({ 'content-type': 'text/plain' }),
      a.responseBody ?? (a.responseStatus === null ? null : 'ok'),
      a.error ?? null,
    ],
  );
  return id;
}

/** Audit rows of one action, newest first. */
export async function auditRows(q: Queryable, orgId: string, action: string) {
  const { rows } = await q.query<{
    target_id: string;
    key_id: string;
    changes: Record<string, unknown> | null;
  }>(
    'SELECT target_id, key_id, changes FROM audit_log WHERE org_id = $1 AND action = $2 ORDER BY id DESC',
    [orgId, action],
  );
  return rows;
}

/** An attempt the receiver answered 200, for tests that record outcomes without sending. */
export const answered200: AttemptResult = {
  ok: true,
  startedAt: new Date(),
  durationMs: 3,
  requestHeaders: { 'webhook-id': 'evt_x' },
  status: 200,
  responseHeaders: {},
  responseBody: 'ok',
  error: null,
  errorDetail: null,
};
