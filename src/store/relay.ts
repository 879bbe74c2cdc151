/**
 * Relay webhooks, for `hookline listen`: a webhook marked `relay` whose
 * deliveries a CLI claims through the API (with the worker's lease semantics:
 * status `sending`, `lease_expires_at`, `worker_id`) instead of the worker
 * sending them. The CLI makes the HTTP attempt to a local URL with the worker's
 * own sendAttempt and reports it here, where the worker's decide/recordOutcomes
 * record it like any attempt.
 */
import { newId } from '../ids.js';
import type { Db, Queryable } from './db.js';
import type { Logger } from '../log.js';
import type { WebhookRow } from './webhooks.js';
import { insertWebhook } from './webhooks.js';
import type { AttemptResult } from '../worker/send.js';
import { claimRelayRows } from '../queue/claim.js';
import { lockRelayClaim, recordOutcomes } from '../queue/record.js';
import { decide } from '../worker/decide.js';
import { followUp, RELAY_POLICY } from '../worker/follow-ups.js';

export type RelayWebhookRow = WebhookRow & { relay: boolean };

/** The name of the relay webhook of one `hookline listen` session. */
export const relayName = (session: string) => `hookline listen (${session})`;

/**
 * The relay webhook of a session, created or brought up to date (events,
 * secret, switched on): a CLI restarted with the same session and secret gets
 * the same webhook back.
 */
export async function upsertRelayWebhook(
  tx: Queryable,
  r: {
    orgId: string;
    session: string;
    events: string[];
    sealedSecret: string;
    keyId: string | null;
  },
): Promise<{ row: RelayWebhookRow; created: boolean }> {
  const name = relayName(r.session);
  const { rows } = await tx.query<RelayWebhookRow>(
    `UPDATE webhooks SET events = $3, secret = $4, previous_secrets = '[]', is_active = true, disabled_reason = NULL,
            failure_count = 0, first_failure_at = NULL, updated_at = now(), updated_by = $5
      WHERE org_id = $1 AND relay AND name = $2 RETURNING *`,
    [r.orgId, name, r.events, r.sealedSecret, r.keyId],
  );
  if (rows[0]) return { row: rows[0], created: false };
  const inserted = await insertWebhook(tx, {
    id: newId('wh'),
    orgId: r.orgId,
    name,
    url: `relay://${encodeURIComponent(r.session)}`,
    description: 'Deliveries relayed to a developer’s machine by `hookline listen`.',
    events: r.events,
    custom_headers: {},
    is_active: true,
    timeout_seconds: 30,
    retry_attempts: 3,
    retry_delay_seconds: 10,
    rate_limit_per_second: null,
    ordering: 'none',
    sealedSecret: r.sealedSecret,
    keyId: r.keyId,
  });
  const { rows: marked } = await tx.query<RelayWebhookRow>(
    'UPDATE webhooks SET relay = true WHERE id = $1 RETURNING *',
    [inserted.id],
  );
  return { row: marked[0], created: true };
}

export async function getRelayWebhook(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<RelayWebhookRow | undefined> {
  const { rows } = await q.query<RelayWebhookRow>(
    'SELECT * FROM webhooks WHERE org_id = $1 AND id = $2 AND relay',
    [orgId, id],
  );
  return rows[0];
}

/** A claimed delivery with what the CLI needs to send it. */
export interface RelayClaim {
  id: string;
  eventId: string;
  eventType: string;
  /** The number this attempt will have (attempts so far + 1). */
  attempt: number;
  createdAt: Date;
  payloadText: string;
}

/**
 * Claims up to `limit` due deliveries of one relay webhook (the queue's
 * claimRelayRows) with the events the CLI sends.
 */
export async function claimRelayDeliveries(
  tx: Queryable,
  webhookId: string,
  lease: string,
  leaseSeconds: number,
  limit: number,
): Promise<RelayClaim[]> {
  const rows = await claimRelayRows(tx, webhookId, lease, leaseSeconds, limit);
  if (rows.length === 0) return [];
  const { rows: events } = await tx.query<{ id: string; created_at: Date; payload_text: string }>(
    'SELECT id, created_at, payload::text AS payload_text FROM events WHERE id = ANY($1::text[])',
    [rows.map((r) => r.event_id)],
  );
  const byId = new Map(events.map((e) => [e.id, e]));
  return rows
    .filter((r) => byId.has(r.event_id))
    .map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type,
      attempt: r.attempts + 1,
      createdAt: byId.get(r.event_id)!.created_at,
      payloadText: byId.get(r.event_id)!.payload_text,
    }));
}

export type RelayOutcome = 'succeeded' | 'retrying' | 'failed';

/**
 * Records the attempt the CLI made and moves the delivery on with the worker's
 * own rules and statements (decide, recordOutcomes, then followUp under the
 * relay's policy, as the worker follows up its batches): 2xx succeeds;
 * otherwise a retry with backoff (or at the Retry-After of a 429/503) until
 * 1 + retry_attempts + manual_attempts attempts, then failed. Returns
 * undefined when the lease is no longer held (it expired and the delivery was
 * handed out again, or an admin changed it meanwhile).
 */
export async function completeRelayDelivery(
  db: Db,
  r: {
    webhookId: string;
    deliveryId: string;
    lease: string;
    result: AttemptResult;
    retryDelayScale: number;
    log: Pick<Logger, 'error' | 'warn'>;
    /** Wakes the workers (app.deps.wake). */
    wake: () => void;
  },
): Promise<{ outcome: RelayOutcome; attempt: number } | undefined> {
  // The claim stays locked until its outcome is recorded: a report sent twice records one attempt.
  const recorded = await db.transaction(async (tx) => {
    const claimed = await lockRelayClaim(tx, r.webhookId, r.deliveryId, r.lease);
    if (!claimed) return undefined;
    const outcome = decide(claimed, r.result, { scale: r.retryDelayScale });
    const updated = await recordOutcomes(tx, r.lease, [outcome]);
    return updated.has(claimed.id) ? outcome : undefined;
  });
  if (!recorded) return undefined;
  // The CLI's long-poll looks for retries falling due on its own: no timer to correct here.
  await followUp({ db, log: r.log, policy: RELAY_POLICY, wakeAll: r.wake, dueAt: () => {} }, [
    recorded,
  ]);
  return { outcome: recorded.kind as RelayOutcome, attempt: recorded.attempts };
}

/** Switches a relay webhook off when its CLI stops: no deliveries pile up while nobody listens. */
export async function stopRelayWebhook(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await q.query(
    'UPDATE webhooks SET is_active = false, updated_at = now() WHERE org_id = $1 AND id = $2 AND relay',
    [orgId, id],
  );
  return rowCount > 0;
}
