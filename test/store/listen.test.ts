/**
 * Db.listen: NOTIFY fan-out to subscribers on both stores; on PostgreSQL one
 * shared listening connection per Db, re-opened (every channel LISTENed again,
 * every subscriber told) after it is killed or refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inject } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createListener, type ListenLog } from '../../src/store/pg-listener.js';
import { createServer, connect, type Socket } from 'node:net';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { until } from '../support/receiver.js';

const onPostgres = testStore === 'postgres';
let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

const notify = (channel: string, payload: string) =>
  tdb.db.query('SELECT pg_notify($1, $2)', [channel, payload]);

/** The `hookline-listen` backends on this test's database. */
async function listenPids(): Promise<number[]> {
  const { rows } = await tdb.db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'hookline-listen' AND datname = current_database() ORDER BY pid",
  );
  return rows.map((r) => r.pid);
}

async function terminate(pids: number[]): Promise<void> {
  for (const pid of pids) await tdb.db.query('SELECT pg_terminate_backend($1)', [pid]);
}

function captureLog(): ListenLog & { lines: Array<{ level: string; msg: string; obj: any }> } {
  const lines: Array<{ level: string; msg: string; obj: any }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** A subscriber that records what it hears. */
function recorder() {
  const heard: string[] = [];
  return { heard, on: (p: string) => void heard.push(p) };
}

describe('Db.listen', () => {
  it("delivers each channel's NOTIFYs to every subscriber of that channel; one that unsubscribed hears no more", async () => {
    const a1 = recorder();
    const a2 = recorder();
    const b = recorder();
    const offA1 = await tdb.db.listen('hl_test_a', a1.on);
    const offA2 = await tdb.db.listen('hl_test_a', a2.on);
    const offB = await tdb.db.listen('hl_test_b', b.on);
    try {
      await notify('hl_test_a', 'x');
      await notify('hl_test_b', 'y');
      await until(
        () => a1.heard.length === 1 && a2.heard.length === 1 && b.heard.length === 1,
        10_000,
      );
      expect([a1.heard, a2.heard, b.heard]).toEqual([['x'], ['x'], ['y']]);

      await offA1();
      await notify('hl_test_a', 'z');
      await notify('hl_test_b', 'after z');
      // NOTIFYs reach a listener in commit order: once b heard the second one, a's 'z' was dispatched.
      await until(() => b.heard.includes('after z'), 10_000);
      await until(() => a2.heard.includes('z'), 10_000);
      expect(a1.heard).toEqual(['x']);

      // The last subscriber of the channel leaves (PostgreSQL: UNLISTEN); subscribing again works.
      await offA2();
      await notify('hl_test_a', 'nobody');
      await notify('hl_test_b', 'after nobody');
      await until(() => b.heard.includes('after nobody'), 10_000);
      expect(a2.heard).toEqual(['x', 'z']);
      const a3 = recorder();
      const offA3 = await tdb.db.listen('hl_test_a', a3.on);
      await notify('hl_test_a', 'again');
      await until(() => a3.heard.includes('again'), 10_000);
      expect(a3.heard).toEqual(['again']);
      await offA3();
    } finally {
      await offB();
    }
  });
});

describe.runIf(onPostgres)('Db.listen on PostgreSQL: one shared, self-healing connection', () => {
  let db: Db;
  let log: ReturnType<typeof captureLog>;
  // tdb.db's own listening backend (the test above): the ones counted here are the others.
  let foreign: number[] = [];
  const pids = async () => (await listenPids()).filter((pid) => !foreign.includes(pid));
  beforeAll(async () => {
    foreign = await listenPids();
    log = captureLog();
    db = await openPostgres(tdb.url!, { max: 2, log });
  });
  afterAll(async () => db?.close());

  it('holds one listening backend whatever the number of channels and subscribers, and none after close()', async () => {
    const other = await openPostgres(tdb.url!, { max: 1 });
    expect(await pids()).toEqual([]);
    const offs = [
      await other.listen('hl_one_a', () => {}),
      await other.listen('hl_one_b', () => {}),
      await other.listen('hl_one_b', () => {}),
      await other.listen('hl_one_c', () => {}),
    ];
    expect(await pids()).toHaveLength(1);
    for (const off of offs) await off();
    await other.close();
    await until(
      async () => (await pids()).length === 0,
      10_000,
      async () => `listen backends gone: ${await pids()}`,
    );
  });

  it('after pg_terminate_backend it reconnects, LISTENs every channel again, tells every subscriber once, and logs one warning and one info', async () => {
    const channels = ['hl_kill_a', 'hl_kill_b', 'hl_kill_c'];
    const subs = channels.map(() => ({ ...recorder(), reconnects: 0 }));
    const offs = await Promise.all(
      channels.map((ch, i) =>
        db.listen(ch, subs[i].on, { onReconnect: () => subs[i].reconnects++ }),
      ),
    );
    const before = await pids();
    expect(before).toHaveLength(1);
    log.lines.length = 0;

    await terminate(before);
    await until(
      () => subs.every((s) => s.reconnects === 1),
      20_000,
      () => `reconnect callbacks: ${subs.map((s) => s.reconnects)}`,
    );
    const after = await pids();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    // Callbacks run after the channels are LISTENed again: a NOTIFY sent now reaches every one.
    for (const ch of channels) await notify(ch, `back on ${ch}`);
    await until(
      () => subs.every((s, i) => s.heard.includes(`back on ${channels[i]}`)),
      10_000,
      () => JSON.stringify(subs),
    );
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'info')).toHaveLength(1);
    expect(log.lines.find((l) => l.level === 'info')!.obj.channels).toEqual(
      expect.arrayContaining(channels),
    );
    expect(subs.map((s) => s.reconnects)).toEqual([1, 1, 1]);

    // An unsubscribed channel is not LISTENed again after the next drop, and is not told.
    await offs[0]();
    await terminate(await pids());
    await until(() => subs[1].reconnects === 2 && subs[2].reconnects === 2, 20_000);
    expect(subs[0].reconnects).toBe(1);
    await notify(channels[0], 'unheard');
    await notify(channels[1], 'heard');
    await until(() => subs[1].heard.includes('heard'), 10_000);
    expect(subs[0].heard).not.toContain('unheard');
    for (const off of offs.slice(1)) await off();
  });

  it('keeps retrying while the server refuses connections, takes new subscriptions meanwhile, and comes back when it accepts them', async () => {
    const name = new URL(tdb.url!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    const a = { ...recorder(), reconnects: 0 };
    const offA = await db.listen('hl_refused_a', a.on, { onReconnect: () => a.reconnects++ });
    let offB: (() => Promise<void>) | undefined;
    try {
      log.lines.length = 0;
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await terminate(await pids());
      const failures = () => log.lines.filter((l) => l.level === 'debug').length;
      await until(
        () => failures() >= 2,
        20_000,
        () => `failed reconnect attempts: ${failures()}`,
      );
      expect(a.reconnects).toBe(0);
      // Subscribing while it is down resolves; the channel is LISTENed when the connection is back.
      const b = recorder();
      offB = await db.listen('hl_refused_b', b.on);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await until(() => a.reconnects === 1, 20_000);
      await notify('hl_refused_a', 'a is back');
      await notify('hl_refused_b', 'b is listened');
      await until(() => a.heard.includes('a is back') && b.heard.includes('b is listened'), 10_000);
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      const info = log.lines.filter((l) => l.level === 'info');
      expect(info).toHaveLength(1);
      expect(info[0].obj.attempts).toBeGreaterThanOrEqual(3);
      expect(await pids()).toHaveLength(1);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
      await admin.end();
      await offA();
      await offB?.();
    }
  });

  it('close() during a reconnect stops it at once, even while the server keeps refusing', async () => {
    const name = new URL(tdb.url!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    const log2 = captureLog();
    const other = await openPostgres(tdb.url!, { max: 1, log: log2 });
    try {
      const before = await pids(); // `db`'s
      await other.listen('hl_close', () => {});
      const mine = (await pids()).filter((pid) => !before.includes(pid));
      expect(mine).toHaveLength(1);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await terminate(mine);
      await until(
        () => log2.lines.some((l) => l.level === 'debug'),
        20_000,
        () => 'a refused reconnect attempt',
      );
      // Would wait forever for a server that refuses if close() did not stop the reconnect loop.
      await other.close();
      await expect(other.listen('hl_close', () => {})).rejects.toThrow(/closed/);
      expect(log2.lines.filter((l) => l.level === 'info')).toEqual([]);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
      await admin.end();
      await other.close();
    }
  });

  it('a connection that goes silent (no reset, no answer) is found by the heartbeat and replaced', async () => {
    // A TCP proxy in front of the server that can swallow everything on the connections it has.
    const target = new URL(tdb.url!);
    const pairs: Array<[Socket, Socket]> = [];
    const proxy = createServer((client) => {
      const server = connect(Number(target.port), target.hostname);
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      pairs.push([client, server]);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const via = new URL(tdb.url!);
    via.hostname = '127.0.0.1';
    via.port = String((proxy.address() as { port: number }).port);
    const log2 = captureLog();
    const listener = createListener(via.toString(), {
      log: log2,
      heartbeat: { everyMs: 100, timeoutMs: 500 },
    });
    const heard = recorder();
    let reconnects = 0;
    try {
      await listener.listen('hl_silent', heard.on, { onReconnect: () => reconnects++ });
      await notify('hl_silent', 'before');
      await until(() => heard.heard.includes('before'), 10_000);
      // The network goes quiet: bytes are neither delivered nor refused, the sockets stay open.
      const [client, server] = pairs[0];
      client.unpipe(server);
      server.unpipe(client);
      await until(
        () => reconnects === 1,
        20_000,
        () => `the heartbeat to find it: ${JSON.stringify(log2.lines.map((l) => l.msg))}`,
      );
      expect(pairs.length).toBeGreaterThanOrEqual(2);
      expect(String(log2.lines.find((l) => l.level === 'warn')?.obj.err?.message)).toMatch(
        /heartbeat/,
      );
      await notify('hl_silent', 'after');
      await until(() => heard.heard.includes('after'), 10_000);
    } finally {
      await listener.close();
      for (const pair of pairs) for (const sock of pair) sock.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
