import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import type { SeriesPoint, StatsWindow } from './api';
import { zoneOption } from './prefs';

// Small inline SVG charts: they scale with their container (viewBox) and need no library.

function bucketLabel(t: string, window: StatsWindow): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  // In the zone the viewer chose (prefs.ts), the same as the drawer and the lists.
  if (window === '1h' || window === '24h')
    return d.toLocaleTimeString(undefined, {
      ...zoneOption(),
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    });
  return d.toLocaleDateString(undefined, { ...zoneOption(), month: 'short', day: 'numeric' });
}

function niceMax(v: number): number {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const H = 180;
const PAD = { l: 36, r: 8, t: 10, b: 24 };

/**
 * Draws at the container's real pixel width (not a scaled viewBox), so axis labels keep
 * their size from a 390 px phone to a wide desktop.
 */
function Sized({ children }: { children: (width: number) => ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, Math.floor(el.getBoundingClientRect().width)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return (
    <div ref={ref} className="chart-box">
      {children(width)}
    </div>
  );
}

/** Deliveries per bucket, stacked: succeeded, failed, and the rest (pending, retrying…). */
export function VolumeChart(props: { series: SeriesPoint[]; window: StatsWindow }) {
  return <Sized>{(w) => <VolumeSvg {...props} W={w} />}</Sized>;
}

function VolumeSvg({
  series,
  window,
  W,
}: {
  series: SeriesPoint[];
  window: StatsWindow;
  W: number;
}) {
  const max = niceMax(Math.max(0, ...series.map((p) => p.succeeded + p.failed + p.other)));
  const n = Math.max(series.length, 1);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / n;
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  const ticks = [0, max / 2, max];
  const labelEvery = Math.ceil(n / Math.max(2, Math.floor(W / 100)));
  const total = series.reduce((s, p) => s + p.succeeded + p.failed + p.other, 0);
  return (
    <svg
      className="chart"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Deliveries over time: ${total} in this window`}
    >
      {ticks.map((t) => (
        <g key={t}>
          <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} className="grid" />
          <text x={PAD.l - 6} y={y(t) + 4} className="axis" textAnchor="end">
            {Number.isInteger(t) ? t : t.toFixed(1)}
          </text>
        </g>
      ))}
      {series.map((p, i) => {
        const x = PAD.l + i * bw + bw * 0.15;
        const w = Math.max(1, bw * 0.7);
        const hS = (p.succeeded / max) * ih;
        const hF = (p.failed / max) * ih;
        const hO = (p.other / max) * ih;
        const base = PAD.t + ih;
        return (
          <g key={i}>
            <title>{`${bucketLabel(p.t, window)}: ${p.succeeded} succeeded, ${p.failed} failed${p.other ? `, ${p.other} pending` : ''}`}</title>
            <rect x={PAD.l + i * bw} y={PAD.t} width={bw} height={ih} fill="transparent" />
            {hS > 0 && (
              <rect x={x} y={base - hS} width={w} height={hS} className="bar-ok" rx={1.5} />
            )}
            {hF > 0 && (
              <rect x={x} y={base - hS - hF} width={w} height={hF} className="bar-fail" rx={1.5} />
            )}
            {hO > 0 && (
              <rect
                x={x}
                y={base - hS - hF - hO}
                width={w}
                height={hO}
                className="bar-other"
                rx={1.5}
              />
            )}
            {i % labelEvery === 0 && (
              <text x={PAD.l + i * bw + bw / 2} y={H - 6} className="axis" textAnchor="middle">
                {bucketLabel(p.t, window)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Success rate per bucket (buckets without finished deliveries leave a gap). */
export function SuccessRateChart(props: { series: SeriesPoint[]; window: StatsWindow }) {
  return <Sized>{(w) => <RateSvg {...props} W={w} />}</Sized>;
}

function RateSvg({ series, window, W }: { series: SeriesPoint[]; window: StatsWindow; W: number }) {
  const n = Math.max(series.length, 1);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i: number) => PAD.l + (n === 1 ? iw / 2 : (i / (n - 1)) * iw);
  const y = (r: number) => PAD.t + ih - r * ih;
  const segments: string[] = [];
  let current = '';
  series.forEach((p, i) => {
    const done = p.succeeded + p.failed;
    if (done === 0) {
      if (current) segments.push(current);
      current = '';
      return;
    }
    const r = p.succeeded / done;
    current += `${current ? 'L' : 'M'}${x(i).toFixed(1)},${y(r).toFixed(1)}`;
  });
  if (current) segments.push(current);
  const labelEvery = Math.ceil(n / Math.max(2, Math.floor(W / 100)));
  return (
    <svg
      className="chart"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label="Success rate over time"
    >
      {[0, 0.5, 1].map((t) => (
        <g key={t}>
          <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} className="grid" />
          <text x={PAD.l - 6} y={y(t) + 4} className="axis" textAnchor="end">
            {t * 100}%
          </text>
        </g>
      ))}
      {segments.map((d, i) => (
        <path key={i} d={d} className="line-rate" />
      ))}
      {series.map((p, i) => {
        const done = p.succeeded + p.failed;
        return (
          <g key={i}>
            {done > 0 && (
              <circle cx={x(i)} cy={y(p.succeeded / done)} r={2.5} className="dot-rate">
                <title>{`${bucketLabel(p.t, window)}: ${Math.round((p.succeeded / done) * 100)}% of ${done}`}</title>
              </circle>
            )}
            {i % labelEvery === 0 && (
              <text x={x(i)} y={H - 6} className="axis" textAnchor="middle">
                {bucketLabel(p.t, window)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** A tiny bar strip for a table cell. */
export function Sparkbars({ series }: { series: SeriesPoint[] }) {
  const w = 80;
  const h = 20;
  const max = Math.max(1, ...series.map((p) => p.succeeded + p.failed + p.other));
  const bw = w / Math.max(series.length, 1);
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden className="sparkbars">
      {series.map((p, i) => {
        const hs = (p.succeeded / max) * h;
        const hf = (p.failed / max) * h;
        return (
          <g key={i}>
            {hs > 0 && (
              <rect
                x={i * bw}
                y={h - hs}
                width={Math.max(1, bw - 1)}
                height={hs}
                className="bar-ok"
              />
            )}
            {hf > 0 && (
              <rect
                x={i * bw}
                y={h - hs - hf}
                width={Math.max(1, bw - 1)}
                height={hf}
                className="bar-fail"
              />
            )}
          </g>
        );
      })}
    </svg>
  );
}
