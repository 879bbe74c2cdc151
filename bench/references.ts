/** The references (ceiling, pg-boss, BullMQ), measured on the same receiver in the same run. */
import { createRequire } from 'node:module';
import { ceilingLoad } from './ceiling.js';
import type { BenchPostgres } from './database.js';
import { measureBaseline } from './baseline.js';
import { bullmqSettings, startBullMq } from './bullmq.js';
import { pgbossSettings, startPgBoss } from './pgboss.js';
import type { Receiver } from './receiver-client.js';
import { startBenchRedis } from './redis.js';
import { measureSteady, type SteadyResult } from './steady.js';
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

export interface BaselineResult {
  version: string;
  settings: Record<string, number>;
  fanout_1: SteadyResult;
  fanout_10: SteadyResult;
  peak_rss_mb: number;
}

export interface PgBossResult extends BaselineResult {
  settings: typeof pgbossSettings;
}

export interface BullMqResult extends BaselineResult {
  settings: typeof bullmqSettings;
  redis: string;
}

const versionOf = (pkg: string) =>
  (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;

export async function runPgBoss(
  plan: Plan,
  pg: BenchPostgres,
  receiver: Receiver,
  log: (s: string) => void,
): Promise<PgBossResult> {
  const url = await pg.createDatabase('bench_pgboss');
  const boss = await startPgBoss(url, receiver.url);
  try {
    const rates = await measureBaseline('pg-boss', boss, {
      plan,
      receiver,
      log,
      serverCpu: () => treeCpuSeconds(pg.pid),
    });
    return {
      version: versionOf('pg-boss'),
      settings: pgbossSettings,
      ...rates,
      peak_rss_mb: memory(boss.pid).peakRssMb,
    };
  } finally {
    await boss.stop();
  }
}

/** BullMQ on a Redis started for it; undefined (the reason logged in `skip`) without redis-server. */
export async function runBullMq(
  plan: Plan,
  receiver: Receiver,
  log: (s: string) => void,
  skip: (why: string) => void,
): Promise<BullMqResult | undefined> {
  const redis = await startBenchRedis(skip);
  if (!redis) return undefined;
  try {
    const queue = await startBullMq(redis, receiver.url);
    try {
      const rates = await measureBaseline('BullMQ', queue, {
        plan,
        receiver,
        log,
        serverCpu: () => cpuSeconds(redis.pid),
      });
      return {
        version: versionOf('bullmq'),
        redis: redis.version,
        settings: bullmqSettings,
        ...rates,
        peak_rss_mb: memory(queue.pid).peakRssMb,
      };
    } finally {
      await queue.stop();
    }
  } finally {
    await redis.stop();
  }
}
