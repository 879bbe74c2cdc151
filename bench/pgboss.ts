/** The baseline's side in the runner: start the pg-boss worker process and enqueue jobs. */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import PgBoss from 'pg-boss';
import type { Baseline } from './baseline.js';
import { payload } from './payload.js';

export const pgbossSettings = {
  workers: Number(process.env.BENCH_PGBOSS_WORKERS ?? 8),
  batchSize: Number(process.env.BENCH_PGBOSS_BATCH ?? 100),
  pollingIntervalSeconds: 0.5,
};

export async function startPgBoss(databaseUrl: string, receiverUrl: string): Promise<Baseline> {
  const queue = 'deliveries';
  const producer = new PgBoss({
    connectionString: databaseUrl,
    max: 4,
    supervise: false,
    schedule: false,
  });
  producer.on('error', (err) => process.stderr.write(`pg-boss producer: ${err.message}\n`));
  await producer.start();
  await producer.createQueue(queue);
  const child = fork(fileURLToPath(new URL('./pgboss-worker.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      PGBOSS_URL: databaseUrl,
      PGBOSS_QUEUE: queue,
      PGBOSS_WORKERS: String(pgbossSettings.workers),
      PGBOSS_BATCH: String(pgbossSettings.batchSize),
    },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`pg-boss worker exited at start (${code})`)));
    child.on('message', (m: any) => m?.ready && resolve());
  });
  return {
    pid: child.pid!,
    async enqueue(events, fanout, tag) {
      const jobs: PgBoss.JobInsert[] = [];
      const timestamp = new Date().toISOString();
      for (let e = 0; e < events; e++) {
        const event = { id: `evt_${randomUUID()}`, type: 'bench.pgboss', timestamp, data: payload };
        for (let w = 0; w < fanout; w++)
          jobs.push({ name: queue, data: { url: `${receiverUrl}/ok/${tag}/${w}`, event } });
      }
      await producer.insert(jobs);
      return jobs.length;
    },
    purge: () => producer.purgeQueue(queue),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.disconnect();
        await exited;
      }
      await producer.stop({ graceful: false, wait: true });
    },
  };
}
