/**
 * Publishing as the ingest phase does it: closed loop, single `POST /events` or
 * `POST /events/batch`, on an API-only process; also the batch publish every
 * steady phase uses to keep its queue full.
 */
import { expectStatus, type HooklineProcess } from './hookline.js';
import { nowMs, payload } from './payload.js';
import type { Plan } from './plan.js';
import { percentile } from './steady.js';

export interface IngestResult {
  events_per_s: number;
  events: number;
  errors: number;
  concurrency: number;
  batch_size: number;
  p99_ms: number;
}

/** Publishes `n` events of `type` in one `POST /events/batch`. */
export async function publishBatch(hl: HooklineProcess, type: string, n: number): Promise<void> {
  const events = Array.from({ length: n }, () => ({ event_type: type, payload }));
  expectStatus(
    await hl.call('POST', '/events/batch', { events }),
    'POST /events/batch',
    200,
    201,
    202,
  );
}

/** Closed-loop publishing: a short warm-up, then a timed window (bounded in count); events/s accepted in the window. */
export async function ingest(
  hl: HooklineProcess,
  plan: Plan,
  batchSize: number,
  concurrency: number,
): Promise<IngestResult> {
  let events = 0;
  let errors = 0;
  const times: number[] = [];
  const warmTimes: number[] = [];
  const start = nowMs();
  const t0 = start + plan.ingestWarmupS * 1000;
  const until = t0 + plan.ingestS * 1000;
  let atT0: number | undefined;
  const loop = async () => {
    while (nowMs() < until && events < plan.ingestMaxEvents) {
      const s = nowMs();
      try {
        if (batchSize === 1) {
          expectStatus(
            await hl.call('POST', '/events', { event_type: 'bench.ingest', payload }),
            'POST /events',
            200,
            202,
          );
        } else {
          await publishBatch(hl, 'bench.ingest', batchSize);
        }
        if (s >= t0) {
          atT0 ??= events;
          times.push(nowMs() - s);
        } else warmTimes.push(nowMs() - s);
        events += batchSize;
      } catch (err) {
        if (++errors > 100) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const end = Math.min(nowMs(), until);
  // A fast store can reach the event cap inside the warm-up: then the whole run is the window
  // (warm-up included), rather than an empty window reading as no figure at all.
  const warmupOnly = atT0 === undefined;
  const from = warmupOnly ? start : t0;
  const counted = events - (atT0 ?? 0);
  const latencies = warmupOnly ? warmTimes : times;
  latencies.sort((a, b) => a - b);
  return {
    events_per_s: end > from ? (counted * 1000) / (end - from) : NaN,
    events: counted,
    errors,
    concurrency,
    batch_size: batchSize,
    p99_ms: percentile(latencies, 99),
  };
}
