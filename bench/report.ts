/** The results document, its targets (issue 16) and the tables printed at the end of a run. */
import type { LatencyResult } from './latency.js';
import type { BullMqResult, CeilingResult, PgBossResult } from './references.js';
import type { StoreResult } from './hookline-phases.js';
import type { SteadyResult } from './steady.js';

export interface Target {
  name: string;
  target: string;
  value: number | null;
  met: boolean | null;
}

export interface Results {
  version: 1;
  started_at: string;
  finished_at: string;
  duration_s: number;
  quick: boolean;
  machine: {
    cpu: string;
    cores: number;
    memTotalMb: number;
    node: string;
    kernel: string;
    postgres: string;
    load_before: number;
    load_after: number;
  };
  plan: Record<string, unknown>;
  ceiling?: CeilingResult;
  pgboss?: PgBossResult;
  bullmq?: BullMqResult;
  hookline: Partial<
    Record<'pglite' | 'postgres', StoreResult & { ratios: Record<string, number | null> }>
  >;
  targets: Target[];
  errors: Record<string, string>;
}

const ratio = (a?: number, b?: number) => (a && b ? a / b : null);

/** Hookline's rates as a share of the ceiling and as a multiple of each do-it-yourself baseline. */
export function ratiosFor(
  s: StoreResult,
  r: Pick<Results, 'ceiling' | 'pgboss' | 'bullmq'>,
): Record<string, number | null> {
  const f1 = s.fanout_1?.deliveries_per_s;
  const f10 = s.fanout_10?.deliveries_per_s;
  return {
    fanout_1_vs_ceiling: ratio(f1, r.ceiling?.deliveries_per_s),
    fanout_10_vs_ceiling: ratio(f10, r.ceiling?.deliveries_per_s),
    fanout_1_vs_pgboss: ratio(f1, r.pgboss?.fanout_1.deliveries_per_s),
    fanout_10_vs_pgboss: ratio(f10, r.pgboss?.fanout_10.deliveries_per_s),
    fanout_1_vs_bullmq: ratio(f1, r.bullmq?.fanout_1.deliveries_per_s),
    fanout_10_vs_bullmq: ratio(f10, r.bullmq?.fanout_10.deliveries_per_s),
  };
}

/** The latency results of a store, one per offered rate (runs before 2026-12 have a single object). */
export const latencies = (s: StoreResult | undefined): LatencyResult[] =>
  ([] as LatencyResult[]).concat(s?.latency ?? []);

/** The offered rates of the latency phase in these results, slowest first. */
export const latencyRates = (...stores: Array<StoreResult | undefined>): number[] =>
  [...new Set(stores.flatMap(latencies).map((l) => l.offered_events_per_s))].sort((a, b) => a - b);

/** The latency result at one offered rate. */
export const latencyAt = (s: StoreResult | undefined, rate: number): LatencyResult | undefined =>
  latencies(s).find((l) => l.offered_events_per_s === rate);

/**
 * Whether the isolation phase's window without the hanging webhook held up. Both windows send to
 * ten healthy webhooks, so the one with the hanging webhook cannot be much faster; a ratio above
 * 1.5 (177% and 920% in 2026-12-07's runs, 356% on 2026-11-23) means the baseline collapsed,
 * and so does a baseline below half the store's fan-out 10 rate (0.04–0.20 of it then; sound
 * runs read 0.68–1.15). Then the engine was slow on one side, which is not a pass.
 */
export function isolationBaselineHeld(s: StoreResult | undefined): boolean {
  const iso = s?.isolation;
  if (!iso) return true;
  const fanout10 = s?.fanout_10?.deliveries_per_s;
  const without = iso.healthy_without.deliveries_per_s;
  return iso.ratio <= 1.5 && (fanout10 === undefined || without >= 0.5 * fanout10);
}

function target(
  name: string,
  text: string,
  value: number | null | undefined,
  ok: (v: number) => boolean,
): Target {
  const v = value === undefined || value === null || Number.isNaN(value) ? null : value;
  return { name, target: text, value: v, met: v === null ? null : ok(v) };
}

export function targetsFor(r: Pick<Results, 'hookline'>): Target[] {
  const pg = r.hookline.postgres;
  const lite = r.hookline.pglite;
  const worse = (...xs: Array<number | null | undefined>) => {
    const v = xs.filter((x): x is number => typeof x === 'number');
    return v.length === xs.length ? Math.min(...v) : null;
  };
  const stores = [
    ['postgres', pg],
    ['embedded', lite],
  ] as const;
  const out: Target[] = [
    target(
      'postgres fan-out 10',
      '≥ 70% of the ceiling',
      pg?.ratios.fanout_10_vs_ceiling,
      (v) => v >= 0.7,
    ),
    target(
      'postgres fan-out 1',
      '≥ 60% of the ceiling',
      pg?.ratios.fanout_1_vs_ceiling,
      (v) => v >= 0.6,
    ),
    target(
      'embedded fan-out 1 and 10',
      '≥ 40% of the ceiling (the worse of the two)',
      worse(lite?.ratios.fanout_1_vs_ceiling, lite?.ratios.fanout_10_vs_ceiling),
      (v) => v >= 0.4,
    ),
  ];
  for (const [name, s] of stores)
    for (const rate of name === 'postgres' ? [10, 100, 1_000] : [10, 100])
      out.push(
        target(
          `${name} p99 publish→first attempt at ${rate.toLocaleString('en-US')}/s`,
          '≤ 50 ms',
          latencyAt(s, rate)?.p99_ms,
          (v) => v <= 50,
        ),
      );
  for (const [name, s] of stores)
    out.push(
      target(
        `${name} isolation`,
        '≥ 95% healthy throughput with a hanging webhook, ≤ 150% (a sound baseline)',
        s?.isolation?.ratio,
        (v) => v >= 0.95 && isolationBaselineHeld(s),
      ),
    );
  out.push(
    target(
      'postgres with vacuum held back',
      '≥ 70% of the rate without',
      pg?.vacuum_held?.ratio,
      (v) => v >= 0.7,
    ),
  );
  for (const [name, s] of stores) {
    out.push(
      target(
        `${name} vs pg-boss`,
        '≥ 5× (the worse of fan-out 1 and 10)',
        worse(s?.ratios.fanout_1_vs_pgboss, s?.ratios.fanout_10_vs_pgboss),
        (v) => v >= 5,
      ),
      target(
        `${name} vs BullMQ`,
        '≥ 1.5× (the worse of fan-out 1 and 10)',
        worse(s?.ratios.fanout_1_vs_bullmq, s?.ratios.fanout_10_vs_bullmq),
        (v) => v >= 1.5,
      ),
    );
  }
  for (const [name, s] of stores)
    out.push(
      target(
        `${name} publish to 1,000 webhooks with filters`,
        '≥ 80% of the events/s without (docs/routing.md)',
        s?.routing?.ratio,
        (v) => v >= 0.8,
      ),
      target(
        `${name} fan-out 10 with a small transformation`,
        '≥ 50% of the deliveries/s without (docs/routing.md)',
        s?.transformation?.ratio,
        (v) => v >= 0.5,
      ),
    );
  const f10 = pg?.fanout_10;
  out.push(
    target(
      'postgres CPU per delivery, fan-out 10',
      '≤ 0.12 ms, Hookline + PostgreSQL',
      f10?.cpu_s_per_1000 !== undefined && f10.db_cpu_s_per_1000 !== undefined
        ? f10.cpu_s_per_1000 + f10.db_cpu_s_per_1000
        : null,
      (v) => v <= 0.12,
    ),
    target(
      'postgres scale-out, two workers / one',
      '≥ 1.7× until the database saturates',
      pg?.scale_out?.ratio,
      (v) => v >= 1.7,
    ),
  );
  return out;
}

const n0 = (v?: number | null) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US');
const n1 = (v?: number | null) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(1);
const n2 = (v?: number | null) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(2);
const pct = (v?: number | null) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : `${Math.round(v * 100)}%`;
const times = (v?: number | null) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : `${v.toFixed(1)}×`;

function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/** The results as a Markdown table (also readable as plain text). */
export function table(r: Results): string {
  const rows: string[][] = [];
  const lite = r.hookline.pglite;
  const pg = r.hookline.postgres;
  const both = (f: (s: NonNullable<typeof lite>) => string) => [
    lite ? f(lite) : '–',
    pg ? f(pg) : '–',
  ];
  const baselines = (f: (b: PgBossResult | BullMqResult) => string) => [
    r.pgboss ? f(r.pgboss) : '–',
    r.bullmq ? f(r.bullmq) : '–',
  ];
  const ceilingShare = (b: PgBossResult | BullMqResult) =>
    pct(r.ceiling ? b.fanout_10.deliveries_per_s / r.ceiling.deliveries_per_s : null);
  rows.push([
    'Ingest, single POST /events (events/s)',
    ...both((s) => n0(s.ingest?.single?.events_per_s)),
    '',
    '',
    '',
  ]);
  rows.push([
    'Ingest, POST /events/batch (events/s)',
    ...both((s) => n0(s.ingest?.batch?.events_per_s)),
    '',
    '',
    '',
  ]);
  rows.push([
    'End to end, fan-out 1 (deliveries/s)',
    ...both((s) => n0(s.fanout_1?.deliveries_per_s)),
    n0(r.ceiling?.deliveries_per_s),
    ...baselines((b) => n0(b.fanout_1.deliveries_per_s)),
  ]);
  rows.push([
    'End to end, fan-out 10 (deliveries/s)',
    ...both((s) => n0(s.fanout_10?.deliveries_per_s)),
    n0(r.ceiling?.deliveries_per_s),
    ...baselines((b) => n0(b.fanout_10.deliveries_per_s)),
  ]);
  rows.push([
    'Share of the ceiling, fan-out 1 / 10',
    ...both((s) => `${pct(s.ratios.fanout_1_vs_ceiling)} / ${pct(s.ratios.fanout_10_vs_ceiling)}`),
    r.ceiling ? '100%' : '–',
    ...baselines(ceilingShare),
  ]);
  rows.push([
    'Multiple of pg-boss, fan-out 1 / 10',
    ...both(
      (s) => `${times(s.ratios.fanout_1_vs_pgboss)} / ${times(s.ratios.fanout_10_vs_pgboss)}`,
    ),
    '',
    r.pgboss ? '1×' : '–',
    '',
  ]);
  rows.push([
    'Multiple of BullMQ, fan-out 1 / 10',
    ...both(
      (s) => `${times(s.ratios.fanout_1_vs_bullmq)} / ${times(s.ratios.fanout_10_vs_bullmq)}`,
    ),
    '',
    '',
    r.bullmq ? '1×' : '–',
  ]);
  for (const rate of latencyRates(lite, pg))
    rows.push([
      `Latency publish→first attempt at ${n0(rate)}/s, p50 / p95 / p99 / max (ms)`,
      ...both((s) => {
        const l = latencyAt(s, rate);
        return l ? `${n1(l.p50_ms)} / ${n1(l.p95_ms)} / ${n1(l.p99_ms)} / ${n1(l.max_ms)}` : '–';
      }),
      '',
      '',
      '',
    ]);
  rows.push([
    'Isolation: healthy rate with a hanging webhook',
    ...both(
      (s) =>
        `${pct(s.isolation?.ratio)} (${n0(s.isolation?.healthy_with.deliveries_per_s)} vs ${n0(s.isolation?.healthy_without.deliveries_per_s)}/s)`,
    ),
    '',
    '',
    '',
  ]);
  rows.push([
    `Publish to ${n0(lite?.routing?.plain.webhooks ?? pg?.routing?.plain.webhooks)} webhooks, with filters (vs without, events/s)`,
    ...both((s) =>
      s.routing
        ? `${pct(s.routing.ratio)} (${n0(s.routing.filtered.events_per_s)} vs ${n0(s.routing.plain.events_per_s)}/s)`
        : '–',
    ),
    '',
    '',
    '',
  ]);
  rows.push([
    'Fan-out 10 with a small transformation (vs without, deliveries/s)',
    ...both((s) =>
      s.transformation
        ? `${pct(s.transformation.ratio)} (${n0(s.transformation.transformed.deliveries_per_s)} vs ${n0(s.transformation.plain.deliveries_per_s)}/s)`
        : '–',
    ),
    '',
    '',
    '',
  ]);
  rows.push([
    `Fan-out 10 with a transaction held open ${n0(pg?.vacuum_held?.with_hold.window_s)} s (vs without)`,
    ...both((s) =>
      s.vacuum_held
        ? `${pct(s.vacuum_held.ratio)} (${n0(s.vacuum_held.with_hold.deliveries_per_s)} vs ${n0(s.vacuum_held.without_deliveries_per_s)}/s)`
        : '–',
    ),
    '',
    '',
    '',
  ]);
  rows.push([
    'Scale-out, API + 1 / 2 worker processes, fan-out 10 (deliveries/s)',
    ...both((s) =>
      s.scale_out
        ? `${n0(s.scale_out.one_worker.deliveries_per_s)} / ${n0(s.scale_out.two_workers.deliveries_per_s)} (${times(s.scale_out.ratio)})`
        : '–',
    ),
    '',
    '',
    '',
  ]);
  rows.push([
    `Backlog drain, ${n0(lite?.backlog?.deliveries ?? pg?.backlog?.deliveries)} deliveries (s)`,
    ...both((s) =>
      s.backlog
        ? `${n1(s.backlog.drain_s)}${s.backlog.complete ? '' : ' (incomplete)'} (${n0(s.backlog.deliveries_per_s)}/s)`
        : '–',
    ),
    '',
    '',
    '',
  ]);
  rows.push([
    'CPU s per 1,000 deliveries, fan-out 10 (process / database)',
    ...both((s) => `${n2(s.fanout_10?.cpu_s_per_1000)} / ${n2(s.fanout_10?.db_cpu_s_per_1000)}`),
    n2(r.ceiling?.cpu_s_per_1000),
    ...baselines((b) => `${n2(b.fanout_10.cpu_s_per_1000)} / ${n2(b.fanout_10.db_cpu_s_per_1000)}`),
  ]);
  rows.push([
    'CPU s per 1,000 deliveries, backlog drain',
    ...both((s) => `${n2(s.backlog?.cpu_s_per_1000)} / ${n2(s.backlog?.db_cpu_s_per_1000)}`),
    '',
    '',
    '',
  ]);
  rows.push([
    'Row writes per delivery, backlog drain (delivery row, of them HOT; queue row; attempt rows)',
    ...both((s) => {
      const w = s.backlog?.writes;
      if (!w) return '–';
      const d = w.deliveries;
      const q = w.delivery_queue;
      const queue = q ? n2(q.ins + q.upd + q.del) : '–';
      return `${n2(d.ins + d.upd)} (${n2(d.hot)} HOT); ${queue}; ${n2(w.delivery_attempts.ins)}`;
    }),
    '',
    '',
    '',
  ]);
  rows.push([
    'Attempt log bytes per attempt, backlog drain (row; on disk with indexes)',
    ...both((s) => {
      const b = s.backlog?.attempt_bytes;
      return b ? `${n0(b.row)}; ${n0(b.total)}` : '–';
    }),
    '',
    '',
    '',
  ]);
  rows.push([
    'Peak RSS (MiB)',
    ...both((s) => n0(s.process?.peak_rss_mb)),
    '',
    ...baselines((b) => n0(b.peak_rss_mb)),
  ]);
  const head = [
    '',
    'Hookline, embedded (PGlite)',
    'Hookline, PostgreSQL',
    'Ceiling (undici, no queue)',
    `pg-boss${r.pgboss ? ` ${r.pgboss.version}` : ''} + fetch`,
    `BullMQ${r.bullmq ? ` ${r.bullmq.version}` : ''} + undici`,
  ];
  return markdownTable(head, rows);
}

/** Where the scale-out phase saturates: the CPU of each process over each window, in cores. */
export function scaleOutTable(r: Results): string | undefined {
  const s = r.hookline.postgres?.scale_out;
  if (!s) return undefined;
  const row = (name: string, x: SteadyResult) => [
    name,
    n0(x.deliveries_per_s),
    n2(x.cores?.api),
    n2(x.cores?.worker_1),
    n2(x.cores?.worker_2),
    n2(x.cores?.postgres),
    pct(x.machine_busy),
  ];
  return markdownTable(
    [
      'Scale-out on PostgreSQL, fan-out 10',
      'deliveries/s',
      'API (cores)',
      'worker 1',
      'worker 2',
      'PostgreSQL',
      'machine busy',
    ],
    [row('API + 1 worker process', s.one_worker), row('API + 2 worker processes', s.two_workers)],
  );
}

/** A target's figure as the tables show it: whole from 100 up, two decimals below. */
export const targetValue = (v: number | null) => (v === null ? '–' : v >= 100 ? n0(v) : n2(v));

export function targetTable(targets: Target[]): string {
  const rows = targets.map(
    (t) =>
      `| ${t.name} | ${t.target} | ${targetValue(t.value)} | ${t.met === null ? 'not measured' : t.met ? 'met' : 'not met'} |`,
  );
  return ['| Target | Wanted | Measured | |', '|---|---|---|---|', ...rows].join('\n');
}
