/**
 * A/B of single publishes between built checkouts (e.g. `git worktree`s of older
 * commits, compiled with `npx tsc -p tsconfig.json`, node_modules linked):
 *
 *   node --import tsx bench/ab-publish.ts [--rounds N] [--seconds S] [--concurrency C]
 *     [--webhooks W] [--statements] [--profile DIR] DIR…
 *
 * One PostgreSQL; per round, each checkout DIR runs `DIR/bin/hookline.js serve --dev
 * --no-worker` on a fresh database with one webhook on the event type (and W more on
 * another type, default 0), and all of them are driven AT THE SAME TIME, closed loop
 * (`POST /events`, C in flight each, default 16), for S seconds after a 2 s warm-up.
 * Run side by side, the checkouts share whatever else loads the machine, so their
 * ratio holds where the rates of runs taken one after the other swing several-fold.
 * Prints events/s and CPU per publish of each, its share of the first checkout's
 * rate, and the medians over the rounds.
 *
 * --statements: PostgreSQL runs pg_stat_statements; each round prints, per statement,
 * calls and shared buffers per publish (figures that do not move with the load).
 * --profile DIR: a V8 CPU profile of every Hookline process (bench/profile-summary.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Pool } from 'undici';
import { startBenchPostgres } from './database.js';
import { newAdminKey } from './hookline.js';
import { freePort } from './ports.js';
import { nowMs, payload } from './payload.js';
import { cpuSeconds, loadAverage } from './proc.js';
import { median } from './steady.js';

const args = process.argv.slice(2);
const take = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args.splice(i, 2)[1];
};
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i !== -1) args.splice(i, 1);
  return i !== -1;
};
const rounds = Number(take('--rounds') ?? 3);
const seconds = Number(take('--seconds') ?? 10);
const concurrency = Number(take('--concurrency') ?? 16);
// Other webhooks in the organization, on other types (the full bench has about 45 at its ingest phase).
const others = Number(take('--webhooks') ?? 0);
const profileArg = take('--profile');
const profileDir = profileArg ? resolve(profileArg) : undefined;
const statements = flag('--statements');
const dirs = args.map((d) => resolve(d));
if (dirs.length === 0) {
  process.stderr.write(
    'usage: bench/ab-publish.ts [--rounds N] [--seconds S] [--statements] [--profile DIR] DIR…\n',
  );
  process.exit(2);
}

async function sql(url: string, text: string): Promise<any[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

interface Server {
  dir: string;
  databaseUrl: string;
  child: ChildProcess;
  call(method: string, path: string, body?: unknown): Promise<number>;
  stop(): Promise<void>;
}

async function startServer(dir: string, databaseUrl: string, round: number): Promise<Server> {
  const port = await freePort();
  const key = newAdminKey();
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-ab-'));
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOOKLINE_ADMIN_KEY: key,
    HOOKLINE_LOG_LEVEL: 'error',
    HOOKLINE_RATE_LIMIT: '0',
    HOOKLINE_PUBLISH_RATE_LIMIT: '0',
  };
  const prof = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${round}-${basename(dir)}`)}`]
    : [];
  const child = spawn(
    process.execPath,
    [...prof, 'bin/hookline.js', 'serve', '--dev', '--no-worker', '--port', String(port)],
    {
      cwd: dir,
      env: { ...env, HOOKLINE_DATA_DIR: dataDir },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await pool.request({
      method: method as 'POST',
      path: `/api/v1${path}`,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.body.dump();
    return res.statusCode;
  };
  const stop = async () => {
    await pool.close();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      const res = await pool.request({ method: 'GET', path: '/healthz' });
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 900 || child.exitCode !== null) {
      await stop();
      throw new Error(`${dir}: no /healthz in 90 s`);
    }
    await sleep(100);
  }
  await call('POST', '/event-types', { name: 'bench.ab' });
  const hook = await call('POST', '/webhooks', {
    name: 'ab',
    url: 'http://127.0.0.1:9/ab',
    events: ['bench.ab'],
  });
  if (hook !== 201) throw new Error(`${dir}: create webhook: HTTP ${hook}`);
  if (others > 0) await call('POST', '/event-types', { name: 'bench.other' });
  for (let i = 0; i < others; i++)
    await call('POST', '/webhooks', {
      name: `other ${i}`,
      url: 'http://127.0.0.1:9/other',
      events: ['bench.other'],
    });
  return { dir, databaseUrl, child, call, stop };
}

interface Run {
  eventsPerS: number;
  /** CPU milliseconds of the Hookline process per publish. */
  cpuMs: number;
}

/** Closed-loop publishes through `s` from t0 to end; counts those that finish after t0. */
async function drive(s: Server, t0: number, end: number): Promise<Run> {
  let counted = 0;
  let cpu0 = 0;
  const mark = setTimeout(() => (cpu0 = cpuSeconds(s.child.pid!)), Math.max(0, t0 - nowMs()));
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < end) {
        const status = await s.call('POST', '/events', { event_type: 'bench.ab', payload });
        if (status !== 202) throw new Error(`${s.dir}: POST /events: HTTP ${status}`);
        if (nowMs() > t0) counted++;
      }
    }),
  );
  clearTimeout(mark);
  return {
    eventsPerS: counted / seconds,
    cpuMs: ((cpuSeconds(s.child.pid!) - cpu0) * 1000) / counted,
  };
}

async function printStatements(s: Server, publishes: number): Promise<void> {
  const rows = await sql(
    s.databaseUrl,
    `SELECT calls, total_exec_time, shared_blks_hit + shared_blks_read AS blocks, query
       FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT LIKE '%pg_stat_statements%'
      ORDER BY total_exec_time DESC LIMIT 5`,
  );
  for (const r of rows)
    process.stdout.write(
      `    ${(Number(r.calls) / publishes).toFixed(2)} calls, ${(Number(r.blocks) / publishes).toFixed(1)} blocks, ${((Number(r.total_exec_time) * 1000) / publishes).toFixed(0)} µs per publish: ${String(r.query).replace(/\s+/g, ' ').slice(0, 100)}\n`,
    );
}

const pgServer = await startBenchPostgres({ statements });
const runs = new Map<string, Run[]>(dirs.map((d) => [d, []]));
const shares = new Map<string, number[]>(dirs.map((d) => [d, []]));
try {
  for (let r = 1; r <= rounds; r++) {
    const servers: Server[] = [];
    try {
      for (const [i, dir] of dirs.entries()) {
        const url = await pgServer.createDatabase(`ab_${r}_${i}`);
        if (statements) await sql(url, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        servers.push(await startServer(dir, url, r));
      }
      const load = loadAverage();
      const t0 = nowMs() + 2000;
      const end = t0 + seconds * 1000;
      if (statements)
        setTimeout(
          () =>
            servers.forEach((s) => void sql(s.databaseUrl, 'SELECT pg_stat_statements_reset()')),
          2000,
        );
      const results = await Promise.all(servers.map((s) => drive(s, t0, end)));
      process.stdout.write(`round ${r} (load ${load} before):\n`);
      for (const [i, s] of servers.entries()) {
        const x = results[i];
        const share = x.eventsPerS / results[0].eventsPerS;
        runs.get(s.dir)!.push(x);
        shares.get(s.dir)!.push(share);
        process.stdout.write(
          `  ${s.dir}: ${Math.round(x.eventsPerS)} events/s (${Math.round(share * 100)}% of the first), ${x.cpuMs.toFixed(3)} CPU ms per publish\n`,
        );
        if (statements) await printStatements(s, x.eventsPerS * seconds);
      }
    } finally {
      for (const s of servers) await s.stop();
    }
  }
} finally {
  await pgServer.stop();
}
process.stdout.write('medians:\n');
for (const [dir, xs] of runs)
  process.stdout.write(
    `  ${dir}: ${Math.round(median(xs.map((x) => x.eventsPerS)))} events/s, ${Math.round(median(shares.get(dir)!) * 100)}% of the first, ${median(xs.map((x) => x.cpuMs)).toFixed(3)} CPU ms per publish\n`,
  );
