/**
 * Steady-state throughput: run a load, skip a warm-up, count deliveries at the
 * receiver over a fixed window, then stop the load and let the backlog drain
 * (bounded) so the next phase starts from an empty queue.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from './payload.js';
import { cpuSeconds, machineCpu } from './proc.js';

export interface Load {
  /** Runs until `stop.stopped` is true. */
  run(stop: { stopped: boolean }): Promise<void>;
  /** Deliveries queued so far (undefined for senders without a queue). */
  queued?(): number;
}

export interface SteadyResult {
  deliveries_per_s: number;
  window_s: number;
  delivered_in_window: number;
  /** CPU seconds of the measured process(es) per 1,000 deliveries in the window. */
  cpu_s_per_1000?: number;
  /** CPU seconds of the database server per 1,000 deliveries (PostgreSQL only). */
  db_cpu_s_per_1000?: number;
  /** CPU seconds per 1,000 deliveries of the harness's own processes (receiver, runner). */
  harness_cpu_s_per_1000?: { receiver: number; runner: number };
  /** Share of the machine's CPU time used over the window by everything on it (1 = all cores busy). */
  machine_busy?: number;
  /** Queued but not yet delivered at the end of the window. */
  backlog_at_end?: number;
  /** Seconds the backlog took to drain after the load stopped (undefined: did not within the bound). */
  drain_after_s?: number;
  /** CPU of each named process over the window, in cores (CPU seconds per second; 1 = one core busy). */
  cores?: Record<string, number>;
}

export interface SteadyOptions {
  label: string;
  warmupS: number;
  windowS: number;
  load: Load;
  /** Deliveries received so far. */
  delivered(): Promise<number>;
  /** CPU seconds so far of the system under test, and of its database. */
  cpu?(): number;
  dbCpu?(): number;
  /** The receiver's pid, to account the harness's own CPU. */
  receiverPid?: number;
  /** CPU seconds so far of named processes, reported as `cores` (where a system saturates). */
  processes?: Record<string, () => number>;
  progress(line: string): void;
  drainBoundS?: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function measureSteady(o: SteadyOptions): Promise<SteadyResult> {
  const stop = { stopped: false };
  let failure: unknown;
  const running = o.load.run(stop).catch((err) => {
    stop.stopped = true;
    failure = err;
  });
  const started = nowMs();
  let lastCount = await o.delivered();
  let lastAt = started;
  const tick = async (until: number, phase: string) => {
    while (nowMs() < until && !stop.stopped) {
      await sleep(Math.min(2000, Math.max(10, until - nowMs())));
      const c = await o.delivered();
      const t = nowMs();
      const q = o.load.queued?.();
      const backlog = q === undefined ? '' : `, backlog ${fmt(q - c)}`;
      o.progress(
        `${o.label} ${phase} ${((t - started) / 1000).toFixed(0)} s: ${fmt(((c - lastCount) * 1000) / (t - lastAt))}/s${backlog}`,
      );
      lastCount = c;
      lastAt = t;
    }
  };
  try {
    await tick(started + o.warmupS * 1000, 'warm-up');
    const c0 = await o.delivered();
    const t0 = nowMs();
    const cpu0 = o.cpu?.() ?? 0;
    const db0 = o.dbCpu?.() ?? 0;
    const rec0 = o.receiverPid ? cpuSeconds(o.receiverPid) : 0;
    const run0 = cpuSeconds(process.pid);
    const m0 = machineCpu();
    const named = Object.entries(o.processes ?? {});
    const named0 = named.map(([, cpu]) => cpu());
    await tick(t0 + o.windowS * 1000, 'measure');
    const c1 = await o.delivered();
    const t1 = nowMs();
    const cpu1 = o.cpu?.() ?? 0;
    const db1 = o.dbCpu?.() ?? 0;
    const rec1 = o.receiverPid ? cpuSeconds(o.receiverPid) : 0;
    const run1 = cpuSeconds(process.pid);
    const m1 = machineCpu();
    const named1 = named.map(([, cpu]) => cpu());
    stop.stopped = true;
    await running;
    if (failure) throw failure;
    const n = c1 - c0;
    const result: SteadyResult = {
      deliveries_per_s: (n * 1000) / (t1 - t0),
      window_s: (t1 - t0) / 1000,
      delivered_in_window: n,
    };
    if (o.cpu && n > 0) result.cpu_s_per_1000 = ((cpu1 - cpu0) * 1000) / n;
    if (o.dbCpu && n > 0 && db1 > 0) result.db_cpu_s_per_1000 = ((db1 - db0) * 1000) / n;
    if (n > 0)
      result.harness_cpu_s_per_1000 = {
        receiver: ((rec1 - rec0) * 1000) / n,
        runner: ((run1 - run0) * 1000) / n,
      };
    result.machine_busy = (m1.busy - m0.busy) / (m1.total - m0.total);
    if (named.length > 0)
      result.cores = Object.fromEntries(
        named.map(([name], i) => [name, ((named1[i] - named0[i]) * 1000) / (t1 - t0)]),
      );
    if (o.load.queued) {
      const queued = o.load.queued();
      result.backlog_at_end = queued - c1;
      result.drain_after_s = await waitFor(o.delivered, queued, o.drainBoundS ?? 90);
    }
    return result;
  } finally {
    stop.stopped = true;
    await running;
  }
}

/** Waits until `count()` reaches `target`; seconds taken, or undefined past the bound. */
export async function waitFor(
  count: () => Promise<number>,
  target: number,
  boundS: number,
): Promise<number | undefined> {
  const t0 = nowMs();
  while (nowMs() - t0 < boundS * 1000) {
    if ((await count()) >= target) return (nowMs() - t0) / 1000;
    await sleep(50);
  }
  return undefined;
}

/**
 * A publisher that keeps at most `highWater` deliveries queued but not yet
 * delivered: enough for the system to never starve, bounded so the backlog
 * (and the drain after the window) stays small.
 */
export function backlogPublisher(o: {
  publish(): Promise<number>;
  delivered(): Promise<number>;
  highWater: number;
  concurrency: number;
}): Load {
  let queued = 0;
  return {
    queued: () => queued,
    async run(stop) {
      const loop = async () => {
        while (!stop.stopped) {
          if (queued - (await o.delivered()) >= o.highWater) {
            await sleep(10);
            continue;
          }
          // Not `queued += await …`: that reads `queued` before the await and loses the other loops' additions.
          const n = await o.publish();
          queued += n;
        }
      };
      await Promise.all(Array.from({ length: o.concurrency }, loop));
    },
  };
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
