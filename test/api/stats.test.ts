import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, createTestApp, type TestApp } from '../support/app.js';
import {
  seedAttempt,
  seedDelivery,
  seedWebhook,
  type DeliverySeed,
} from '../support/delivery-rows.js';

let t: TestApp;
let hookA: string;
let hookB: string;
let hookC: string;
/** Creation times of hook A's deliveries, to check the series bucket by bucket. */
const createdA: Date[] = [];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

async function delivery(
  hook: string,
  s: DeliverySeed,
  attempts: Array<[durationMs: number, status: number | null]> = [],
) {
  const id = await seedDelivery(t.db, t.org.orgId, hook, s);
  if (hook === hookA && !s.isTest) createdA.push(s.createdAt!);
  let n = 1;
  for (const [durationMs, responseStatus] of attempts) {
    await seedAttempt(t.db, t.org.orgId, hook, id, {
      attempt: n++,
      durationMs,
      responseStatus,
      error: responseStatus === null ? 'timeout' : null,
      startedAt: s.createdAt,
    });
  }
}

beforeAll(async () => {
  t = await createTestApp();
  const { orgId } = t.org;
  hookA = await seedWebhook(t.db, orgId, { name: 'a' });
  hookB = await seedWebhook(t.db, orgId, { name: 'b', failureCount: 3 });
  hookC = await seedWebhook(t.db, orgId, { name: 'c', isActive: false, failureCount: 1 });
  await t.db.query(`UPDATE webhooks SET disabled_reason = 'answered 410 Gone' WHERE id = $1`, [
    hookC,
  ]);

  // Inside the last hour.
  await delivery(hookA, { status: 'succeeded', attempts: 1, createdAt: minutesAgo(10) }, [
    [100, 200],
  ]);
  await delivery(hookA, { status: 'succeeded', attempts: 3, createdAt: minutesAgo(20) }, [
    [5000, null],
    [300, 500],
    [200, 200],
  ]);
  await delivery(hookA, { status: 'failed', attempts: 6, createdAt: minutesAgo(30) }, [[400, 500]]);
  await delivery(hookA, { status: 'pending', attempts: 0, createdAt: minutesAgo(5) });
  await delivery(hookA, { status: 'pending', attempts: 2, createdAt: minutesAgo(40) }, [[50, 503]]);
  await delivery(
    hookA,
    { status: 'succeeded', attempts: 1, isTest: true, createdAt: minutesAgo(15) },
    [[250, 200]],
  );
  await delivery(hookB, { status: 'succeeded', attempts: 1, createdAt: minutesAgo(25) }, [
    [600, 200],
  ]);
  // Inside 24 hours, and inside 7 days.
  await delivery(hookA, { status: 'succeeded', attempts: 1, createdAt: minutesAgo(180) }, [
    [1000, 200],
  ]);
  await delivery(hookA, { status: 'failed', attempts: 6, createdAt: minutesAgo(3 * 24 * 60) });
  // Outside every window.
  await delivery(hookA, { status: 'failed', attempts: 6, createdAt: minutesAgo(40 * 24 * 60) }, [
    [7, 500],
  ]);
});
afterAll(async () => t?.close());

const stats = async (path: string) => {
  const res = await t.org.admin('GET', path);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

describe('webhook stats', () => {
  it('counts the last hour by hand: test sends and older deliveries left out of the counts', async () => {
    const s = await stats(`/webhooks/${hookA}/stats?window=1h`);
    expect(s).toMatchObject({
      window: '1h',
      bucket_seconds: 60,
      total: 5,
      succeeded: 2,
      failed: 1,
      pending: 2,
      // attempts of the tried ones: 1, 3, 6, 2
      avg_attempts: 3,
      // answered attempts: 50, 100, 200, 250 (the test send's), 300, 400; the timeout had no answer
      latency_ms: { p50: 225, p95: 375, p99: 395 },
    });
    expect(s.success_rate).toBeCloseTo(2 / 3, 10);
  });

  it('widens with the window', async () => {
    const day = await stats(`/webhooks/${hookA}/stats?window=24h`);
    expect(day).toMatchObject({
      total: 6,
      succeeded: 3,
      failed: 1,
      pending: 2,
      avg_attempts: 2.6,
      bucket_seconds: 1800,
    });
    expect(day.latency_ms.p50).toBe(250);
    const week = await stats(`/webhooks/${hookA}/stats?window=7d`);
    expect(week).toMatchObject({
      total: 7,
      succeeded: 3,
      failed: 2,
      pending: 2,
      bucket_seconds: 3 * 3600,
    });
    expect(week.success_rate).toBeCloseTo(3 / 5, 10);
    const month = await stats(`/webhooks/${hookA}/stats?window=30d`);
    expect(month).toMatchObject({ total: 7, bucket_seconds: 12 * 3600 });
    expect(month.series).toHaveLength(61);
  });

  it('puts every delivery in the bucket of its creation time, empty buckets included', async () => {
    const s = await stats(`/webhooks/${hookA}/stats?window=1h`);
    expect(s.series).toHaveLength(61);
    const expected = new Map<string, number>();
    for (const c of createdA.filter((d) => d.getTime() > Date.now() - 3600_000)) {
      const start = new Date(Math.floor(c.getTime() / 60_000) * 60_000).toISOString();
      expected.set(start, (expected.get(start) ?? 0) + 1);
    }
    const got = new Map<string, number>(
      s.series.filter((b: any) => b.total > 0).map((b: any) => [b.start, b.total]),
    );
    expect(got).toEqual(expected);
    expect(s.series.reduce((n: number, b: any) => n + b.succeeded, 0)).toBe(2);
    expect(s.series.reduce((n: number, b: any) => n + b.failed, 0)).toBe(1);
    const starts = s.series.map((b: any) => new Date(b.start).getTime());
    expect(starts.every((x: number, i: number) => i === 0 || x - starts[i - 1] === 60_000)).toBe(
      true,
    );
  });

  it('answers zeros and nulls for a webhook with nothing in the window', async () => {
    const s = await stats(`/webhooks/${hookC}/stats?window=1h`);
    expect(s).toMatchObject({
      total: 0,
      succeeded: 0,
      failed: 0,
      pending: 0,
      success_rate: null,
      avg_attempts: null,
      latency_ms: { p50: null, p95: null, p99: null },
    });
  });

  it('defaults to 24h and refuses other windows', async () => {
    expect((await stats(`/webhooks/${hookA}/stats`)).window).toBe('24h');
    const bad = await t.org.admin('GET', `/webhooks/${hookA}/stats?window=2h`);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].field).toBe('window');
  });
});

describe('organization stats', () => {
  it('adds up every webhook of the organization and lists the failing ones, worst first', async () => {
    const s = await stats('/stats?window=1h');
    expect(s).toMatchObject({
      total: 6,
      succeeded: 3,
      failed: 1,
      pending: 2,
      latency_ms: { p50: 250 },
    });
    expect(s.success_rate).toBeCloseTo(3 / 4, 10);
    expect(s.failing_webhooks.map((w: any) => w.id)).toEqual([hookC, hookB]);
    expect(s.failing_webhooks[0]).toMatchObject({
      is_active: false,
      disabled_reason: 'answered 410 Gone',
      failure_count: 1,
    });
    expect(s.failing_webhooks[1]).toMatchObject({
      is_active: true,
      disabled_reason: null,
      failure_count: 3,
    });
  });
});

describe('roles and organizations', () => {
  it('lets viewers read stats, not publishers; another organization sees none of it', async () => {
    expect((await t.org.viewer('GET', '/stats')).status).toBe(200);
    expect((await t.org.viewer('GET', `/webhooks/${hookA}/stats`)).status).toBe(200);
    expect((await t.org.publisher('GET', '/stats')).status).toBe(403);
    expect((await t.org.publisher('GET', `/webhooks/${hookA}/stats`)).status).toBe(403);
    const other = await t.newOrg();
    expect((await other.admin('GET', `/webhooks/${hookA}/stats`)).status).toBe(404);
    const theirs = await other.admin('GET', '/stats?window=30d');
    expect(theirs.body).toMatchObject({ total: 0, failing_webhooks: [] });
  });
});

describe('many webhooks at once (GET /stats/webhooks)', () => {
  it('gives each webhook the counts of its own stats, in one call', async () => {
    const [day, a, b] = await Promise.all([
      stats(`/stats/webhooks?ids=${hookA},${hookB},${hookC},wh_unknown&window=24h`),
      stats(`/webhooks/${hookA}/stats?window=24h`),
      stats(`/webhooks/${hookB}/stats?window=24h`),
    ]);
    const byId = new Map(day.data.map((r: { webhook_id: string }) => [r.webhook_id, r]));
    // An unknown id is left out, not reported.
    expect([...byId.keys()].sort()).toEqual([hookA, hookB, hookC].sort());
    for (const [id, one] of [
      [hookA, a],
      [hookB, b],
    ]) {
      const { total, succeeded, failed, pending, success_rate, series } = one;
      expect(byId.get(id)).toMatchObject({ total, succeeded, failed, pending, success_rate });
      // The same buckets as the webhook's own stats (compared by start: the two calls' windows
      // end a few milliseconds apart, and may straddle a bucket boundary).
      const row = byId.get(id) as { series: Record<string, number[]> };
      const own = new Map(series.map((b: { start: string }) => [b.start, b]));
      const shared = day.buckets.filter((start: string) => own.has(start));
      expect(shared.length).toBeGreaterThanOrEqual(day.buckets.length - 1);
      for (const k of ['total', 'succeeded', 'failed']) {
        const mine = shared.map((start: string) => row.series[k][day.buckets.indexOf(start)]);
        const theirs = shared.map((start: string) => (own.get(start) as Record<string, number>)[k]);
        expect(mine).toEqual(theirs);
      }
    }
    expect(day.bucket_seconds).toBe(1800);
    expect(byId.get(hookC)).toMatchObject({ total: 0, success_rate: null });
    const week = await stats(`/stats/webhooks?ids=${hookA}&window=7d`);
    expect(week.data[0]).toMatchObject({ total: 7, succeeded: 3, failed: 2 });
  });

  it("refuses bad ids and too many; shows another organization's or tenant's none", async () => {
    expect((await t.org.admin('GET', '/stats/webhooks')).status).toBe(422);
    expect((await t.org.admin('GET', '/stats/webhooks?ids=a,,b')).status).toBe(422);
    expect((await t.org.admin('GET', "/stats/webhooks?ids=wh_1'--")).status).toBe(422);
    const many = Array.from({ length: 501 }, (_, i) => `wh_${i}`).join(',');
    const tooMany = await t.org.admin('GET', `/stats/webhooks?ids=${many}`);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error.details[0].field).toBe('ids');
    expect((await t.org.publisher('GET', `/stats/webhooks?ids=${hookA}`)).status).toBe(403);
    expect((await t.org.viewer('GET', `/stats/webhooks?ids=${hookA}`)).status).toBe(200);

    const other = await t.newOrg();
    const theirs = await other.admin('GET', `/stats/webhooks?ids=${hookA},${hookB}`);
    expect(theirs.body.data).toEqual([]);

    expect((await t.org.admin('PUT', '/tenants/totals-t', {})).status).toBe(201);
    await t.db.query(`UPDATE webhooks SET tenant_id = 'totals-t' WHERE id = $1`, [hookB]);
    const session = await t.org.admin('POST', '/tenants/totals-t/portal-sessions', {
      read_only: true,
    });
    expect(session.status).toBe(201);
    const portal = caller(t.app, session.body.token);
    const seen = await portal('GET', `/stats/webhooks?ids=${hookA},${hookB}`);
    expect(seen.status).toBe(200);
    expect(seen.body.data.map((r: { webhook_id: string }) => r.webhook_id)).toEqual([hookB]);
  });
});
