/**
 * The scale-out phase (PostgreSQL): the API alone (`hookline serve
 * --no-worker`) with one, then two `hookline worker` processes on the same
 * database, each a real process. The same fan-out-10 load each time; the CPU of
 * every process and of PostgreSQL over each window says where it saturates.
 */
import type { HooklineProcess } from './hookline.js';
import { cpuSeconds } from './proc.js';
import type { SteadyResult } from './steady.js';

export interface ScaleOutResult {
  one_worker: SteadyResult;
  two_workers: SteadyResult;
  /** two_workers / one_worker. */
  ratio: number;
}

export async function scaleOut(o: {
  /** Starts `serve --no-worker` (the API) or one `worker` on the store's database. */
  start(command: 'api' | 'worker'): Promise<HooklineProcess>;
  /** A steady fan-out-10 measurement through `api` on run 1 or 2's own webhooks. */
  measure(
    api: HooklineProcess,
    run: 1 | 2,
    processes: Record<string, () => number>,
  ): Promise<SteadyResult>;
  dbCpu?: () => number;
  log(line: string): void;
}): Promise<ScaleOutResult> {
  const started: HooklineProcess[] = [];
  const start = async (command: 'api' | 'worker') => {
    const p = await o.start(command);
    started.push(p);
    return p;
  };
  try {
    const api = await start('api');
    const w1 = await start('worker');
    const processes: Record<string, () => number> = {
      api: () => cpuSeconds(api.pid),
      worker_1: () => cpuSeconds(w1.pid),
    };
    if (o.dbCpu) processes.postgres = o.dbCpu;
    const one = await o.measure(api, 1, { ...processes });
    const w2 = await start('worker');
    processes.worker_2 = () => cpuSeconds(w2.pid);
    const two = await o.measure(api, 2, { ...processes });
    return {
      one_worker: one,
      two_workers: two,
      ratio: two.deliveries_per_s / one.deliveries_per_s,
    };
  } finally {
    for (const p of started.reverse()) {
      const code = await p.stop();
      if (code !== 0) o.log(`scale-out: a process exited with ${code}: ${p.output().slice(-500)}`);
    }
  }
}
