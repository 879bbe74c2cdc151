/**
 * Workers as separate claimers and as real processes on one PostgreSQL:
 * no double sends while both live, nothing lost to SIGKILL, SIGTERM drains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createTestApp, type TestApp } from '../support/app.js';
import { testStore } from '../support/db.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { spawnHookline } from '../support/cli.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createWorker } from '../../src/worker/loop.js';
import { createWake } from '../../src/worker/wake.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';

const onPostgres = testStore === 'postgres';
let t: TestApp;
const receivers: Receiver[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await createTestApp();
  // No worker in this process: publishes NOTIFY, as an API-only `serve` would.
  t.app.deps.wake = createWake(t.db);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const r of receivers) await r.close();
  await t?.close();
});

async function setup(delayMs: number) {
  const rx = await startReceiver(async (_req, res) => {
    await new Promise((r) => setTimeout(r, delayMs));
    res.writeHead(200).end();
  });
  receivers.push(rx);
  const o = await t.newOrg();
  await o.admin('POST', '/event-types', { name: 'job.done' });
  const hook = await o.admin('POST', '/webhooks', { name: 'h', url: rx.url, events: ['job.done'] });
  expect(hook.status).toBe(201);
  return { rx, o, hookId: hook.body.id as string };
}

async function publishMany(
  o: Awaited<ReturnType<typeof setup>>['o'],
  n: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const events = Array.from({ length: Math.min(100, n - i) }, (_, k) => ({
      event_type: 'job.done',
      payload: { n: i + k },
    }));
    const res = await o.publisher('POST', '/events/batch', { events });
    expect(res.status).toBe(202);
    ids.push(...res.body.data.map((e: { id: string }) => e.id));
  }
  return ids;
}

const statusCounts = async (hookId: string) =>
  Object.fromEntries(
    (
      await t.db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM deliveries WHERE webhook_id = $1 GROUP BY status',
        [hookId],
      )
    ).rows.map((r) => [r.status, r.n]),
  );

function spawnWorker(extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawnHookline(['worker'], {
    env: {
      DATABASE_URL: t.database.url!,
      HOOKLINE_DEV: '1',
      HOOKLINE_LEASE_SECONDS: '2',
      HOOKLINE_POOL_SIZE: '4',
      ...extraEnv,
    },
  });
  child.stderr?.on('data', () => {}); // drain; warnings are expected (released leases)
  children.push(child);
  return child;
}

const exited = (c: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null)
      resolve({ code: c.exitCode, signal: c.signalCode });
    else c.once('exit', (code, signal) => resolve({ code, signal }));
  });

describe.skipIf(!onPostgres)('workers sharing one PostgreSQL', () => {
  it('two live workers never send one claimed delivery twice, and both do work', async () => {
    const { rx, o, hookId } = await setup(3);
    const log = createLogger({ logLevel: 'silent' });
    const config = { ...t.config, workerBatchSize: 10, workerConcurrency: 20 };
    const dbB = await openPostgres(t.database.url!, { max: 4 });
    const a = createWorker({ db: t.db, config, metrics: createMetrics(), log }, { id: 'worker-a' });
    const b = createWorker({ db: dbB, config, metrics: createMetrics(), log }, { id: 'worker-b' });
    try {
      await a.start();
      await b.start();
      const ids = await publishMany(o, 400);
      await until(
        async () => (await statusCounts(hookId)).succeeded === 400,
        30_000,
        () => `${rx.requests.length} requests`,
      );
      const seen = rx.requests.map((r) => String(r.headers['webhook-id']));
      expect(seen).toHaveLength(400);
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(a.stats.claimed).toBeGreaterThan(0);
      expect(b.stats.claimed).toBeGreaterThan(0);
      // Each delivery claimed once for its one send; claims over the webhook's in-flight cap are handed back.
      expect(a.stats.claimed - a.stats.deferred + b.stats.claimed - b.stats.deferred).toBe(400);
    } finally {
      await a.stop({ drainMs: 1000 });
      await b.stop({ drainMs: 1000 });
      await dbB.close();
    }
  });

  it('a worker process killed with SIGKILL mid-batch loses nothing: a restarted one delivers the rest', async () => {
    const { rx, o, hookId } = await setup(40);
    const first = spawnWorker({ HOOKLINE_WORKER_CONCURRENCY: '16' });
    const ids = await publishMany(o, 300);
    await rx.waitFor(30, 30_000); // it is mid-batch: 16 requests in flight, more claimed
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await statusCounts(hookId);
    expect(atKill.sending ?? 0).toBeGreaterThan(0); // claims the dead worker held
    const second = spawnWorker();
    await until(
      async () => (await statusCounts(hookId)).succeeded === 300,
      60_000,
      () => JSON.stringify(rx.requests.length),
    );
    // At least once: every accepted event reached the receiver, with its webhook-id.
    expect(new Set(rx.requests.map((r) => String(r.headers['webhook-id'])))).toEqual(new Set(ids));
    second.kill('SIGTERM');
    expect((await exited(second)).code).toBe(0);
  }, 90_000);

  it('SIGTERM stops claiming, finishes what is in flight and exits 0', async () => {
    const { rx, o, hookId } = await setup(300);
    const child = spawnWorker({ HOOKLINE_WORKER_CONCURRENCY: '4', HOOKLINE_WORKER_BATCH: '4' });
    await publishMany(o, 40);
    await rx.waitFor(2, 30_000);
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code).toBe(0);
    const counts = await statusCounts(hookId);
    // Nothing left leased to the dead process: finished, or handed back to the queue.
    expect(counts.sending ?? 0).toBe(0);
    expect(counts.succeeded).toBeGreaterThanOrEqual(1);
    expect(counts.pending).toBeGreaterThan(0);
  }, 60_000);

  it("--metrics-port serves the worker's own delivery counters, /healthz and /readyz", async () => {
    const { rx, o } = await setup(0);
    const port = await freePort();
    const child = spawnWorker({ HOOKLINE_METRICS_PORT: String(port), HOOKLINE_HOST: '127.0.0.1' });
    const base = `http://127.0.0.1:${port}`;
    await until(
      async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200,
      30_000,
      () => 'the worker to answer /healthz',
    );
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await publishMany(o, 3);
    await rx.waitFor(3, 30_000);
    // Counted by this process (the API that published is another one), once each outcome is recorded.
    const succeeded = async () =>
      Number(
        /hookline_deliveries_total\{outcome="succeeded"\} (\d+)/.exec(
          await (await fetch(`${base}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    // At least these 3: the earlier tests may leave deliveries in the queue for this worker too.
    await until(
      async () => (await succeeded()) >= 3,
      30_000,
      () => 'the worker to count 3 succeeded deliveries',
    );
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/hookline_attempt_duration_seconds_count/);
    expect(text).toMatch(/hookline_queue_depth/);
    // Nothing but the health routes: no API on this port.
    expect((await fetch(`${base}/api/v1/webhooks`)).status).toBe(404);
    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);
  }, 60_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
