/**
 * Process faults (docs/receiving.md, "Retries": "a worker that dies mid-request loses
 * nothing"): real `hookline worker` and `hookline serve` processes killed with
 * SIGKILL, a PostgreSQL server crashed and restarted, several workers sharing
 * one queue. After recovery every acknowledged publish reached the receiver
 * (counted by distinct webhook-id), duplicates stay within what was in flight,
 * and no publish is half-stored (an event without its deliveries).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import {
  createProcessStore,
  createTestDatabase,
  testStore,
  type TestDatabase,
} from '../support/db.js';
import { startFaultReceiver, type FaultReceiver } from '../support/fault-receiver.js';
import { until } from '../support/receiver.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres-server.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { migrate } from '../../src/store/migrate.js';
import {
  eventsWithoutDeliveries,
  http,
  inProcessApi,
  killAll,
  publishMany,
  staleLeases,
  startPublisher,
  startServe,
  startWorker,
  statusCounts,
  type Proc,
} from './harness.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await killAll();
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

let rx: FaultReceiver;
const receiver = async () => (rx ??= await startFaultReceiver());
afterAll(async () => rx?.close());

/** Fast retries for everything a test process starts (a test-only variable, not a flag). */
const fast = { HOOKLINE_TEST_RETRY_DELAY_SCALE: '0.001' };

describe.runIf(testStore === 'postgres')('workers on PostgreSQL', () => {
  let tdb: TestDatabase;
  const setup = async (webhookUrl: string) => {
    tdb = await createTestDatabase({ poolSize: 4 });
    const api = await inProcessApi(tdb.db);
    cleanups.push(
      () => tdb.drop(),
      () => api.close(),
    );
    expect((await api.call('POST', '/event-types', { name: 'ticket.created' })).status).toBe(201);
    const hook = await api.call('POST', '/webhooks', {
      name: 'faults',
      url: webhookUrl,
      events: ['ticket.created'],
      retry_delay_seconds: 10,
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    return api;
  };

  it('a worker killed (SIGKILL) in the middle of 5,000 deliveries: a restarted worker delivers every one, duplicates only from what was in flight', async () => {
    const r = await receiver();
    const url = r.url({ kind: 'delay', ms: 20 });
    const api = await setup(url);
    const ids = await publishMany(api.call, 5_000);
    expect(new Set(ids).size).toBe(5_000);

    const flags = ['--worker-batch', '100', '--worker-concurrency', '40', '--lease-seconds', '2'];
    const first = startWorker(tdb.url!, flags, fast);
    const seen = () => r.stats(url).ids.size;
    await until(
      () => seen() >= 1_500,
      60_000,
      () => `1,500 deliveries before the kill (${seen()}):\n${first.output()}`,
    );
    await first.kill('SIGKILL');
    // What the dead worker held: claimed (maybe sent), never recorded.
    const atKill = await statusCounts(tdb.db);
    const inFlight = atKill.sending ?? 0;
    const seenAtKill = seen();
    expect(seenAtKill).toBeLessThan(5_000); // killed mid-batch, not after

    const second = startWorker(tdb.url!, flags, fast);
    await until(
      () => seen() >= 5_000,
      90_000,
      () => `all 5,000 after the restart (${seen()}):\n${second.output()}`,
    );
    await until(
      async () => (await statusCounts(tdb.db)).succeeded === 5_000,
      30_000,
      async () => JSON.stringify(await statusCounts(tdb.db)),
    );

    const stats = r.stats(url);
    const duplicates = stats.requests - stats.ids.size;
    console.info(
      `[faults] worker SIGKILL: accepted 5000, delivered ${stats.ids.size}, duplicates ${duplicates}, in flight at kill ${inFlight}, seen at kill ${seenAtKill}`,
    );
    for (const id of ids) expect(stats.ids.has(id)).toBe(true);
    // Only the dead worker's unrecorded claims can go out twice: at most a batch plus what was in flight.
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    expect(inFlight).toBeLessThanOrEqual(100 + 40);
    // The log agrees with the receiver: one attempt per request it saw.
    const { rows } = await tdb.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM delivery_attempts',
    );
    expect(rows[0].n).toBeLessThanOrEqual(stats.requests);
    expect(rows[0].n).toBeGreaterThanOrEqual(5_000);
    await second.kill('SIGTERM');
  }, 180_000);

  it('two, then four live workers on one queue never send a delivery twice', async () => {
    const r = await receiver();
    const url = r.url({ kind: 'delay', ms: 10 });
    const api = await setup(url);
    // A long lease: while every worker lives nothing may be reaped, so any duplicate is a claim bug.
    const flags = ['--worker-batch', '25', '--worker-concurrency', '10', '--lease-seconds', '120'];
    const procs: Proc[] = [];
    const ids: string[] = [];
    const listening = async () => {
      const { rows } = await tdb.db.query<{ n: number }>(
        `SELECT count(DISTINCT pid)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hookline-listen'`,
      );
      return rows[0].n;
    };
    for (const [workers, count] of [
      [2, 1_500],
      [4, 1_500],
    ] as const) {
      while (procs.length < workers) procs.push(startWorker(tdb.url!, flags, fast));
      // All of them up (each holds its LISTEN connection) before the work arrives, so they race for it.
      await until(
        async () => (await listening()) >= workers,
        60_000,
        () => `${workers} workers listening:\n${procs.map((p) => p.output()).join('\n')}`,
      );
      ids.push(...(await publishMany(api.call, count)));
      // Sampled while they work: how many workers hold claims at the same moment (proves they really compete).
      let together = 0;
      await until(
        async () => {
          const { rows } = await tdb.db.query<{ n: number }>(
            `SELECT count(DISTINCT worker_id)::int AS n FROM deliveries WHERE status = 'sending'`,
          );
          together = Math.max(together, rows[0].n);
          return r.stats(url).ids.size >= ids.length;
        },
        90_000,
        () => `${ids.length} deliveries (${r.stats(url).ids.size})`,
      );
      expect(together, procs.map((p) => p.output()).join('\n=====\n')).toBeGreaterThanOrEqual(2);
      await until(
        async () => (await statusCounts(tdb.db)).succeeded === ids.length,
        30_000,
        async () => JSON.stringify(await statusCounts(tdb.db)),
      );
      const stats = r.stats(url);
      const { rows } = await tdb.db.query<{ attempts: number; logged: number; n: number }>(
        `SELECT sum(attempts)::int AS attempts, (SELECT count(*)::int FROM delivery_attempts) AS logged, count(*)::int AS n FROM deliveries`,
      );
      console.info(
        `[faults] ${workers} workers: accepted ${ids.length}, delivered ${stats.ids.size}, requests ${stats.requests}, attempts ${rows[0].attempts}, workers holding claims at once ${together}`,
      );
      for (const id of ids) expect(stats.ids.has(id)).toBe(true);
      expect(stats.requests).toBe(ids.length); // no duplicates at all
      expect(rows[0]).toEqual({ attempts: ids.length, logged: ids.length, n: ids.length });
      for (const p of procs) expect(p.alive(), p.output()).toBe(true);
    }
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    // SIGTERM drains and exits 0.
    for (const p of procs) expect((await p.exited).code, p.output()).toBe(0);
  }, 240_000);
});

describe.runIf(testStore === 'postgres')('PostgreSQL restarted under load', () => {
  let server: TestPostgres;
  afterAll(async () => server?.stop());

  it('a crash and restart of PostgreSQL while publishing and delivering loses no acknowledged event', async () => {
    server = await startTestPostgres({ settings: { synchronous_commit: 'on' } });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE hookline');
    await admin.end();
    const dbUrl = server.url.replace(/\/postgres$/, '/hookline');
    const r = await receiver();
    const url = r.url({ kind: 'delay', ms: 5 });
    const serve = await startServe({
      databaseUrl: dbUrl,
      args: ['--lease-seconds', '5'],
      env: fast,
    });
    expect((await http(serve.url, 'POST', '/event-types', { name: 'ticket.created' })).status).toBe(
      201,
    );
    expect(
      (
        await http(serve.url, 'POST', '/webhooks', {
          name: 'pg',
          url,
          events: ['ticket.created'],
          retry_delay_seconds: 10,
        })
      ).status,
    ).toBe(201);

    const pub = startPublisher(() => serve.url, { concurrency: 4 });
    await until(
      () => pub.accepted.size >= 200 && r.stats(url).ids.size >= 50,
      60_000,
      () => `publishing before the crash (${pub.accepted.size})`,
    );
    await server.halt('SIGQUIT'); // immediate shutdown: no checkpoint, crash recovery at start
    await until(
      () => pub.errored.length >= 4,
      20_000,
      () => 'publishes to fail while the database is down',
    );
    const acceptedDuringOutage = pub.accepted.size;
    await server.start();
    await until(
      () => pub.accepted.size >= acceptedDuringOutage + 200,
      60_000,
      () => `publishing after the restart (${pub.accepted.size}):\n${serve.output()}`,
    );
    await pub.stop();
    expect(serve.alive(), serve.output()).toBe(true);

    const accepted = [...pub.accepted.keys()];
    const seen = r.stats(url).ids;
    await until(
      () => accepted.every((id) => seen.has(id)),
      60_000,
      () =>
        `every acknowledged event delivered (${accepted.filter((id) => !seen.has(id)).length} missing):\n${serve.output()}`,
    );

    const db = await openPostgres(dbUrl, { max: 2 });
    cleanups.push(() => db.close());
    expect(await eventsWithoutDeliveries(db)).toEqual([]);
    // serve's one LISTEN connection (worker wakes, API-key revocations) came back by itself.
    const listening = async () =>
      (
        await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'hookline-listen' AND datname = current_database()",
        )
      ).rows[0].n;
    await until(
      async () => (await listening()) === 1,
      30_000,
      async () => `serve's LISTEN connection (${await listening()}):\n${serve.output()}`,
    );
    await until(
      async () =>
        ((await statusCounts(db)).pending ?? 0) + ((await statusCounts(db)).sending ?? 0) === 0,
      30_000,
      async () => JSON.stringify(await statusCounts(db)),
    );
    expect(await staleLeases(db)).toBe(0);
    const stats = r.stats(url);
    console.info(
      `[faults] PostgreSQL restart: accepted ${accepted.length}, errored ${pub.errored.length}, delivered ${stats.ids.size}, duplicates ${stats.requests - stats.ids.size}, statuses ${JSON.stringify(await statusCounts(db))}`,
    );
    await serve.kill('SIGTERM');
  }, 180_000);
});

describe.runIf(testStore === 'pglite')('the single embedded-store process killed', () => {
  it('SIGKILL of `hookline serve` while publishing: every acknowledged publish is delivered after a restart, none half-stored', async () => {
    const store = await createProcessStore({ empty: true });
    cleanups.push(() => store.drop());
    const dataDir = store.dataDir!;
    const r = await receiver();
    const url = r.url('ok');
    // A short lease: what the killed process had claimed goes out again after it.
    const args = ['--lease-seconds', '3'];
    let serve = await startServe({ dataDir, args, env: fast });
    expect((await http(serve.url, 'POST', '/event-types', { name: 'ticket.created' })).status).toBe(
      201,
    );
    expect(
      (
        await http(serve.url, 'POST', '/webhooks', {
          name: 'embedded',
          url,
          events: ['ticket.created'],
          retry_delay_seconds: 10,
        })
      ).status,
    ).toBe(201);

    const pub = startPublisher(() => serve.url, { concurrency: 4 });
    await until(
      () => pub.accepted.size >= 150,
      60_000,
      () => `publishing before the kill (${pub.accepted.size}):\n${serve.output()}`,
    );
    await serve.kill('SIGKILL');
    await pub.stop();
    const beforeKill = new Map(pub.accepted);

    serve = await startServe({ dataDir, args, env: fast });
    // It still takes publishes after the crash.
    const again = startPublisher(() => serve.url, { concurrency: 2, max: 20 });
    await again.done();
    expect(again.accepted.size).toBe(20);

    const accepted = [...beforeKill.keys(), ...again.accepted.keys()];
    const seen = r.stats(url).ids;
    await until(
      () => accepted.every((id) => seen.has(id)),
      60_000,
      () =>
        `every acknowledged event delivered (${accepted.filter((id) => !seen.has(id)).length} missing):\n${serve.output()}`,
    );
    // What the killed process sent but never recorded is still leased to it: delivered, but not
    // finished until its lease ends, the reaper hands it back and the resend is recorded. Wait for
    // that state, not for the receiver: a quick restart leaves the stop below inside the lease.
    const unfinished = async () => {
      const pages = await Promise.all(
        ['pending', 'retrying', 'sending'].map((s) =>
          http(serve.url, 'GET', `/deliveries?status=${s}&limit=10`),
        ),
      );
      return pages.flatMap((p) => (p.body as { data: Array<{ id: string }> }).data);
    };
    await until(
      async () => (await unfinished()).length === 0,
      60_000,
      async () => `deliveries not finished: ${JSON.stringify(await unfinished())}`,
    );
    await serve.kill('SIGTERM');

    // The data directory, opened after a clean stop: nothing half-stored, nothing left behind.
    const db = await openPglite(join(dataDir, 'db'));
    cleanups.push(() => db.close());
    await migrate(db);
    expect(await eventsWithoutDeliveries(db)).toEqual([]);
    const counts = await statusCounts(db);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    const stats = r.stats(url);
    console.info(
      `[faults] serve SIGKILL (embedded): accepted ${accepted.length}, errored ${pub.errored.length}, stored ${rows[0].n}, delivered ${stats.ids.size}, duplicates ${stats.requests - stats.ids.size}, statuses ${JSON.stringify(counts)}`,
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(accepted.length);
    // Stored but unacknowledged (the answer was lost in the kill) is fine, as long as it is whole and delivered.
    expect(counts.succeeded).toBe(rows[0].n);
  }, 300_000);
});
