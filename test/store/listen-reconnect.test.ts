/**
 * LISTEN/NOTIFY as the processes use it, on PostgreSQL: a serve process holds
 * one listening backend for all its channels, and when that backend is killed
 * (pg_terminate_backend) the process comes back by itself: the API-key cache is
 * cleared and the worker looks at the queue, without waiting for a poll.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { startServer } from '../../src/server.js';
import { testConfig } from '../support/config.js';
import { generateSecret } from '../../src/core/signing.js';
import type { Db } from '../../src/store/db.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createWorker, type Worker } from '../../src/worker/loop.js';
import { createWake } from '../../src/worker/wake.js';
import { caller, createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, testStore } from '../support/db.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** The `hookline-listen` backends on the database `q` is connected to. */
async function listenPids(q: Db): Promise<number[]> {
  const { rows } = await q.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'hookline-listen' AND datname = current_database() ORDER BY pid",
  );
  return rows.map((r) => r.pid);
}

async function terminate(q: Db, pids: number[]): Promise<void> {
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) await q.query('SELECT pg_terminate_backend($1)', [pid]);
}

/** Long enough that a test passing within it was not helped by the timer it replaces. */
const NEVER_MS = 10 * 60_000;

describe.runIf(testStore === 'postgres')(
  'LISTEN in the processes, on PostgreSQL',
  { timeout: 120_000 },
  () => {
    it('a serve process holds ONE listening backend for the worker, API-key and relay channels, and gets it back after it is killed', async () => {
      const tdb = await createTestDatabase({ poolSize: 2 });
      cleanups.push(() => tdb.drop());
      const lines: Array<{ level: number; msg: string }> = [];
      const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
      const adminKey = `listen-serve-admin-key-${generateSecret().slice(6, 30)}`;
      const server = await startServer(
        testConfig({ databaseUrl: tdb.url, port: 0, host: '127.0.0.1', adminKey, worker: true }),
        log,
      );
      cleanups.push(() => server.stop());
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}/api/v1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${adminKey}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      // The relay routes LISTEN on first use: one long-poll makes it the third subscription.
      const relay = await call('POST', '/relay', {
        session: 'count',
        secret: generateSecret(),
        events: ['*'],
      });
      expect(relay.status).toBe(200);
      expect((await call('GET', `/relay/${relay.body.id}/next?wait=0`)).status).toBe(200);

      const before = await listenPids(tdb.db);
      expect(before).toHaveLength(1);

      await terminate(tdb.db, before);
      const back = () =>
        lines.some((l) => l.msg.startsWith('the LISTEN connection to PostgreSQL is back'));
      await until(
        back,
        20_000,
        () => `the recovery log line:\n${lines.map((l) => l.msg).join('\n')}`,
      );
      const after = await listenPids(tdb.db);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[0]);
      const listenLines = lines.filter((l) => l.msg.includes('LISTEN connection'));
      // pino levels: 40 warn, 30 info. One warning on the drop, one info on the recovery.
      expect(listenLines.map((l) => l.level)).toEqual([40, 30]);
      expect((await call('GET', '/me')).status).toBe(200);
    });

    describe('after the listening connection was killed and came back', () => {
      let t: TestApp;
      const started = async () => {
        if (t) return t;
        t = await createTestApp();
        cleanups.push(() => t.close());
        return t;
      };

      it('another API process refuses a key revoked while it could not hear (its key cache is cleared), and hears revocations again', async () => {
        const t = await started();
        // A second API process: its own pool and listening connection, keys remembered for 10 minutes
        // so that only the reconnect or a NOTIFY can make it forget one.
        const db2 = await openPostgres(t.database.url!, { max: 2 });
        const app2: FastifyInstance = await buildApp(
          { db: db2, config: t.config, metrics: createMetrics(), wake: () => {} },
          { apiKeyCacheMs: NEVER_MS },
        );
        const foreign = await listenPids(t.db);
        await app2.ready();
        cleanups.push(async () => {
          await app2.close();
          await db2.close();
        });
        const mine = (await listenPids(t.db)).filter((pid) => !foreign.includes(pid));
        expect(mine).toHaveLength(1);
        // Reconnect callbacks run in subscription order: once this one ran, the auth plugin's has.
        let reconnects = 0;
        await db2.listen('hl_test_probe', () => {}, { onReconnect: () => reconnects++ });

        const key = (
          await t.org.admin('POST', '/api-keys', { role: 'viewer', name: 'revoked unheard' })
        ).body;
        const elsewhere = caller(app2, key.key);
        expect((await elsewhere('GET', '/me')).status).toBe(200);
        // Revoked with no NOTIFY, as if it had been sent while app2's connection was down: app2 still
        // remembers the key.
        await t.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
        expect((await elsewhere('GET', '/me')).status).toBe(200);

        await terminate(t.db, mine);
        await until(
          () => reconnects === 1,
          20_000,
          () => 'the reconnect',
        );
        expect((await elsewhere('GET', '/me')).status).toBe(401);

        // The revocation channel is LISTENed again: a revocation through the API reaches app2.
        const other = (
          await t.org.admin('POST', '/api-keys', { role: 'viewer', name: 'revoked heard' })
        ).body;
        const asOther = caller(app2, other.key);
        expect((await asOther('GET', '/me')).status).toBe(200);
        expect((await t.org.admin('DELETE', `/api-keys/${other.id}`)).status).toBe(200);
        await until(
          async () => (await asOther('GET', '/me')).status === 401,
          20_000,
          () => 'app2 to refuse the key revoked through the API',
        );
      });

      it('a worker with a 10-minute idle poll delivers work it was never told about once its connection is back, and NOTIFYs reach it again', async () => {
        const t = await started();
        const rx: Receiver = await startReceiver();
        cleanups.push(() => rx.close());
        await t.org.admin('POST', '/event-types', { name: 'listen.poked' });
        const hook = await t.org.admin('POST', '/webhooks', {
          name: 'listen',
          url: rx.url,
          events: ['listen.poked'],
        });
        expect(hook.status).toBe(201);

        // The worker is another process: its own Db; publishes reach it only by NOTIFY.
        const dbW = await openPostgres(t.database.url!, { max: 4 });
        const foreign = await listenPids(t.db);
        const log = createLogger({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' });
        const worker: Worker = createWorker(
          { db: dbW, config: t.config, metrics: createMetrics(), log },
          { idlePollMs: NEVER_MS, maintenance: false },
        );
        await worker.start();
        cleanups.push(async () => {
          await worker.stop({ drainMs: 1000 });
          await dbW.close();
        });
        const workerPids = async () =>
          (await listenPids(t.db)).filter((pid) => !foreign.includes(pid));
        expect(await workerPids()).toHaveLength(1);
        // Reconnect callbacks run in subscription order: once this one ran, the worker's has.
        let reconnects = 0;
        await dbW.listen('hl_test_probe', () => {}, { onReconnect: () => reconnects++ });
        const notifying = createWake(t.db);
        const publish = async (n: number) => {
          const res = await t.org.publisher('POST', '/events', {
            event_type: 'listen.poked',
            payload: { n },
          });
          expect(res.status).toBe(202);
          return res.body.id as string;
        };
        const delivered = (id: string) => rx.requests.some((r) => r.headers['webhook-id'] === id);

        // Woken by NOTIFY; then it sleeps (its idle poll is 10 minutes). The webhook's health is
        // written last, after the outcome: by then the worker has long gone to sleep.
        t.app.deps.wake = notifying;
        const first = await publish(1);
        await until(
          () => delivered(first),
          20_000,
          () => 'the first delivery (NOTIFY)',
        );
        await until(
          async () =>
            (await t.db.query('SELECT last_success_at FROM webhooks WHERE id = $1', [hook.body.id]))
              .rows[0].last_success_at !== null,
          20_000,
        );

        // Published with no NOTIFY at all: stands for one sent while the connection was down.
        t.app.deps.wake = () => {};
        const unheard = await publish(2);
        await terminate(t.db, await workerPids());
        await until(
          () => delivered(unheard),
          30_000,
          () => 'the delivery nobody announced, after the reconnect',
        );
        expect(reconnects).toBe(1);

        // Killed again, and published at once with a NOTIFY: lost or heard, the worker delivers it.
        t.app.deps.wake = notifying;
        await terminate(t.db, await workerPids());
        const afterKill = await publish(3);
        await until(
          () => delivered(afterKill),
          30_000,
          () => 'the delivery published right after the kill',
        );
        await until(
          () => reconnects === 2,
          20_000,
          () => 'the second reconnect',
        );
        expect(await workerPids()).toHaveLength(1);

        // Back and asleep: a NOTIFY on the re-LISTENed channel wakes it.
        const last = await publish(4);
        await until(
          () => delivered(last),
          30_000,
          () => 'the delivery announced by NOTIFY after the reconnects',
        );
        expect(worker.stats.claimed).toBe(4);
      });
    });
  },
);
