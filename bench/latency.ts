/**
 * The latency phase: one event per `POST /events`, published open loop on a
 * fixed schedule whatever the answers, at each offered rate of the plan in
 * turn; latency is the receiver's arrival of the first attempt minus the time
 * the runner sent the publish (both read the same wall clock).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HooklineProcess } from './hookline.js';
import { nowMs, payload } from './payload.js';
import type { Receiver } from './receiver-client.js';
import { percentile, waitFor } from './steady.js';

export interface LatencyResult {
  offered_events_per_s: number;
  achieved_events_per_s: number;
  samples: number;
  missing: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  /** p99 of the POST /events round trip itself. */
  publish_p99_ms: number;
  /**
   * The slowest samples, slowest first: when in the window each was published (s), its
   * latency and its publish round trip (ms). Whether a p99 comes of a burst, a start or a
   * pause shows here. (Absent in runs before 2026-12-08.)
   */
  slowest?: Array<{ at_s: number; ms: number; publish_ms: number }>;
}

/** How many of the slowest samples a result names. */
const SLOWEST = 5;

/** Past this many requests in flight the server is not keeping up: stop offering more rather than pile up. */
const MAX_IN_FLIGHT = 2000;

/** One offered rate for `seconds`, on a webhook that sends to the receiver's `tag`. */
export async function measureLatency(o: {
  hl: HooklineProcess;
  receiver: Receiver;
  tag: string;
  eventType: string;
  rate: number;
  seconds: number;
  log(line: string): void;
}): Promise<LatencyResult> {
  const { hl, receiver, tag, rate } = o;
  // A fresh count per rate: stragglers of a faster rate before would otherwise count here.
  await receiver.reset(tag);
  await receiver.track(tag);
  const published = new Map<string, number>();
  const roundTrips: number[] = [];
  const roundTripOf = new Map<string, number>();
  let sent = 0;
  let errors = 0;
  let inflight = 0;
  const fire = async () => {
    const t = nowMs();
    inflight++;
    try {
      const res = await hl.call('POST', '/events', { event_type: o.eventType, payload });
      if (res.status === 202 || res.status === 200) {
        published.set(res.body.id, t);
        roundTrips.push(nowMs() - t);
        roundTripOf.set(res.body.id, nowMs() - t);
      } else errors++;
    } catch {
      errors++;
    } finally {
      inflight--;
    }
  };
  const t0 = nowMs();
  const end = t0 + o.seconds * 1000;
  const firing: Promise<void>[] = [];
  let lastLog = t0;
  while (nowMs() < end) {
    const due = Math.floor(((nowMs() - t0) * rate) / 1000);
    while (sent < due && inflight < MAX_IN_FLIGHT) {
      firing.push(fire());
      sent++;
    }
    if (nowMs() - lastLog > 2000) {
      lastLog = nowMs();
      o.log(
        `${tag} at ${rate}/s, ${((lastLog - t0) / 1000).toFixed(0)} s: ${sent} published, ${(await receiver.stats(tag)).distinct} received`,
      );
    }
    await sleep(1);
  }
  const elapsed = (nowMs() - t0) / 1000;
  await Promise.all(firing);
  await waitFor(async () => (await receiver.stats(tag)).distinct, published.size, 20);
  const arrivals = new Map(await receiver.arrivals(tag));
  const lat: number[] = [];
  const samples: Array<{ at_s: number; ms: number; publish_ms: number }> = [];
  for (const [id, t] of published) {
    const a = arrivals.get(id);
    if (a === undefined) continue;
    lat.push(a - t);
    samples.push({
      at_s: Number(((t - t0) / 1000).toFixed(2)),
      ms: Number((a - t).toFixed(1)),
      publish_ms: Number((roundTripOf.get(id) ?? NaN).toFixed(1)),
    });
  }
  samples.sort((a, b) => b.ms - a.ms);
  lat.sort((a, b) => a - b);
  roundTrips.sort((a, b) => a - b);
  return {
    offered_events_per_s: rate,
    achieved_events_per_s: published.size / elapsed,
    samples: lat.length,
    missing: published.size - lat.length + errors,
    p50_ms: percentile(lat, 50),
    p95_ms: percentile(lat, 95),
    p99_ms: percentile(lat, 99),
    max_ms: lat[lat.length - 1] ?? NaN,
    publish_p99_ms: percentile(roundTrips, 99),
    slowest: samples.slice(0, SLOWEST),
  };
}
