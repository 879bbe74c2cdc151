/**
 * Shared parts of the process-fault tests: real `hookline serve` / `hookline
 * worker` processes (test/support/cli.ts: built under npm test, from source
 * through tsx under vitest alone), an HTTP publisher that records
 * which publishes were acknowledged, and direct queue checks.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawnHookline } from '../support/cli.js';
import { until } from '../support/receiver.js';
import type { Db, Queryable } from '../../src/store/db.js';
import { bootstrap } from '../../src/bootstrap.js';
import { generateApiKey } from '../../src/core/api-keys.js';
import { buildApp } from '../../src/api/app.js';
import { createWake } from '../../src/worker/wake.js';
import type { Config } from '../../src/config.js';
import { testConfig } from '../support/config.js';
import { createMetrics } from '../../src/metrics.js';
import { caller, type ApiCall } from '../support/app.js';

/** The first admin key every process of these tests starts with (a well-formed `hk_` key: the auth checks its checksum). */
export const ADMIN_KEY = generateApiKey();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface Proc {
  child: ChildProcess;
  /** stdout + stderr so far (the tail), for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  const add = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Every process a test file started, so afterAll can kill what a failed test left behind. */
export const started = new Set<Proc>();
export async function killAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.kill('SIGKILL')));
  started.clear();
}

const quiet = { HOOKLINE_LOG_LEVEL: 'warn' };

/** `hookline worker` against a PostgreSQL database. */
export function startWorker(
  databaseUrl: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Proc {
  const p = track(
    spawnHookline(['worker', ...args], {
      env: { ...quiet, DATABASE_URL: databaseUrl, HOOKLINE_DEV: '1', ...env },
    }),
  );
  started.add(p);
  return p;
}

export interface Serve extends Proc {
  url: string;
}

/** `hookline serve --dev` on a free port, resolved once /readyz answers 200. */
export async function startServe(opts: {
  dataDir?: string;
  databaseUrl?: string;
  args?: string[];
  env?: Record<string, string>;
  port?: number;
}): Promise<Serve> {
  const port = opts.port ?? (await freePort());
  const env: Record<string, string> = {
    ...quiet,
    HOOKLINE_ADMIN_KEY: ADMIN_KEY,
    HOOKLINE_DEV: '1',
    ...opts.env,
  };
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  if (opts.dataDir) env.HOOKLINE_DATA_DIR = opts.dataDir;
  const p = track(spawnHookline(['serve', '--port', String(port), ...(opts.args ?? [])], { env }));
  started.add(p);
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => {
      if (!p.alive()) throw new Error(`hookline serve exited at start:\n${p.output()}`);
      try {
        return (await fetch(`${url}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    120_000, // PGlite boots in a few seconds, but a CI machine running the whole suite is slow
    () => `hookline serve to be ready at ${url}:\n${p.output()}`,
  );
  return Object.assign(p, { url });
}

/** One API call over HTTP with the admin key; never throws for an HTTP status. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: json };
}

/**
 * Publishes events over HTTP from `concurrency` loops until stopped, recording
 * each outcome: an acknowledged (2xx) publish by event id, an errored one by its
 * idempotency key (it may or may not have committed; it must never be half-stored).
 */
export function startPublisher(
  base: () => string,
  opts: { concurrency?: number; eventType?: string; max?: number } = {},
) {
  const accepted = new Map<string, string>(); // event id → idempotency key
  const errored: string[] = []; // idempotency keys
  let stopped = false;
  let n = 0;
  const loops = Array.from({ length: opts.concurrency ?? 4 }, async () => {
    while (!stopped && (opts.max === undefined || n < opts.max)) {
      const key = `k${n++}_${randomBytes(4).toString('hex')}`;
      try {
        const res = await http(
          base(),
          'POST',
          '/events',
          { event_type: opts.eventType ?? 'ticket.created', payload: { key } },
          { 'idempotency-key': key },
        );
        if (res.status >= 200 && res.status < 300) accepted.set(res.body.id, key);
        else errored.push(key);
      } catch {
        errored.push(key);
        // The server is down: do not spin.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    accepted,
    errored,
    get sent() {
      return n;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
    done: () => Promise.all(loops),
  };
}

/** Counts of the queue by status. */
export async function statusCounts(q: Queryable): Promise<Record<string, number>> {
  const { rows } = await q.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM deliveries GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Events stored without any delivery (the "half-stored" publish), given that every event matches a webhook. */
export async function eventsWithoutDeliveries(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    'SELECT e.id FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY e.id',
  );
  return rows.map((r) => r.id);
}

/** Deliveries still `sending` although their lease ended more than `graceMs` ago. */
export async function staleLeases(q: Queryable, graceMs = 0): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries WHERE status = 'sending' AND lease_expires_at < now() - make_interval(secs => $1)`,
    [graceMs / 1000],
  );
  return rows[0].n;
}

/**
 * The API in this process on `db` (bootstrapped with ADMIN_KEY), for tests whose
 * subject is another process (the workers): publishing and setup through the real routes.
 */
export async function inProcessApi(db: Db, overrides: Partial<Config> = {}) {
  await bootstrap(db, { adminKey: ADMIN_KEY });
  // Publishes NOTIFY the worker processes, as a real API process's do: otherwise a worker that
  // looked before the publish sleeps until its idle poll while another, started a moment later,
  // takes all the work.
  const app = await buildApp({
    db,
    config: testConfig(overrides),
    metrics: createMetrics(),
    wake: createWake(db),
  });
  await app.ready();
  return { app, call: caller(app, ADMIN_KEY), close: () => app.close() };
}

/** Publishes `count` events of `eventType` through POST /events/batch; returns their ids. */
export async function publishMany(
  call: ApiCall,
  count: number,
  eventType = 'ticket.created',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 500) {
    const events = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      event_type: eventType,
      payload: { n: i + j },
    }));
    const res = await call('POST', '/events/batch', { events });
    if (res.status !== 202 && res.status !== 200)
      throw new Error(`batch publish: ${res.status} ${JSON.stringify(res.body)}`);
    const list = Array.isArray(res.body) ? res.body : (res.body.data ?? res.body.events);
    ids.push(...list.map((e: { id: string }) => e.id));
  }
  return ids;
}
