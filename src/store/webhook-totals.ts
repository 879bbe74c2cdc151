/**
 * The window's delivery counts of many webhooks in one statement, for lists that show a
 * success rate and a small chart on every row (the admin UI's and the portal's webhook lists).
 * The same counts as computeStats in stats.ts (deliveries created in the window, test sends
 * excepted, buckets on the same boundaries), without latency, so a list of 50 webhooks costs
 * one query and one request instead of 50 of each.
 */
import type { Queryable } from './db.js';
import { deliveryIdRange, WINDOWS, type StatsWindow } from './stats.js';

export interface WebhookTotals {
  webhook_id: string;
  total: number;
  succeeded: number;
  failed: number;
  /** Not finished yet: pending, retrying or sending. */
  pending: number;
  /** succeeded / (succeeded + failed); null when nothing finished either way. */
  success_rate: number | null;
  /** Counts per bucket of the window, oldest first, aligned with WebhookTotalsPage.buckets. */
  series: { total: number[]; succeeded: number[]; failed: number[] };
}

export interface WebhookTotalsPage {
  since: string;
  until: string;
  bucket_seconds: number;
  /** Start of each bucket (UTC), oldest first. */
  buckets: string[];
  data: WebhookTotals[];
}

/**
 * Totals of the given webhooks of `orgId` (of `tenantId`'s only, when given). Ids of other
 * organizations or tenants, and unknown ones, are left out of the answer, not reported.
 */
export async function webhookTotals(
  q: Queryable,
  orgId: string,
  window: StatsWindow,
  webhookIds: string[],
  tenantId: string | null = null,
  now = new Date(),
): Promise<WebhookTotalsPage> {
  const { ms, bucketMs } = WINDOWS[window];
  const since = new Date(now.getTime() - ms);
  const first = Math.floor(since.getTime() / bucketMs);
  const last = Math.floor(now.getTime() / bucketMs);
  const buckets = Array.from({ length: last - first + 1 }, (_, i) =>
    new Date((first + i) * bucketMs).toISOString(),
  );
  const page = {
    since: since.toISOString(),
    until: now.toISOString(),
    bucket_seconds: bucketMs / 1000,
    buckets,
  };
  if (webhookIds.length === 0) return { ...page, data: [] };
  // The webhooks first (scope), then their deliveries by bucket, found by their id range.
  const { rows } = await q.query<{
    id: string;
    start: Date | null;
    total: number;
    succeeded: number;
    failed: number;
    pending: number;
  }>(
    `SELECT w.id, t.start, coalesce(t.total, 0) AS total, coalesce(t.succeeded, 0) AS succeeded,
            coalesce(t.failed, 0) AS failed, coalesce(t.pending, 0) AS pending
       FROM webhooks w
       LEFT JOIN (SELECT webhook_id,
                         date_bin(make_interval(secs => $8), created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS start,
                         count(*)::int AS total,
                         count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                         count(*) FILTER (WHERE status = 'failed')::int AS failed,
                         count(*) FILTER (WHERE status IN ('pending', 'sending'))::int AS pending
                    FROM deliveries
                   WHERE org_id = $1 AND webhook_id = ANY($2::text[]) AND NOT is_test
                     AND created_at >= $3 AND created_at <= $4 AND id >= $5 AND id <= $6
                   GROUP BY 1, 2) t ON t.webhook_id = w.id
      WHERE w.org_id = $1 AND w.id = ANY($2::text[]) AND w.deleted_at IS NULL
        AND ($7::text IS NULL OR w.tenant_id = $7)
      ORDER BY w.id`,
    [orgId, webhookIds, since, now, ...deliveryIdRange(since, now), tenantId, bucketMs / 1000],
  );
  const byId = new Map<string, WebhookTotals>();
  for (const r of rows) {
    let w = byId.get(r.id);
    if (!w) {
      const zeros = () => buckets.map(() => 0);
      w = {
        webhook_id: r.id,
        total: 0,
        succeeded: 0,
        failed: 0,
        pending: 0,
        success_rate: null,
        series: { total: zeros(), succeeded: zeros(), failed: zeros() },
      };
      byId.set(r.id, w);
    }
    if (r.start === null) continue;
    w.total += r.total;
    w.succeeded += r.succeeded;
    w.failed += r.failed;
    w.pending += r.pending;
    const i = Math.floor(new Date(r.start).getTime() / bucketMs) - first;
    if (i >= 0 && i < buckets.length) {
      w.series.total[i] += r.total;
      w.series.succeeded[i] += r.succeeded;
      w.series.failed[i] += r.failed;
    }
  }
  for (const w of byId.values()) {
    const finished = w.succeeded + w.failed;
    w.success_rate = finished === 0 ? null : w.succeeded / finished;
  }
  return { ...page, data: [...byId.values()] };
}
