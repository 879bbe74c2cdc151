/**
 * What the worker does to webhooks, and what it says about it: disabling a
 * webhook (410 Gone, or failing for too long) with its pending deliveries
 * cancelled, and the operational events hookline.webhook.disabled,
 * hookline.delivery.exhausted, hookline.webhook.recovered and
 * hookline.webhook.circuit_opened / circuit_closed, published into the
 * webhook's organization like any other event.
 */
import type { Db, Queryable } from '../store/db.js';
import { publishEvents, type PublishInput } from '../store/events.js';
import { recordAudit } from '../store/audit.js';
import { OPERATIONAL_PREFIX } from '../core/matching.js';
import type { Outcome } from './decide.js';
import type { WebhookHealth } from './webhook-health.js';
import { cancelPendingOfWebhooks } from '../queue/finish.js';

export interface DisabledWebhook {
  id: string;
  org_id: string;
  name: string;
  url: string;
  tenant_id: string | null;
  disabled_reason: string;
}

/**
 * Switches webhooks off with a reason and cancels their pending deliveries.
 * Only webhooks still active are touched, so each is reported once.
 */
export async function disableWebhooks(
  tx: Queryable,
  list: Array<{ id: string; reason: string }>,
): Promise<DisabledWebhook[]> {
  if (list.length === 0) return [];
  const { rows } = await tx.query<DisabledWebhook>(
    `UPDATE webhooks w SET is_active = false, disabled_reason = u.reason, updated_at = now()
       FROM unnest($1::text[], $2::text[]) AS u(id, reason)
      WHERE w.id = u.id AND w.is_active
      RETURNING w.id, w.org_id, w.name, w.url, w.tenant_id, w.disabled_reason`,
    [list.map((x) => x.id), list.map((x) => x.reason)],
  );
  if (rows.length === 0) return rows;
  await cancelPendingOfWebhooks(
    tx,
    rows.map((r) => r.id),
  );
  for (const r of rows) {
    await recordAudit(tx, {
      orgId: r.org_id,
      keyId: null,
      action: 'webhook.disabled',
      targetType: 'webhook',
      targetId: r.id,
      changes: { is_active: false, disabled_reason: r.disabled_reason },
    });
  }
  return rows;
}

/** Webhooks that answered 410 Gone in this batch: disabled at once. */
export function goneWebhooks(
  outcomes: Outcome[],
  now = Date.now(),
): Array<{ id: string; reason: string }> {
  const ids = new Set(outcomes.filter((o) => o.gone).map((o) => o.delivery.webhook_id));
  return [...ids].map((id) => ({
    id,
    reason: `The endpoint answered 410 Gone (${new Date(now).toISOString()}).`,
  }));
}

/** Webhooks whose every attempt has failed for `disableAfterDays`. */
export function staleWebhooks(
  health: WebhookHealth[],
  disableAfterDays: number,
  now = Date.now(),
): Array<{ id: string; reason: string }> {
  const limitMs = disableAfterDays * 24 * 3600 * 1000;
  return health
    .filter(
      (h) =>
        h.is_active &&
        !h.any_success &&
        h.first_failure_at &&
        now - h.first_failure_at.getTime() >= limitMs,
    )
    .map((h) => ({
      id: h.id,
      reason: `Every delivery failed for ${disableAfterDays} days (since ${h.first_failure_at!.toISOString()}).`,
    }));
}

const isOperational = (eventType: string) => eventType.startsWith(OPERATIONAL_PREFIX);

/**
 * The operational events of a batch, grouped by organization. Outcomes of
 * deliveries that were themselves operational events raise none: a failing
 * receiver of hookline.* events must not feed itself.
 */
export function operationalEvents(
  outcomes: Outcome[],
  health: WebhookHealth[],
  disabled: DisabledWebhook[],
): Map<string, PublishInput[]> {
  const byOrg = new Map<string, PublishInput[]>();
  const add = (orgId: string, input: PublishInput) => {
    const list = byOrg.get(orgId) ?? [];
    list.push(input);
    byOrg.set(orgId, list);
  };
  for (const o of outcomes) {
    if (!o.exhausted || isOperational(o.delivery.event_type)) continue;
    const d = o.delivery;
    add(d.org_id, {
      eventType: 'hookline.delivery.exhausted',
      payload: {
        delivery_id: d.id,
        webhook_id: d.webhook_id,
        webhook_name: d.webhook_name,
        tenant_id: d.tenant_id ?? null,
        event_id: d.event_id,
        event_type: d.event_type,
        attempts: o.attempts,
        last_status_code: o.result?.status ?? null,
        last_error: o.result?.error ?? null,
      },
    });
  }
  for (const w of disabled) {
    add(w.org_id, {
      eventType: 'hookline.webhook.disabled',
      payload: {
        webhook_id: w.id,
        webhook_name: w.name,
        tenant_id: w.tenant_id ?? null,
        url: w.url,
        reason: w.disabled_reason,
      },
    });
  }
  // Recovery counts only when the batch's success came from an application event.
  const appSuccess = new Set(
    outcomes
      .filter((o) => o.kind === 'succeeded' && !isOperational(o.delivery.event_type))
      .map((o) => o.delivery.webhook_id),
  );
  for (const h of health) {
    if (!h.any_success || h.old_failure_count === 0 || !appSuccess.has(h.id)) continue;
    add(h.org_id, {
      eventType: 'hookline.webhook.recovered',
      payload: {
        webhook_id: h.id,
        webhook_name: h.name,
        tenant_id: h.tenant_id ?? null,
        url: h.url,
        failed_attempts: h.old_failure_count,
        failing_since: h.old_first_failure_at?.toISOString() ?? null,
      },
    });
  }
  for (const h of health) {
    const wasClosed = h.old_circuit_state === 'closed';
    if (wasClosed === (h.circuit_state === 'closed')) continue;
    const webhook = {
      webhook_id: h.id,
      webhook_name: h.name,
      tenant_id: h.tenant_id ?? null,
      url: h.url,
    };
    add(
      h.org_id,
      wasClosed
        ? {
            eventType: 'hookline.webhook.circuit_opened',
            payload: {
              ...webhook,
              failed_attempts: h.failure_count,
              next_probe_at: h.circuit_next_probe_at?.toISOString() ?? null,
            },
          }
        : circuitClosedEvent(webhook, h.old_circuit_since, 'probe_succeeded'),
    );
  }
  return byOrg;
}

/**
 * hookline.webhook.circuit_closed: the worker's (a probe succeeded) or an admin's
 * (POST /webhooks/{id}/circuit/reset).
 */
export function circuitClosedEvent(
  webhook: { webhook_id: string; webhook_name: string; tenant_id: string | null; url: string },
  openedAt: Date | null,
  reason: 'probe_succeeded' | 'reset',
): PublishInput {
  return {
    eventType: 'hookline.webhook.circuit_closed',
    payload: { ...webhook, opened_at: openedAt?.toISOString() ?? null, reason },
  };
}

/** Publishes operational events, one transaction per organization; returns how many deliveries they made. */
export async function publishOperational(
  db: Pick<Db, 'transaction'>,
  byOrg: Map<string, PublishInput[]>,
  onError: (err: unknown) => void,
): Promise<number> {
  let deliveries = 0;
  for (const [orgId, inputs] of byOrg) {
    try {
      const published = await db.transaction((tx) => publishEvents(tx, orgId, inputs));
      deliveries += published.reduce((n, e) => n + e.deliveries, 0);
    } catch (err) {
      onError(err);
    }
  }
  return deliveries;
}
