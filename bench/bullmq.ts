/** The BullMQ baseline's side in the runner: start its worker process and enqueue jobs. */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Baseline } from './baseline.js';
import { payload } from './payload.js';
import type { BenchRedis } from './redis.js';

export const bullmqSettings = {
  concurrency: Number(process.env.BENCH_BULLMQ_CONCURRENCY ?? 128),
  /** Retries of a failed send, as a team would set them; completed jobs are not kept. */
  attempts: 3,
};

export async function startBullMq(redis: BenchRedis, receiverUrl: string): Promise<Baseline> {
  const name = 'deliveries';
  const connection = { host: redis.host, port: redis.port };
  const queue = new Queue(name, {
    connection,
    defaultJobOptions: {
      attempts: bullmqSettings.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  });
  queue.on('error', (err) => process.stderr.write(`bullmq producer: ${err.message}\n`));
  await queue.waitUntilReady();
  const child = fork(fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BULLMQ_HOST: redis.host,
      BULLMQ_PORT: String(redis.port),
      BULLMQ_QUEUE: name,
      BULLMQ_CONCURRENCY: String(bullmqSettings.concurrency),
    },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`BullMQ worker exited at start (${code})`)));
    child.on('message', (m: any) => m?.ready && resolve());
  });
  return {
    pid: child.pid!,
    async enqueue(events, fanout, tag) {
      const jobs = [];
      const timestamp = new Date().toISOString();
      for (let e = 0; e < events; e++) {
        const event = { id: `evt_${randomUUID()}`, type: 'bench.bullmq', timestamp, data: payload };
        for (let w = 0; w < fanout; w++)
          jobs.push({ name: 'deliver', data: { url: `${receiverUrl}/ok/${tag}/${w}`, event } });
      }
      await queue.addBulk(jobs);
      return jobs.length;
    },
    purge: () => queue.drain(true),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.disconnect();
        await exited;
      }
      await queue.close();
    },
  };
}
