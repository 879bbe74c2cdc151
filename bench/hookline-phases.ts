/**
 * Hookline's phases on one store, all through the public API:
 *  1. an API-only process (worker off): ingest rate, single and batch; then a
 *     backlog of N deliveries is queued and the process stopped;
 *  2. a full process (API + worker) on the same data: backlog drain, steady
 *     end-to-end rate at fan-out 1 and 10, publish→first-attempt latency at a
 *     fixed offered rate, and isolation from a webhook that hangs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { BenchPostgres } from './database.js';
import { expectStatus, newAdminKey, startHookline, type HooklineProcess } from './hookline.js';
import { nowMs, payload } from './payload.js';
import type { Plan } from './plan.js';
import { cpuSeconds, memory, treeCpuSeconds } from './proc.js';
import { ROUTING_TYPES, routingPhase, type RoutingResult } from './routing.js';
import type { Receiver } from './receiver-client.js';
import {
  backlogPublisher,
  measureSteady,
  percentile,
  waitFor,
  type SteadyResult,
} from './steady.js';

export type Store = 'pglite' | 'postgres';

export interface IngestResult {
  events_per_s: number;
  events: number;
  errors: number;
  concurrency: number;
  batch_size: number;
  p99_ms: number;
}

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
}

export interface BacklogResult {
  deliveries: number;
  /** Seconds from the worker process answering /healthz to the last delivery. */
  drain_s?: number;
  deliveries_per_s?: number;
  complete: boolean;
  cpu_s_per_1000?: number;
  db_cpu_s_per_1000?: number;
}

export interface IsolationResult {
  hang_timeout_s: number;
  healthy_without: SteadyResult;
  healthy_with: SteadyResult;
  /** healthy_with / healthy_without. */
  ratio: number;
  hung_requests: number;
}

export interface StoreResult {
  store: Store;
  ingest?: { single?: IngestResult; batch?: IngestResult };
  backlog?: BacklogResult;
  fanout_1?: SteadyResult;
  fanout_10?: SteadyResult;
  latency?: LatencyResult;
  isolation?: IsolationResult;
  routing?: RoutingResult;
  process?: { peak_rss_mb: number; cpu_s: number };
  /** Phases that failed or were skipped, with why. */
  errors: Record<string, string>;
  /** Top statements by total time (PostgreSQL with pg_stat_statements, --profile). */
  statements?: Array<{
    query: string;
    calls: number;
    total_ms: number;
    mean_ms: number;
    rows: number;
  }>;
}

export interface StoreContext {
  plan: Plan;
  receiver: Receiver;
  pg?: BenchPostgres;
  log(line: string): void;
  /** Seconds left in the run's budget. */
  remainingS(): number;
  profileDir?: string;
  /** Where each store's Hookline output goes. */
  logFile?(store: Store): string;
}

const TYPES = [
  'bench.ingest',
  'bench.drain',
  'bench.fanout_one',
  'bench.fanout_ten',
  'bench.latency',
  'bench.isolation_a',
  'bench.isolation_b',
] as const;

async function createWebhook(
  hl: HooklineProcess,
  name: string,
  url: string,
  eventType: string,
  extra: object = {},
): Promise<string> {
  const body = expectStatus(
    await hl.call('POST', '/webhooks', {
      name,
      url,
      events: [eventType],
      retry_delay_seconds: 10,
      ...extra,
    }),
    `create webhook ${name}`,
    201,
  );
  return body.id;
}

async function publishBatch(hl: HooklineProcess, type: string, n: number): Promise<void> {
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
async function ingest(
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

/** Open-loop publishing at a fixed rate, one event per POST /events; latency to the first attempt's arrival. */
async function latency(
  hl: HooklineProcess,
  ctx: StoreContext,
  tag: string,
): Promise<LatencyResult> {
  const { plan, receiver } = ctx;
  await receiver.track(tag);
  const published = new Map<string, number>();
  const roundTrips: number[] = [];
  let sent = 0;
  let errors = 0;
  let inflight = 0;
  const fire = async () => {
    const t = nowMs();
    inflight++;
    try {
      const res = await hl.call('POST', '/events', { event_type: 'bench.latency', payload });
      if (res.status === 202 || res.status === 200) {
        published.set(res.body.id, t);
        roundTrips.push(nowMs() - t);
      } else errors++;
    } catch {
      errors++;
    } finally {
      inflight--;
    }
  };
  const t0 = nowMs();
  const end = t0 + plan.latencyS * 1000;
  const firing: Promise<void>[] = [];
  let lastLog = t0;
  while (nowMs() < end) {
    const due = Math.floor(((nowMs() - t0) * plan.latencyRate) / 1000);
    // Past 2,000 requests in flight the server is not keeping up: stop offering more rather than pile up.
    while (sent < due && inflight < 2000) {
      firing.push(fire());
      sent++;
    }
    if (nowMs() - lastLog > 2000) {
      lastLog = nowMs();
      ctx.log(
        `${tag} ${((lastLog - t0) / 1000).toFixed(0)} s: ${sent} published, ${(await receiver.stats(tag)).distinct} received`,
      );
    }
    await sleep(1);
  }
  const elapsed = (nowMs() - t0) / 1000;
  await Promise.all(firing);
  await waitFor(async () => (await receiver.stats(tag)).distinct, published.size, 20);
  const arrivals = new Map(await receiver.arrivals(tag));
  const lat: number[] = [];
  for (const [id, t] of published) {
    const a = arrivals.get(id);
    if (a !== undefined) lat.push(a - t);
  }
  lat.sort((a, b) => a - b);
  roundTrips.sort((a, b) => a - b);
  return {
    offered_events_per_s: plan.latencyRate,
    achieved_events_per_s: published.size / elapsed,
    samples: lat.length,
    missing: published.size - lat.length + errors,
    p50_ms: percentile(lat, 50),
    p95_ms: percentile(lat, 95),
    p99_ms: percentile(lat, 99),
    max_ms: lat[lat.length - 1] ?? NaN,
    publish_p99_ms: percentile(roundTrips, 99),
  };
}

export async function benchStore(store: Store, ctx: StoreContext): Promise<StoreResult> {
  const { plan, receiver, log } = ctx;
  const result: StoreResult = { store, errors: {} };
  const dataDir = mkdtempSync(join(tmpdir(), `hookline-bench-${store}-`));
  const adminKey = newAdminKey();
  const databaseUrl =
    store === 'postgres' ? await ctx.pg!.createDatabase('bench_hookline') : undefined;
  const dbCpu = store === 'postgres' && ctx.pg?.pid ? () => treeCpuSeconds(ctx.pg!.pid) : undefined;
  const tag = (name: string) => `${store}-${name}`;
  const to = (name: string, i = 0) => `${receiver.url}/ok/${tag(name)}/${i}`;
  const delivered = (name: string) => async () => (await receiver.stats(tag(name))).distinct;
  const phase = async <T>(
    name: string,
    minS: number,
    fn: () => Promise<T>,
  ): Promise<T | undefined> => {
    if (ctx.remainingS() < minS) {
      result.errors[name] = 'skipped: out of time budget';
      log(`${store} ${name}: skipped (time budget)`);
      return undefined;
    }
    log(`${store} ${name}…`);
    try {
      return await fn();
    } catch (err) {
      result.errors[name] = err instanceof Error ? err.message : String(err);
      log(`${store} ${name} failed: ${result.errors[name]}`);
      return undefined;
    }
  };

  let hl: HooklineProcess | undefined;
  try {
    // 1. API only: ingest, then queue the backlog.
    hl = await startHookline({
      store,
      dataDir,
      databaseUrl,
      worker: false,
      adminKey,
      logFile: ctx.logFile?.(store),
    });
    for (const name of [...TYPES, ...ROUTING_TYPES])
      expectStatus(await hl.call('POST', '/event-types', { name }), `create ${name}`, 201, 409);
    const api = hl;
    const ingestHook = await createWebhook(api, 'ingest', to('ingest'), 'bench.ingest');
    const hooks: Record<string, string[]> = { drain: [], f1: [], f10: [], isoa: [], isob: [] };
    for (let i = 0; i < 10; i++)
      hooks.drain.push(await createWebhook(api, `drain ${i}`, to('drain', i), 'bench.drain'));
    hooks.f1.push(await createWebhook(api, 'fan-out 1', to('f1'), 'bench.fanout_one'));
    for (let i = 0; i < 10; i++)
      hooks.f10.push(
        await createWebhook(api, `fan-out 10 #${i}`, to('f10', i), 'bench.fanout_ten'),
      );
    await createWebhook(api, 'latency', to('lat'), 'bench.latency');
    // Isolation: 10 healthy webhooks and an 11th that is healthy (run a) or hangs until its timeout (run b).
    for (const run of ['a', 'b']) {
      for (let i = 0; i < 10; i++)
        hooks[`iso${run}`].push(
          await createWebhook(
            api,
            `healthy ${run}${i}`,
            to(`iso${run}`, i),
            `bench.isolation_${run}`,
          ),
        );
    }
    hooks.isoa.push(await createWebhook(api, 'healthy 11th', to('isox'), 'bench.isolation_a'));
    hooks.isob.push(
      await createWebhook(
        api,
        'hanging 11th',
        `${receiver.url}/hang/${tag('hang')}/0`,
        'bench.isolation_b',
        { timeout_seconds: plan.hangTimeoutS },
      ),
    );

    result.ingest = {};
    result.ingest.single = await phase('ingest single', 10, () =>
      ingest(api, plan, 1, plan.ingestConcurrency),
    );
    result.ingest.batch = await phase('ingest batch', 10, () =>
      ingest(api, plan, plan.ingestBatchSize, plan.ingestBatchConcurrency),
    );
    result.routing = await phase('routing filters', 20, () =>
      routingPhase(api, plan, to('routing')),
    );
    // The ingest deliveries were never meant to be sent: they go with their webhook.
    expectStatus(
      await api.call('DELETE', `/webhooks/${ingestHook}`),
      'delete the ingest webhook',
      200,
      204,
    );

    const backlogEvents = plan.backlogDeliveries / 10;
    const queued = await phase('queue backlog', 20, async () => {
      const t = nowMs();
      for (let n = 0; n < backlogEvents; n += 500)
        await publishBatch(api, 'bench.drain', Math.min(500, backlogEvents - n));
      log(
        `${store} queued ${plan.backlogDeliveries.toLocaleString('en-US')} deliveries in ${((nowMs() - t) / 1000).toFixed(1)} s`,
      );
      return true;
    });
    await hl.stop();
    hl = undefined;

    // 2. API + worker on the same data.
    if (store === 'postgres' && ctx.pg?.statements) await resetStatements(databaseUrl!);
    hl = await startHookline({
      store,
      dataDir,
      databaseUrl,
      worker: true,
      adminKey,
      cpuProfDir: ctx.profileDir,
      logFile: ctx.logFile?.(store),
    });
    const full = hl;
    const readyCpu = cpuSeconds(full.pid);
    const readyDb = dbCpu?.() ?? 0;
    const readyAt = nowMs();
    if (queued) {
      result.backlog = await phase('backlog drain', 10, async () => {
        const n = plan.backlogDeliveries;
        const secs = await waitFor(
          delivered('drain'),
          n,
          Math.min(plan.backlogBoundS, ctx.remainingS() - 5),
        );
        const got = await receiver.stats(tag('drain'));
        // From the first moment the worker could send (whichever came first: /healthz or the first arrival) to the last arrival.
        const drainS =
          secs === undefined ? undefined : (got.lastAt - Math.min(readyAt, got.firstAt)) / 1000;
        const r: BacklogResult = { deliveries: n, complete: secs !== undefined, drain_s: drainS };
        if (drainS) r.deliveries_per_s = n / drainS;
        else r.deliveries_per_s = got.distinct / ((nowMs() - readyAt) / 1000);
        if (got.distinct > 0) {
          r.cpu_s_per_1000 = ((cpuSeconds(full.pid) - readyCpu) * 1000) / got.distinct;
          if (dbCpu) r.db_cpu_s_per_1000 = ((dbCpu() - readyDb) * 1000) / got.distinct;
        }
        log(
          `${store} backlog: ${got.distinct.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} in ${((nowMs() - readyAt) / 1000).toFixed(1)} s`,
        );
        if (!r.complete) {
          // The rest would go out before the next phases' deliveries (oldest first): it goes with its webhooks.
          for (const id of hooks.drain) await full.call('DELETE', `/webhooks/${id}`);
        }
        return r;
      });
    }

    const steady = async (
      name: string,
      label: string,
      type: string,
      fanout: number,
      warmupS: number,
      windowS: number,
    ) => {
      const r = await measureSteady({
        label: `${store} ${label}`,
        warmupS,
        windowS,
        load: backlogPublisher({
          publish: async () => {
            // The 11th isolation webhook is not counted: only the 10 healthy ones are.
            const n = Math.min(500, Math.max(1, Math.round(plan.publishBatchDeliveries / fanout)));
            await publishBatch(full, type, n);
            return n * fanout;
          },
          delivered: delivered(name),
          highWater: plan.highWater,
          concurrency: 2,
        }),
        delivered: delivered(name),
        cpu: () => cpuSeconds(full.pid),
        dbCpu,
        receiverPid: receiver.pid,
        progress: log,
        drainBoundS: plan.drainBoundS,
      });
      if (r.drain_after_s === undefined) {
        // What is still queued would slow the next phase: it goes with its webhooks.
        log(
          `${store} ${label}: backlog not drained in ${plan.drainBoundS} s; deleting its webhooks`,
        );
        for (const id of hooks[name]) await full.call('DELETE', `/webhooks/${id}`);
      }
      return r;
    };
    const steadyNeed = plan.warmupS + plan.windowS + 5;
    result.fanout_1 = await phase('fan-out 1', steadyNeed, () =>
      steady('f1', 'fan-out 1', 'bench.fanout_one', 1, plan.warmupS, plan.windowS),
    );
    result.fanout_10 = await phase('fan-out 10', steadyNeed, () =>
      steady('f10', 'fan-out 10', 'bench.fanout_ten', 10, plan.warmupS, plan.windowS),
    );
    result.latency = await phase('latency', plan.latencyS + 10, () =>
      latency(full, ctx, tag('lat')),
    );

    result.isolation = await phase(
      'isolation',
      2 * (plan.isolationWarmupS + plan.isolationWindowS) + 10,
      async () => {
        const without = await steady(
          'isoa',
          'isolation, 11th webhook healthy',
          'bench.isolation_a',
          10,
          plan.isolationWarmupS,
          plan.isolationWindowS,
        );
        const withHang = await steady(
          'isob',
          'isolation, 11th webhook hanging',
          'bench.isolation_b',
          10,
          plan.isolationWarmupS,
          plan.isolationWindowS,
        );
        const hung = (await receiver.stats(tag('hang'))).hung;
        return {
          hang_timeout_s: plan.hangTimeoutS,
          healthy_without: without,
          healthy_with: withHang,
          ratio: withHang.deliveries_per_s / without.deliveries_per_s,
          hung_requests: hung,
        };
      },
    );

    result.process = { peak_rss_mb: memory(full.pid).peakRssMb, cpu_s: cpuSeconds(full.pid) };
    if (store === 'postgres' && ctx.pg?.statements)
      result.statements = await topStatements(databaseUrl!);
  } catch (err) {
    result.errors.run = err instanceof Error ? err.message : String(err);
    log(`${store}: ${result.errors.run}`);
  } finally {
    const code = await hl?.stop();
    if (code !== undefined && code !== 0)
      result.errors.exit = `exit code ${code}: ${hl?.output().slice(-1000)}`;
    for (const name of ['ingest', 'drain', 'f1', 'f10', 'lat', 'isoa', 'isob', 'isox', 'hang'])
      await receiver.reset(tag(name));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function resetStatements(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
  });
}

async function topStatements(url: string): Promise<StoreResult['statements']> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT query, calls, total_exec_time, mean_exec_time, total_plan_time, rows
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT 15`,
    );
    return rows.map((r) => ({
      query: String(r.query).replace(/\s+/g, ' ').slice(0, 400),
      calls: Number(r.calls),
      total_ms: Math.round(Number(r.total_exec_time)),
      mean_ms: Number(Number(r.mean_exec_time).toFixed(3)),
      plan_ms: Math.round(Number(r.total_plan_time)),
      rows: Number(r.rows),
    }));
  });
}
