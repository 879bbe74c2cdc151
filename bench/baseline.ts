/**
 * A do-it-yourself baseline (pg-boss, BullMQ): a queue with one job per
 * delivery and a worker process that sends them. Both are measured the same
 * way, at fan-out 1 and 10, with the steady-state method of Hookline's phases.
 */
import type { Plan } from './plan.js';
import type { Receiver } from './receiver-client.js';
import { cpuSeconds } from './proc.js';
import { backlogPublisher, measureSteady, type SteadyResult } from './steady.js';

export interface Baseline {
  /** The worker process. */
  pid: number;
  /** Enqueues `events` events, each fanned out to `fanout` receiver paths; returns jobs queued. */
  enqueue(events: number, fanout: number, tag: string): Promise<number>;
  /** Drops the jobs not yet started (what a phase left behind). */
  purge(): Promise<void>;
  stop(): Promise<void>;
}

/** Fan-out 1, then 10; `serverCpu` is the queue's server (PostgreSQL, Redis). */
export async function measureBaseline(
  label: string,
  baseline: Baseline,
  o: { plan: Plan; receiver: Receiver; log(s: string): void; serverCpu(): number },
): Promise<{ fanout_1: SteadyResult; fanout_10: SteadyResult }> {
  const { plan, receiver, log } = o;
  const phase = async (fanout: number): Promise<SteadyResult> => {
    const tag = `${label.replace(/\W/g, '')}-f${fanout}`;
    await receiver.reset(tag);
    const delivered = async () => (await receiver.stats(tag)).distinct;
    const r = await measureSteady({
      label: `${label} fan-out ${fanout}`,
      warmupS: plan.warmupS,
      windowS: plan.windowS,
      load: backlogPublisher({
        publish: () =>
          baseline.enqueue(Math.ceil(plan.publishBatchDeliveries / fanout), fanout, tag),
        delivered,
        highWater: plan.highWater,
        concurrency: 2,
      }),
      delivered,
      cpu: () => cpuSeconds(baseline.pid),
      dbCpu: o.serverCpu,
      receiverPid: receiver.pid,
      progress: log,
      drainBoundS: plan.drainBoundS,
    });
    if (r.drain_after_s === undefined) {
      log(
        `${label} fan-out ${fanout}: backlog not drained in ${plan.drainBoundS} s; purging the queue`,
      );
      await baseline.purge();
    }
    await receiver.reset(tag);
    return r;
  };
  const fanout_1 = await phase(1);
  const fanout_10 = await phase(10);
  return { fanout_1, fanout_10 };
}
