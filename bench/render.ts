/**
 * `npm run bench:render`: turns bench/results/latest.json into the chart
 * (bench/results/chart.svg, plain SVG written by hand, no chart library) and the
 * results section of BENCHMARKS.md (between the `results:start/end` markers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  latencyAt,
  latencyRates,
  scaleOutTable,
  table,
  targetsFor,
  targetTable,
  type Results,
} from './report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = JSON.parse(readFileSync(`${root}bench/results/latest.json`, 'utf8')) as Results;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));

interface Bar {
  label: string;
  value: number | undefined;
  color: string;
}

/** One panel of grouped horizontal-axis bars with value labels; `log`: bar heights on a log scale. */
function panel(
  x: number,
  title: string,
  unit: string,
  groups: Array<{ name: string; bars: Bar[] }>,
  width: number,
  height: number,
  log = false,
): string {
  const top = 40;
  const bottom = 60;
  const plotH = height - top - bottom;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value ?? 0));
  // Headroom above the tallest bar for its label (a log scale needs a factor, not a share).
  const max = Math.max(1, ...values) * (log ? 4 : 1.12);
  // On a log scale 1 is the floor: latencies under a millisecond are not told apart.
  const scale = (v: number) => (log ? Math.log10(Math.max(1, v)) / Math.log10(max) : v / max);
  const groupW = width / groups.length;
  const out: string[] = [
    `<text x="${x + width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`,
  ];
  out.push(
    `<line x1="${x}" y1="${top + plotH}" x2="${x + width}" y2="${top + plotH}" stroke="#888"/>`,
  );
  groups.forEach((g, gi) => {
    const barW = Math.min(46, (groupW - 16) / g.bars.length);
    const start = x + gi * groupW + (groupW - barW * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const v = b.value ?? 0;
      const h = scale(v) * plotH;
      const bx = start + bi * barW;
      out.push(
        `<rect x="${bx + 2}" y="${top + plotH - h}" width="${barW - 4}" height="${h}" fill="${b.color}"><title>${esc(`${g.name} ${b.label}: ${fmt(v)} ${unit}`)}</title></rect>`,
      );
      out.push(
        `<text x="${bx + barW / 2}" y="${top + plotH - h - 4}" text-anchor="middle" font-size="10">${b.value === undefined ? '–' : fmt(v)}</text>`,
      );
    });
    out.push(
      `<text x="${x + gi * groupW + groupW / 2}" y="${top + plotH + 18}" text-anchor="middle" font-size="12">${esc(g.name)}</text>`,
    );
  });
  const legend = groups[0]?.bars ?? [];
  legend.forEach((b, i) => {
    const lx = x + i * 120;
    out.push(
      `<rect x="${lx}" y="${height - 22}" width="12" height="12" fill="${b.color}"/><text x="${lx + 16}" y="${height - 12}" font-size="12">${esc(b.label)}</text>`,
    );
  });
  out.push(`<text x="${x}" y="${top - 6}" font-size="11" fill="#555">${esc(unit)}</text>`);
  return out.join('\n');
}

export function chart(r: Results): string {
  const lite = r.hookline.pglite;
  const pg = r.hookline.postgres;
  const throughput = panel(
    20,
    'End-to-end delivery rate',
    'deliveries/s (higher is better)',
    [
      {
        name: 'Ceiling',
        bars: [
          { label: 'fan-out 1', value: r.ceiling?.deliveries_per_s, color: '#9aa5b1' },
          { label: 'fan-out 10', value: r.ceiling?.deliveries_per_s, color: '#52606d' },
        ],
      },
      {
        name: 'Hookline, PG',
        bars: [
          { label: 'fan-out 1', value: pg?.fanout_1?.deliveries_per_s, color: '#9aa5b1' },
          { label: 'fan-out 10', value: pg?.fanout_10?.deliveries_per_s, color: '#52606d' },
        ],
      },
      {
        name: 'Hookline, PGlite',
        bars: [
          { label: 'fan-out 1', value: lite?.fanout_1?.deliveries_per_s, color: '#9aa5b1' },
          { label: 'fan-out 10', value: lite?.fanout_10?.deliveries_per_s, color: '#52606d' },
        ],
      },
      {
        name: 'pg-boss',
        bars: [
          { label: 'fan-out 1', value: r.pgboss?.fanout_1.deliveries_per_s, color: '#9aa5b1' },
          { label: 'fan-out 10', value: r.pgboss?.fanout_10.deliveries_per_s, color: '#52606d' },
        ],
      },
      {
        name: 'BullMQ',
        bars: [
          { label: 'fan-out 1', value: r.bullmq?.fanout_1.deliveries_per_s, color: '#9aa5b1' },
          { label: 'fan-out 10', value: r.bullmq?.fanout_10.deliveries_per_s, color: '#52606d' },
        ],
      },
    ],
    560,
    340,
  );
  const latency = panel(
    620,
    'p99 publish → first attempt',
    'milliseconds, log scale (lower is better)',
    latencyRates(pg, lite).map((rate) => ({
      name: `${rate.toLocaleString('en-US')} events/s`,
      bars: [
        { label: 'PostgreSQL', value: latencyAt(pg, rate)?.p99_ms, color: '#4f83cc' },
        { label: 'embedded', value: latencyAt(lite, rate)?.p99_ms, color: '#1f4e8c' },
      ],
    })),
    360,
    340,
    true,
  );
  const caption = `${r.quick ? 'Quick run' : 'Full run'} of ${r.started_at.slice(0, 16).replace('T', ' ')} UTC on ${r.machine.cores} × ${r.machine.cpu}, load ${r.machine.load_before} → ${r.machine.load_after}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="380" viewBox="0 0 1000 380" font-family="system-ui, sans-serif">`,
    `<rect width="1000" height="380" fill="#fff"/>`,
    throughput,
    latency,
    `<text x="500" y="372" text-anchor="middle" font-size="11" fill="#555">${esc(caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}

function markdown(r: Results): string {
  const m = r.machine;
  return [
    `Run of ${r.started_at.slice(0, 19).replace('T', ' ')} UTC (${r.quick ? 'quick' : 'full'}, ${r.duration_s} s). Machine: ${m.cores} × ${m.cpu}, ${(m.memTotalMb / 1024).toFixed(1)} GiB RAM, Linux ${m.kernel}, Node ${m.node}, PostgreSQL ${m.postgres}. Load average (1 min) ${m.load_before} before, ${m.load_after} after.`,
    '',
    table(r),
    '',
    ...[scaleOutTable(r)].filter((t): t is string => t !== undefined).flatMap((t) => [t, '']),
    // The targets of the current code, judged on the run's figures (runs before 2026-12 stored others).
    targetTable(targetsFor(r)),
    '',
    '![Throughput and latency](bench/results/chart.svg)',
  ].join('\n');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  writeFileSync(`${root}bench/results/chart.svg`, chart(results));
  const docPath = `${root}BENCHMARKS.md`;
  const doc = readFileSync(docPath, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a === -1 || b === -1) throw new Error(`BENCHMARKS.md has no ${start} … ${end} section`);
  writeFileSync(
    docPath,
    doc.slice(0, a + start.length) + '\n' + markdown(results) + '\n' + doc.slice(b),
  );
  process.stdout.write('Wrote bench/results/chart.svg and the results section of BENCHMARKS.md.\n');
}
