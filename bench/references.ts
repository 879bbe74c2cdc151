/** The two references, measured on the same receiver in the same run. */
import { createRequire } from 'node:module';
import { ceilingLoad } from './ceiling.js';
import type { BenchPostgres } from './database.js';
import { pgbossSettings, startPgBoss } from './pgboss.js';
import type { Receiver } from './receiver-client.js';
import { backlogPublisher, measureSteady, type SteadyResult } from './steady.js';
import type { Plan } from './plan.js';
import { cpuSeconds, memory, treeCpuSeconds } from './proc.js';

export interface CeilingResult extends SteadyResult {
  concurrency: number;
}

export async function runCeiling(
  plan: Plan,
  receiver: Receiver,
  log: (s: string) => void,
): Promise<CeilingResult> {
  const tag = 'ceiling';
  await receiver.reset(tag);
  const load = ceilingLoad(receiver.url, tag, { concurrency: plan.ceilingConcurrency, fanout: 10 });
  try {
    const r = await measureSteady({
      label: 'ceiling',
      warmupS: plan.ceilingWarmupS,
      windowS: plan.ceilingWindowS,
      load,
      delivered: async () => (await receiver.stats(tag)).distinct,
      cpu: () => cpuSeconds(process.pid),
      receiverPid: receiver.pid,
      progress: log,
    });
    return { ...r, concurrency: plan.ceilingConcurrency };
  } finally {
    await load.close();
    await receiver.reset(tag);
  }
}

export interface PgBossResult {
  version: string;
  settings: typeof pgbossSettings;
  fanout_1: SteadyResult;
  fanout_10: SteadyResult;
  peak_rss_mb: number;
}

export async function runPgBoss(
  plan: Plan,
  pg: BenchPostgres,
  receiver: Receiver,
  log: (s: string) => void,
): Promise<PgBossResult> {
  const url = await pg.createDatabase('bench_pgboss');
  const boss = await startPgBoss(url, receiver.url);
  const { version } = createRequire(import.meta.url)('pg-boss/package.json') as { version: string };
  try {
    const phase = async (fanout: number): Promise<SteadyResult> => {
      const tag = `pgboss-f${fanout}`;
      await receiver.reset(tag);
      const delivered = async () => (await receiver.stats(tag)).distinct;
      const r = await measureSteady({
        label: `pg-boss fan-out ${fanout}`,
        warmupS: plan.warmupS,
        windowS: plan.windowS,
        load: backlogPublisher({
          publish: () => boss.enqueue(Math.ceil(plan.publishBatchDeliveries / fanout), fanout, tag),
          delivered,
          highWater: plan.highWater,
          concurrency: 2,
        }),
        delivered,
        cpu: () => cpuSeconds(boss.pid),
        dbCpu: () => treeCpuSeconds(pg.pid),
        receiverPid: receiver.pid,
        progress: log,
        drainBoundS: plan.drainBoundS,
      });
      if (r.drain_after_s === undefined) {
        log(
          `pg-boss fan-out ${fanout}: backlog not drained in ${plan.drainBoundS} s; purging the queue`,
        );
        await boss.purge();
      }
      await receiver.reset(tag);
      return r;
    };
    const fanout_1 = await phase(1);
    const fanout_10 = await phase(10);
    return {
      version,
      settings: pgbossSettings,
      fanout_1,
      fanout_10,
      peak_rss_mb: memory(boss.pid).peakRssMb,
    };
  } finally {
    await boss.stop();
  }
}
