/**
 * The second do-it-yourself baseline's worker process: BullMQ on Redis, one job
 * per delivery, sending each with undici, signed like Hookline signs. Settings
 * come from the parent: BULLMQ_HOST, BULLMQ_PORT, BULLMQ_QUEUE, BULLMQ_CONCURRENCY.
 */
import { Worker, type Job } from 'bullmq';
import { Agent, request } from 'undici';
import { signedHeaders } from './payload.js';

interface DeliveryJob {
  url: string;
  event: { id: string; type: string; timestamp: string; data: unknown };
}

const concurrency = Number(process.env.BULLMQ_CONCURRENCY ?? 128);
const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });

async function send(job: Job<DeliveryJob>): Promise<void> {
  const body = JSON.stringify(job.data.event);
  const res = await request(job.data.url, {
    method: 'POST',
    headers: signedHeaders(job.data.event.id, job.data.event.type, body),
    body,
    dispatcher,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  await res.body.dump();
  // A failed job is retried by BullMQ (the attempts the producer set).
  if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`HTTP ${res.statusCode}`);
}

const worker = new Worker<DeliveryJob>(process.env.BULLMQ_QUEUE!, send, {
  connection: {
    host: process.env.BULLMQ_HOST,
    port: Number(process.env.BULLMQ_PORT),
    maxRetriesPerRequest: null,
  },
  concurrency,
});
worker.on('error', (err) => process.stderr.write(`bullmq worker: ${err.message}\n`));
await worker.waitUntilReady();
process.send?.({ ready: true });
process.on('disconnect', () => {
  worker.close(true).finally(() => process.exit(0));
});
