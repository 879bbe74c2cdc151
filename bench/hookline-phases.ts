/**
 * Hookline's phases on one store, all through the public API:
 *  1. an API-only process (worker off): ingest rate, single and batch; then a
 *     backlog of N deliveries is queued and the process stopped;
 *  2. a full process (API + worker) on the same data: backlog drain, steady
 *     end-to-end rate at fan-out 1 and 10, publish→first-attempt latency at
 *     each offered rate, isolation from a webhook that hangs, the rate with a
 *     small transformation against without, and (PostgreSQL) the rate with a
 *     transaction held open beside it;
 *  3. PostgreSQL only: the API alone with one, then two worker processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withClient, type BenchPostgres } from './database.js';
import { expectStatus, newAdminKey, startHookline, type HooklineProcess } from './hookline.js';
import { nowMs } from './payload.js';
import type { Plan } from './plan.js';
import { cpuSeconds, memory, treeCpuSeconds } from './proc.js';
import { ingest, publishBatch, type IngestResult } from './ingest.js';
import { measureLatency, type LatencyResult } from './latency.js';
import { ROUTING_TYPES, routingPhase, type RoutingResult } from './routing.js';
import {
  TRANSFORMATION_FANOUT,
  TRANSFORMATION_TYPES,
  transformationPhase,
  transformationWebhook,
  type TransformationResult,
} from './transformation.js';
import type { Receiver } from './receiver-client.js';
import { scaleOut, type ScaleOutResult } from './scale-out.js';
import { vacuumHeldBack, type VacuumHeldResult } from './vacuum-hold.js';
import {
  attemptBytes,
  snapshotTables,
  writesSince,
  type AttemptBytes,
  type TableWrites,
} from './table-writes.js';
import { backlogPublisher, measureSteady, waitFor, type SteadyResult } from './steady.js';

export type Store = 'pglite' | 'postgres';

export interface BacklogResult {
  deliveries: number;
  /** Seconds from the worker process answering /healthz to the last delivery. */
  drain_s?: number;
  deliveries_per_s?: number;
  complete: boolean;
  cpu_s_per_1000?: number;
  db_cpu_s_per_1000?: number;
  /** PostgreSQL: row writes per delivery, from queueing to the last record (table-writes.ts). */
  writes?: TableWrites;
  /** PostgreSQL: the attempt log's bytes per attempt once the backlog drained (table-writes.ts). */
  attempt_bytes?: AttemptBytes;
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
  /** One per offered rate of the plan, slowest first. */
  latency?: LatencyResult[];
  isolation?: IsolationResult;
  /** PostgreSQL: fan-out 10 with a transaction held open on the same database. */
  vacuum_held?: VacuumHeldResult;
  /** PostgreSQL: `serve --no-worker` with one, then two `worker` processes. */
  scale_out?: ScaleOutResult;
  routing?: RoutingResult;
  /** Fan-out 10 with a small transformation against without. */
  transformation?: TransformationResult;
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
  /** Whether to run the phase of this name (`--phases`); absent: every phase. */
  wantsPhase?(name: string): boolean;
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
  'bench.vacuum_held',
  'bench.scale_one',
  'bench.scale_two',
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
    if (ctx.wantsPhase && !ctx.wantsPhase(name)) {
      result.errors[name] = 'skipped: not in --phases';
      return undefined;
    }
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
    for (const name of [...TYPES, ...ROUTING_TYPES, ...TRANSFORMATION_TYPES])
      expectStatus(await hl.call('POST', '/event-types', { name }), `create ${name}`, 201, 409);
    const api = hl;
    const ingestHook = await createWebhook(api, 'ingest', to('ingest'), 'bench.ingest');
    const hooks: Record<string, string[]> = {
      drain: [],
      f1: [],
      f10: [],
      isoa: [],
      isob: [],
      vac: [],
      sc1: [],
      sc2: [],
      tplain: [],
      ttransformed: [],
    };
    for (let i = 0; i < 10; i++)
      hooks.drain.push(await createWebhook(api, `drain ${i}`, to('drain', i), 'bench.drain'));
    hooks.f1.push(await createWebhook(api, 'fan-out 1', to('f1'), 'bench.fanout_one'));
    for (let i = 0; i < 10; i++)
      hooks.f10.push(
        await createWebhook(api, `fan-out 10 #${i}`, to('f10', i), 'bench.fanout_ten'),
      );
    await createWebhook(api, 'latency', to('lat'), 'bench.latency');
    for (const [i, side] of (['plain', 'transformed'] as const).entries())
      for (let n = 0; n < TRANSFORMATION_FANOUT; n++)
        hooks[`t${side}`].push(
          await createWebhook(
            api,
            `${side} #${n}`,
            to(`t${side}`, n),
            TRANSFORMATION_TYPES[i],
            transformationWebhook(side),
          ),
        );
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
    if (store === 'postgres') {
      // Fan-out 10 each: the vacuum-held-back phase, and each run of the scale-out phase.
      for (const [name, type] of [
        ['vac', 'bench.vacuum_held'],
        ['sc1', 'bench.scale_one'],
        ['sc2', 'bench.scale_two'],
      ])
        for (let i = 0; i < 10; i++)
          hooks[name].push(await createWebhook(api, `${name} #${i}`, to(name, i), type));
    }
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
    const tablesBefore = databaseUrl ? await snapshotTables(databaseUrl) : undefined;
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
        if (r.complete && tablesBefore) {
          r.writes = await writesSince(databaseUrl!, tablesBefore, n);
          r.attempt_bytes = await attemptBytes(databaseUrl!);
        }
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
      on: HooklineProcess = full,
      processes?: Record<string, () => number>,
    ) => {
      const r = await measureSteady({
        label: `${store} ${label}`,
        warmupS,
        windowS,
        load: backlogPublisher({
          publish: async () => {
            // The 11th isolation webhook is not counted: only the 10 healthy ones are.
            const n = Math.min(500, Math.max(1, Math.round(plan.publishBatchDeliveries / fanout)));
            await publishBatch(on, type, n);
            return n * fanout;
          },
          delivered: delivered(name),
          highWater: plan.highWater,
          concurrency: 2,
        }),
        delivered: delivered(name),
        cpu: () => cpuSeconds(on.pid),
        dbCpu,
        processes,
        receiverPid: receiver.pid,
        progress: log,
        drainBoundS: plan.drainBoundS,
      });
      if (r.drain_after_s === undefined) {
        // What is still queued would slow the next phase: it goes with its webhooks.
        log(
          `${store} ${label}: backlog not drained in ${plan.drainBoundS} s; deleting its webhooks`,
        );
        for (const id of hooks[name]) await on.call('DELETE', `/webhooks/${id}`);
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
    result.transformation = await phase('transformation', 2 * steadyNeed, () =>
      transformationPhase(full, (side) =>
        steady(
          `t${side}`,
          `fan-out ${TRANSFORMATION_FANOUT}, ${side === 'plain' ? 'no transformation' : 'a small transformation'}`,
          TRANSFORMATION_TYPES[side === 'plain' ? 0 : 1],
          TRANSFORMATION_FANOUT,
          plan.warmupS,
          plan.windowS,
        ),
      ),
    );
    result.latency = [];
    for (const rate of plan.latencyRates) {
      const r = await phase(`latency ${rate}/s`, plan.latencyS + 10, () =>
        measureLatency({
          hl: full,
          receiver,
          tag: tag('lat'),
          eventType: 'bench.latency',
          rate,
          seconds: plan.latencyS,
          log,
        }),
      );
      if (r) result.latency.push(r);
    }

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

    // The hanging webhook would go on retrying (and taking slots) through the phases after.
    for (const id of hooks.isob) await full.call('DELETE', `/webhooks/${id}`);

    if (store === 'postgres') {
      result.vacuum_held = await phase(
        'vacuum held back',
        plan.warmupS + plan.vacuumHoldS + 10,
        () =>
          vacuumHeldBack(databaseUrl!, result.fanout_10?.deliveries_per_s, () =>
            steady(
              'vac',
              'fan-out 10, a transaction held open',
              'bench.vacuum_held',
              10,
              plan.warmupS,
              plan.vacuumHoldS,
            ),
          ),
      );
    } else {
      result.errors['vacuum held back'] =
        'not applicable: the embedded store has one connection, inside the Hookline process';
    }

    result.process = { peak_rss_mb: memory(full.pid).peakRssMb, cpu_s: cpuSeconds(full.pid) };
    if (store === 'postgres' && ctx.pg?.statements)
      result.statements = await topStatements(databaseUrl!);

    if (store === 'postgres') {
      await hl.stop();
      hl = undefined;
      result.scale_out = await phase('scale-out', 2 * (plan.warmupS + plan.windowS) + 30, () =>
        scaleOut({
          start: (command) =>
            startHookline({
              store,
              dataDir,
              databaseUrl,
              worker: false,
              command: command === 'api' ? 'serve' : 'worker',
              adminKey,
              logFile: ctx.logFile?.(store),
            }),
          measure: (api, run, processes) =>
            steady(
              `sc${run}`,
              `scale-out, ${run} worker process${run === 1 ? '' : 'es'}`,
              `bench.scale_${run === 1 ? 'one' : 'two'}`,
              10,
              plan.warmupS,
              plan.windowS,
              api,
              processes,
            ),
          dbCpu,
          log,
        }),
      );
    }
  } catch (err) {
    result.errors.run = err instanceof Error ? err.message : String(err);
    log(`${store}: ${result.errors.run}`);
  } finally {
    const code = await hl?.stop();
    if (code !== undefined && code !== 0)
      result.errors.exit = `exit code ${code}: ${hl?.output().slice(-1000)}`;
    for (const name of [
      'ingest',
      'drain',
      'f1',
      'f10',
      'lat',
      'isoa',
      'isob',
      'isox',
      'hang',
      'vac',
      'sc1',
      'sc2',
      'tplain',
      'ttransformed',
    ])
      await receiver.reset(tag(name));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
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
