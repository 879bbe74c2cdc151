/**
 * Delivery statistics for the dashboard: counts, success rate, attempts and
 * latency percentiles over a window, and a time series for charts. Plain
 * aggregate SQL that PGlite and PostgreSQL run alike (FILTER, percentile_cont).
 *
 * What is counted:
 * - deliveries created inside the window, test sends excepted (they are not traffic);
 * - latency: duration of the attempts started inside the window that got an answer
 *   (a refused connection takes 0 ms and a timeout takes the timeout: neither is the
 *   receiver's response time, and the failure counts show them already), test sends included.
 */
import type { Queryable } from './db.js';
import { idTime } from '../ids.js';
/** How far a delivery id's time may be from its created_at (clocks, a slow transaction). */
const ID_SLACK_MS = 10 * 60_000;

/**
 * The delivery ids that can belong to deliveries created between `since` and `now`: ids begin
 * with their creation time, so the range finds a window through the (org_id, id) and
 * (webhook_id, id) indexes; created_at stays the exact test. The id's time is the publisher's
 * clock and created_at the database's: ID_SLACK_MS covers the difference.
 */
export function deliveryIdRange(since: Date, now: Date): [low: string, high: string] {
  return [
    `dlv_${idTime(since.getTime() - ID_SLACK_MS)}`,
    `dlv_${idTime(now.getTime() + ID_SLACK_MS)}${'z'.repeat(16)}`,
  ];
}

export type StatsWindow = '1h' | '24h' | '7d' | '30d';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Each window and the bucket size of its series: between 48 and 60 buckets, on round boundaries. */
export const WINDOWS: Record<StatsWindow, { ms: number; bucketMs: number }> = {
  '1h': { ms: HOUR, bucketMs: MINUTE },
  '24h': { ms: 24 * HOUR, bucketMs: 30 * MINUTE },
  '7d': { ms: 7 * 24 * HOUR, bucketMs: 3 * HOUR },
  '30d': { ms: 30 * 24 * HOUR, bucketMs: 12 * HOUR },
};

export interface SeriesBucket {
  /** Start of the bucket (UTC, aligned to the bucket size since the epoch). */
  start: string;
  succeeded: number;
  failed: number;
  /** Every delivery created in the bucket, whatever its status. */
  total: number;
}

export interface Stats {
  window: StatsWindow;
  since: string;
  until: string;
  bucket_seconds: number;
  total: number;
  succeeded: number;
  failed: number;
  /** Not finished yet: pending, retrying or sending. */
  pending: number;
  /** succeeded / (succeeded + failed); null when nothing finished either way. */
  success_rate: number | null;
  /** Mean attempts of the deliveries that were tried at least once. */
  avg_attempts: number | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  series: SeriesBucket[];
}

export interface FailingWebhook {
  id: string;
  name: string;
  url: string;
  is_active: boolean;
  failure_count: number;
  first_failure_at: string | null;
  last_success_at: string | null;
  disabled_reason: string | null;
}

const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

/**
 * Statistics of one organization, or of one of its webhooks when `webhookId` is given, or of
 * one tenant's webhooks when `tenantId` is (docs/tenants.md).
 */
export async function computeStats(
  q: Queryable,
  orgId: string,
  window: StatsWindow,
  webhookId: string | null = null,
  now = new Date(),
  tenantId: string | null = null,
): Promise<Stats> {
  const { ms, bucketMs } = WINDOWS[window];
  const since = new Date(now.getTime() - ms);
  const ofTenant = `($5::text IS NULL OR webhook_id IN (SELECT w.id FROM webhooks w WHERE w.org_id = $1 AND w.tenant_id = $5))`;
  const scope = `org_id = $1 AND ($2::text IS NULL OR webhook_id = $2) AND ${ofTenant} AND created_at >= $3 AND created_at <= $4 AND NOT is_test`;
  const params = [orgId, webhookId, since, now, tenantId];
  const idRange = `id >= $7 AND id <= $8`;
  const ids = deliveryIdRange(since, now);

  // One pass over the window's deliveries, grouped by bucket; the totals are the sums of the
  // buckets. date_bin on the epoch keeps buckets on round boundaries (and is timestamp
  // arithmetic: numeric epoch maths was the slowest part of this query).
  const bucketsQuery = q.query<{
    start: Date;
    total: number;
    succeeded: number;
    failed: number;
    pending: number;
    tried: number;
    tries: number;
  }>(
    `SELECT date_bin(make_interval(secs => $6), created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS start,
            count(*)::int AS total,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status IN ('pending', 'sending'))::int AS pending,
            count(*) FILTER (WHERE attempts > 0)::int AS tried,
            coalesce(sum(attempts), 0)::int AS tries
       FROM deliveries WHERE ${scope} AND ${idRange}
      GROUP BY 1`,
    [...params, bucketMs / 1000, ...ids],
  );

  // Test sends are counted here: they measure the same receiver, and leaving them out
  // would need a join with deliveries that costs more than the whole rest.
  const latencyQuery = q.query<{ p50: number | null; p95: number | null; p99: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
       FROM delivery_attempts
      WHERE org_id = $1 AND ($2::text IS NULL OR webhook_id = $2) AND ${ofTenant}
        AND started_at >= $3 AND started_at <= $4 AND response_status IS NOT NULL`,
    params,
  );
  const [buckets, latency] = await Promise.all([bucketsQuery, latencyQuery]);

  const c = { total: 0, succeeded: 0, failed: 0, pending: 0, tried: 0, tries: 0 };
  const byBucket = new Map<number, (typeof buckets.rows)[number]>();
  for (const r of buckets.rows) {
    byBucket.set(new Date(r.start).getTime(), r);
    for (const k of Object.keys(c) as Array<keyof typeof c>) c[k] += r[k];
  }
  const series: SeriesBucket[] = [];
  // Every bucket of the window, empty ones too, so charts have a steady x axis.
  for (
    let b = Math.floor(since.getTime() / bucketMs);
    b <= Math.floor(now.getTime() / bucketMs);
    b++
  ) {
    const r = byBucket.get(b * bucketMs);
    series.push({
      start: new Date(b * bucketMs).toISOString(),
      succeeded: r?.succeeded ?? 0,
      failed: r?.failed ?? 0,
      total: r?.total ?? 0,
    });
  }

  const finished = c.succeeded + c.failed;
  const l = latency.rows[0];
  return {
    window,
    since: since.toISOString(),
    until: now.toISOString(),
    bucket_seconds: bucketMs / 1000,
    total: c.total,
    succeeded: c.succeeded,
    failed: c.failed,
    pending: c.pending,
    success_rate: finished === 0 ? null : c.succeeded / finished,
    // Deliveries never tried have 0 attempts and add nothing to `tries`.
    avg_attempts: c.tried === 0 ? null : Math.round((c.tries / c.tried) * 100) / 100,
    latency_ms: { p50: round1(l.p50), p95: round1(l.p95), p99: round1(l.p99) },
    series,
  };
}

/**
 * Webhooks of an organization that are failing now (consecutive failures) or that
 * Hookline disabled, worst first: disabled ones, then by failure count.
 */
export async function failingWebhooks(
  q: Queryable,
  orgId: string,
  limit = 20,
  tenantId: string | null = null,
): Promise<FailingWebhook[]> {
  const { rows } = await q.query<{
    id: string;
    name: string;
    url: string;
    is_active: boolean;
    failure_count: number;
    first_failure_at: Date | null;
    last_success_at: Date | null;
    disabled_reason: string | null;
  }>(
    `SELECT id, name, url, is_active, failure_count, first_failure_at, last_success_at, disabled_reason
       FROM webhooks
      WHERE org_id = $1 AND (failure_count > 0 OR disabled_reason IS NOT NULL)
        AND ($3::text IS NULL OR tenant_id = $3) AND deleted_at IS NULL
      ORDER BY (disabled_reason IS NULL), failure_count DESC, id
      LIMIT $2`,
    [orgId, limit, tenantId],
  );
  return rows.map((r) => ({
    ...r,
    first_failure_at: r.first_failure_at?.toISOString() ?? null,
    last_success_at: r.last_success_at?.toISOString() ?? null,
  }));
}
