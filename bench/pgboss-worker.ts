/**
 * The do-it-yourself baseline's worker process: what a team would write
 * instead of Hookline. pg-boss is the queue, one job per delivery; workers
 * fetch jobs in batches and send each with fetch(), signed like Hookline signs.
 * Settings come from the parent: PGBOSS_URL, PGBOSS_QUEUE, PGBOSS_WORKERS, PGBOSS_BATCH.
 */
import PgBoss from 'pg-boss';
import { signedHeaders } from './payload.js';

interface DeliveryJob {
  url: string;
  event: { id: string; type: string; timestamp: string; data: unknown };
}

const boss = new PgBoss({
  connectionString: process.env.PGBOSS_URL!,
  max: Number(process.env.PGBOSS_POOL ?? 10),
});
boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
await boss.start();
const queue = process.env.PGBOSS_QUEUE!;
await boss.createQueue(queue);

async function send(job: PgBoss.Job<DeliveryJob>): Promise<void> {
  const body = JSON.stringify(job.data.event);
  const res = await fetch(job.data.url, {
    method: 'POST',
    headers: signedHeaders(job.data.event.id, job.data.event.type, body),
    body,
    signal: AbortSignal.timeout(30_000),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

const workers = Number(process.env.PGBOSS_WORKERS ?? 4);
const batchSize = Number(process.env.PGBOSS_BATCH ?? 50);
for (let i = 0; i < workers; i++) {
  // A failed send fails the whole batch and pg-boss retries it: the usual shape of such a worker.
  await boss.work<DeliveryJob>(queue, { batchSize, pollingIntervalSeconds: 0.5 }, (jobs) =>
    Promise.all(jobs.map(send)),
  );
}
process.send?.({ ready: true });
process.on('disconnect', () => {
  boss.stop({ graceful: false, wait: false }).finally(() => process.exit(0));
});
