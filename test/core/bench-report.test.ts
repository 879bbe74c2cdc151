/**
 * The benchmark's report (bench/report.ts): which figure each target of the
 * delivery-engine redesign reads, and that results written before the latency
 * phase had several rates (one object) still render.
 */
import { describe, expect, it } from 'vitest';
import type { LatencyResult } from '../../bench/latency.js';
import type { StoreResult } from '../../bench/hookline-phases.js';
import type { SteadyResult } from '../../bench/steady.js';
import {
  latencyAt,
  latencyRates,
  ratiosFor,
  scaleOutTable,
  table,
  targetsFor,
  type Results,
} from '../../bench/report.js';

const steady = (perS: number, extra: Partial<SteadyResult> = {}): SteadyResult => ({
  deliveries_per_s: perS,
  window_s: 20,
  delivered_in_window: perS * 20,
  ...extra,
});

const lat = (rate: number, p99: number): LatencyResult => ({
  offered_events_per_s: rate,
  achieved_events_per_s: rate,
  samples: rate * 20,
  missing: 0,
  p50_ms: p99 / 4,
  p95_ms: p99 / 2,
  p99_ms: p99,
  max_ms: p99 * 2,
  publish_p99_ms: 1,
});

function results(pg: Partial<StoreResult>, lite?: Partial<StoreResult>): Results {
  const base: Omit<Results, 'hookline' | 'targets'> = {
    version: 1,
    started_at: '2026-12-02T08:00:00.000Z',
    finished_at: '2026-12-02T08:04:00.000Z',
    duration_s: 240,
    quick: true,
    machine: {
      cpu: 'test',
      cores: 2,
      memTotalMb: 1024,
      node: 'v20',
      kernel: 'test',
      postgres: '15',
      load_before: 0,
      load_after: 0,
    },
    plan: {},
    errors: {},
    ceiling: { ...steady(10_000), concurrency: 128 },
    pgboss: {
      version: '10',
      settings: { workers: 8, batchSize: 100, pollingIntervalSeconds: 0.5 },
      fanout_1: steady(1_000),
      fanout_10: steady(1_000),
      peak_rss_mb: 1,
    },
    bullmq: {
      version: '5',
      redis: '7',
      settings: { concurrency: 128, attempts: 3 },
      fanout_1: steady(4_000),
      fanout_10: steady(4_000),
      peak_rss_mb: 1,
    },
  };
  const withRatios = (s: Partial<StoreResult>, store: StoreResult['store']) => {
    const full: StoreResult = { store, errors: {}, ...s };
    return { ...full, ratios: ratiosFor(full, base) };
  };
  const hookline: Results['hookline'] = { postgres: withRatios(pg, 'postgres') };
  if (lite) hookline.pglite = withRatios(lite, 'pglite');
  return { ...base, hookline, targets: [] };
}

const byName = (r: Results) => new Map(targetsFor(r).map((t) => [t.name, t]));

describe('bench targets', () => {
  it('reads the p99 of each offered rate: 10, 100 and 1,000/s on PostgreSQL, 10 and 100/s embedded', () => {
    const r = results(
      { latency: [lat(10, 12), lat(100, 49), lat(1_000, 51)] },
      { latency: [lat(10, 60), lat(100, 40), lat(1_000, 9_000)] },
    );
    const t = byName(r);
    expect(t.get('postgres p99 publish→first attempt at 10/s')).toMatchObject({
      value: 12,
      met: true,
    });
    expect(t.get('postgres p99 publish→first attempt at 100/s')?.met).toBe(true);
    expect(t.get('postgres p99 publish→first attempt at 1,000/s')).toMatchObject({
      value: 51,
      met: false,
    });
    expect(t.get('embedded p99 publish→first attempt at 10/s')?.met).toBe(false);
    expect(t.get('embedded p99 publish→first attempt at 100/s')?.met).toBe(true);
    expect(t.has('embedded p99 publish→first attempt at 1,000/s')).toBe(false);
  });

  it('holds each store to the worse of its two fan-outs against each baseline', () => {
    const t = byName(results({ fanout_1: steady(9_000), fanout_10: steady(6_000) }));
    // 6,000 / 4,000 = 1.5× BullMQ (met); 6,000 / 1,000 = 6× pg-boss (met).
    expect(t.get('postgres vs BullMQ')).toMatchObject({ value: 1.5, met: true });
    expect(t.get('postgres vs pg-boss')).toMatchObject({ value: 6, met: true });
    expect(t.get('postgres fan-out 10')).toMatchObject({ value: 0.6, met: false });
    expect(t.get('postgres fan-out 1')).toMatchObject({ value: 0.9, met: true });
  });

  it('says "not measured" rather than judging on one fan-out when the other is missing', () => {
    const t = byName(results({ fanout_1: steady(9_000) }));
    expect(t.get('postgres vs BullMQ')).toMatchObject({ value: null, met: null });
  });

  it('passes isolation only when its window without the hanging webhook held up', () => {
    /** The isolation target of PostgreSQL, given fan-out 10 and the two isolation windows. */
    const judged = (fanout10: number, without: number, withHang: number) =>
      byName(
        results({
          fanout_10: steady(fanout10),
          isolation: {
            hang_timeout_s: 5,
            healthy_without: steady(without),
            healthy_with: steady(withHang),
            ratio: withHang / without,
            hung_requests: 10,
          },
        }),
      ).get('postgres isolation');
    expect(judged(5_000, 4_500, 4_400)).toMatchObject({ met: true });
    expect(judged(5_000, 4_500, 3_000)).toMatchObject({ met: false });
    // 2,473 vs 269/s: the baseline collapsed, and a ratio of 9.2 says nothing of isolation.
    const collapsed = judged(5_000, 269, 2_473);
    expect(collapsed).toMatchObject({ met: false });
    expect(collapsed?.value).toBeCloseTo(9.19, 2);
    // 4,800 vs 2,713/s (2026-12-07 00:15): the baseline was slow, whatever fan-out 10 read.
    expect(judged(5_046, 2_713, 4_800)).toMatchObject({ met: false });
    // Both sides slow alike: the ratio reads 100%, but at a fifth of fan-out 10.
    expect(judged(5_000, 1_000, 1_000)).toMatchObject({ met: false });
    // 3,558 vs 3,058/s beside 4,500/s (2026-12-07 04:35): a little noisy, sound.
    expect(judged(4_500, 3_058, 3_558)).toMatchObject({ met: true });
  });

  it('reads vacuum held back, scale-out and CPU per delivery', () => {
    const t = byName(
      results({
        fanout_10: steady(3_000, { cpu_s_per_1000: 0.07, db_cpu_s_per_1000: 0.04 }),
        vacuum_held: {
          with_hold: steady(2_000),
          without_deliveries_per_s: 3_000,
          ratio: 2 / 3,
          held_xid: '42',
          dead_tuples: { before: {}, after: {} },
        },
        scale_out: { one_worker: steady(2_000), two_workers: steady(3_600), ratio: 1.8 },
      }),
    );
    expect(t.get('postgres with vacuum held back')?.met).toBe(false);
    expect(t.get('postgres scale-out, two workers / one')).toMatchObject({
      value: 1.8,
      met: true,
    });
    expect(t.get('postgres CPU per delivery, fan-out 10')?.value).toBeCloseTo(0.11);
    expect(t.get('postgres CPU per delivery, fan-out 10')?.met).toBe(true);
  });
});

describe('bench routing targets', () => {
  it('reads the filter and the transformation phases of each store', () => {
    const side = (perS: number) => ({
      webhooks: 1_000,
      events: 10,
      events_per_s: perS,
      deliveries_per_s: perS * 1_000,
    });
    const r = results(
      {
        routing: { plain: side(100), filtered: side(90), ratio: 0.9 },
        transformation: { fanout: 10, plain: steady(2_000), transformed: steady(800), ratio: 0.4 },
      },
      {
        transformation: { fanout: 10, plain: steady(1_000), transformed: steady(600), ratio: 0.6 },
      },
    );
    const t = byName(r);
    expect(t.get('postgres publish to 1,000 webhooks with filters')).toMatchObject({
      value: 0.9,
      met: true,
    });
    expect(t.get('postgres fan-out 10 with a small transformation')).toMatchObject({
      value: 0.4,
      met: false,
    });
    expect(t.get('embedded fan-out 10 with a small transformation')?.met).toBe(true);
    expect(t.get('embedded publish to 1,000 webhooks with filters')?.met).toBeNull();
    expect(table(r)).toMatch(
      /small transformation.*\| 60% \(600 vs 1,000\/s\) +\| 40% \(800 vs 2,000\/s\)/,
    );
  });
});

describe('bench tables', () => {
  it('renders results of the one-rate latency phase (an object, not a list)', () => {
    const old = { latency: lat(1_000, 372) as unknown as LatencyResult[] };
    const r = results(old);
    expect(latencyRates(r.hookline.postgres)).toEqual([1_000]);
    expect(latencyAt(r.hookline.postgres, 1_000)?.p99_ms).toBe(372);
    expect(table(r)).toContain('Latency publish→first attempt at 1,000/s');
    expect(byName(r).get('postgres p99 publish→first attempt at 1,000/s')?.value).toBe(372);
  });

  it('shows the row writes of a delivery on PostgreSQL, and a dash without them', () => {
    const w = { ins: 0, upd: 0, hot: 0, del: 0, indexes: 5 };
    const backlog = {
      deliveries: 10_000,
      complete: true,
      writes: {
        deliveries: { ins: 1, upd: 2, hot: 2, del: 0, indexes: 4 },
        delivery_queue: { ...w, ins: 1, del: 1, indexes: 3 },
        delivery_attempts: { ...w, ins: 1 },
        webhooks: w,
      },
    };
    const text = table(results({ backlog }, { backlog: { deliveries: 10_000, complete: true } }));
    expect(text).toMatch(/Row writes per delivery[^|]*\| – +\| 3\.00 \(2\.00 HOT\); 2\.00; 1\.00 /);
    // A run from before the queue had its own table.
    const { delivery_queue: _, ...older } = backlog.writes;
    const old = table(
      results(
        { backlog: { ...backlog, writes: older } },
        { backlog: { deliveries: 1, complete: true } },
      ),
    );
    expect(old).toMatch(/Row writes per delivery[^|]*\| – +\| 3\.00 \(2\.00 HOT\); –; 1\.00 /);
  });

  it('shows the CPU of each scale-out process in cores, and nothing without the phase', () => {
    const one = steady(2_000, { cores: { api: 0.1, worker_1: 0.9, postgres: 0.6 } });
    const two = steady(3_000, { cores: { api: 0.1, worker_1: 0.7, worker_2: 0.7, postgres: 1 } });
    const text = scaleOutTable(
      results({ scale_out: { one_worker: one, two_workers: two, ratio: 1.5 } }),
    );
    expect(text).toMatch(/API \+ 1 worker process +\| 2,000 +\| 0\.10 +\| 0\.90 +\| – +\| 0\.60/);
    expect(text).toMatch(
      /API \+ 2 worker processes +\| 3,000 +\| 0\.10 +\| 0\.70 +\| 0\.70 +\| 1\.00/,
    );
    expect(scaleOutTable(results({}))).toBeUndefined();
  });
});
