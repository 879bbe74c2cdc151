/** The results document, its targets (issue 6) and the table printed at the end of a run. */
import type { CeilingResult, PgBossResult } from './references.js';
import type { StoreResult } from './hookline-phases.js';

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
  hookline: Partial<
    Record<'pglite' | 'postgres', StoreResult & { ratios: Record<string, number | null> }>
  >;
  targets: Target[];
  errors: Record<string, string>;
}

const ratio = (a?: number, b?: number) => (a && b ? a / b : null);

/** Hookline's rates as a share of the ceiling and as a multiple of the pg-boss baseline. */
export function ratiosFor(
  s: StoreResult,
  ceiling?: CeilingResult,
  pgboss?: PgBossResult,
): Record<string, number | null> {
  return {
    fanout_1_vs_ceiling: ratio(s.fanout_1?.deliveries_per_s, ceiling?.deliveries_per_s),
    fanout_10_vs_ceiling: ratio(s.fanout_10?.deliveries_per_s, ceiling?.deliveries_per_s),
    fanout_1_vs_pgboss: ratio(s.fanout_1?.deliveries_per_s, pgboss?.fanout_1.deliveries_per_s),
    fanout_10_vs_pgboss: ratio(s.fanout_10?.deliveries_per_s, pgboss?.fanout_10.deliveries_per_s),
  };
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
  const best = (...xs: Array<number | null | undefined>) => {
    const v = xs.filter((x): x is number => typeof x === 'number');
    return v.length ? Math.min(...v) : null;
  };
  return [
    target(
      'postgres fan-out 10',
      '≥ 10,000 deliveries/s',
      pg?.fanout_10?.deliveries_per_s,
      (v) => v >= 10_000,
    ),
    target(
      'postgres fan-out 1',
      '≥ 5,000 deliveries/s',
      pg?.fanout_1?.deliveries_per_s,
      (v) => v >= 5_000,
    ),
    target(
      'embedded fan-out 10',
      '≥ 3,000 deliveries/s',
      lite?.fanout_10?.deliveries_per_s,
      (v) => v >= 3_000,
    ),
    target(
      'embedded fan-out 1',
      '≥ 3,000 deliveries/s',
      lite?.fanout_1?.deliveries_per_s,
      (v) => v >= 3_000,
    ),
    target(
      'postgres p99 publish→first attempt',
      '≤ 50 ms at 1,000 events/s',
      pg?.latency?.p99_ms,
      (v) => v <= 50,
    ),
    target(
      'embedded p99 publish→first attempt',
      '≤ 50 ms at 1,000 events/s',
      lite?.latency?.p99_ms,
      (v) => v <= 50,
    ),
    target(
      'postgres isolation',
      '≥ 90% healthy throughput with a hanging webhook',
      pg?.isolation?.ratio,
      (v) => v >= 0.9,
    ),
    target(
      'embedded isolation',
      '≥ 90% healthy throughput with a hanging webhook',
      lite?.isolation?.ratio,
      (v) => v >= 0.9,
    ),
    target(
      'postgres vs pg-boss',
      '≥ 5× the do-it-yourself baseline (worse of fan-out 1 and 10)',
      best(pg?.ratios.fanout_1_vs_pgboss, pg?.ratios.fanout_10_vs_pgboss),
      (v) => v >= 5,
    ),
    target(
      'embedded vs pg-boss',
      '≥ 5× the do-it-yourself baseline (worse of fan-out 1 and 10)',
      best(lite?.ratios.fanout_1_vs_pgboss, lite?.ratios.fanout_10_vs_pgboss),
      (v) => v >= 5,
    ),
  ];
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

/** The results as a Markdown table (also readable as plain text). */
export function table(r: Results): string {
  const rows: string[][] = [];
  const lite = r.hookline.pglite;
  const pg = r.hookline.postgres;
  const both = (f: (s: NonNullable<typeof lite>) => string) => [
    lite ? f(lite) : '–',
    pg ? f(pg) : '–',
  ];
  rows.push([
    'Ingest, single POST /events (events/s)',
    ...both((s) => n0(s.ingest?.single?.events_per_s)),
    '',
    '',
  ]);
  rows.push([
    'Ingest, POST /events/batch (events/s)',
    ...both((s) => n0(s.ingest?.batch?.events_per_s)),
    '',
    '',
  ]);
  rows.push([
    'End to end, fan-out 1 (deliveries/s)',
    ...both((s) => n0(s.fanout_1?.deliveries_per_s)),
    n0(r.ceiling?.deliveries_per_s),
    n0(r.pgboss?.fanout_1.deliveries_per_s),
  ]);
  rows.push([
    'End to end, fan-out 10 (deliveries/s)',
    ...both((s) => n0(s.fanout_10?.deliveries_per_s)),
    n0(r.ceiling?.deliveries_per_s),
    n0(r.pgboss?.fanout_10.deliveries_per_s),
  ]);
  rows.push([
    'Share of the ceiling, fan-out 1 / 10',
    ...both((s) => `${pct(s.ratios.fanout_1_vs_ceiling)} / ${pct(s.ratios.fanout_10_vs_ceiling)}`),
    r.ceiling ? '100%' : '–',
    pct(
      r.ceiling && r.pgboss
        ? r.pgboss.fanout_10.deliveries_per_s / r.ceiling.deliveries_per_s
        : null,
    ),
  ]);
  rows.push([
    'Multiple of pg-boss, fan-out 1 / 10',
    ...both(
      (s) => `${times(s.ratios.fanout_1_vs_pgboss)} / ${times(s.ratios.fanout_10_vs_pgboss)}`,
    ),
    '',
    r.pgboss ? '1×' : '–',
  ]);
  rows.push([
    'Latency publish→first attempt p50 / p95 / p99 (ms)',
    ...both(
      (s) => `${n1(s.latency?.p50_ms)} / ${n1(s.latency?.p95_ms)} / ${n1(s.latency?.p99_ms)}`,
    ),
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
  ]);
  rows.push([
    'CPU s per 1,000 deliveries, fan-out 10 (process / database)',
    ...both((s) => `${n2(s.fanout_10?.cpu_s_per_1000)} / ${n2(s.fanout_10?.db_cpu_s_per_1000)}`),
    n2(r.ceiling?.cpu_s_per_1000),
    `${n2(r.pgboss?.fanout_10.cpu_s_per_1000)} / ${n2(r.pgboss?.fanout_10.db_cpu_s_per_1000)}`,
  ]);
  rows.push([
    'CPU s per 1,000 deliveries, backlog drain',
    ...both((s) => `${n2(s.backlog?.cpu_s_per_1000)} / ${n2(s.backlog?.db_cpu_s_per_1000)}`),
    '',
    '',
  ]);
  rows.push([
    'Peak RSS (MiB)',
    ...both((s) => n0(s.process?.peak_rss_mb)),
    '',
    n0(r.pgboss?.peak_rss_mb),
  ]);
  const head = [
    '',
    'Hookline, embedded (PGlite)',
    'Hookline, PostgreSQL',
    'Ceiling (undici, no queue)',
    `pg-boss ${r.pgboss?.version ?? ''} + fetch`,
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export function targetTable(targets: Target[]): string {
  const rows = targets.map(
    (t) =>
      `| ${t.name} | ${t.target} | ${t.value === null ? '–' : t.value >= 100 ? n0(t.value) : n2(t.value)} | ${t.met === null ? 'not measured' : t.met ? 'met' : 'not met'} |`,
  );
  return ['| Target | Wanted | Measured | |', '|---|---|---|---|', ...rows].join('\n');
}
