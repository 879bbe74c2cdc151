/**
 * Hookline under test: the built CLI (`node bin/hookline.js serve`, or `worker`
 * for the scale-out phase) in its own process, on the embedded store (a fresh
 * --data-dir) or on PostgreSQL (a fresh database), reached only through its
 * public HTTP API (a worker: only its /healthz).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { generateApiKey } from '../src/core/api-keys.js';
import { freePort } from './ports.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface HooklineOptions {
  store: 'pglite' | 'postgres';
  dataDir: string;
  databaseUrl?: string;
  /** Run the delivery worker in the process (false: API only, to queue a backlog). */
  worker: boolean;
  /** `serve` (default), or `worker`: a delivery worker alone, beside a `serve --no-worker` (PostgreSQL). */
  command?: 'serve' | 'worker';
  /** Write a V8 CPU profile here when the process exits. */
  cpuProfDir?: string;
  adminKey: string;
  /** Append the process's output (warnings and errors) to this file. */
  logFile?: string;
}

export interface ApiResponse {
  status: number;
  body: any;
}

export interface HooklineProcess {
  url: string;
  pid: number;
  call(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** SIGTERM (drain) and wait for the exit; its exit code. */
  stop(): Promise<number | null>;
  /** The last lines the process wrote, for error messages. */
  output(): string;
}

/** A fresh admin key in Hookline's own format (the checksum is checked on every request). */
export const newAdminKey = () => generateApiKey();

export async function startHookline(o: HooklineOptions): Promise<HooklineProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOOKLINE_ADMIN_KEY: o.adminKey,
    HOOKLINE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    HOOKLINE_WORKER: o.worker ? 'true' : 'false',
    // The benchmark measures the pipeline, not the abuse limits.
    HOOKLINE_RATE_LIMIT: '0',
    HOOKLINE_PUBLISH_RATE_LIMIT: '0',
  };
  delete env.DATABASE_URL;
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  const nodeArgs = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [];
  // A worker has no API: its /healthz is on the metrics port.
  const portFlag = o.command === 'worker' ? '--metrics-port' : '--port';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      'bin/hookline.js',
      o.command ?? 'serve',
      '--dev',
      '--host',
      '127.0.0.1',
      portFlag,
      String(port),
      '--data-dir',
      o.dataDir,
    ],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const log = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
  const keep = (d: Buffer) => {
    log?.write(d);
    out = (out + d.toString()).slice(-8000);
  };
  child.once('exit', () => log?.end());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const pool = new Pool(url, {
    connections: 64,
    keepAliveTimeout: 60_000,
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`hookline exited at start (${child.exitCode}):\n${out}`);
    try {
      const res = await pool.request({ method: 'GET', path: '/healthz' });
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`hookline did not answer /healthz within 90 s:\n${out}`);
    }
    await sleep(100);
  }
  const auth = `Bearer ${o.adminKey}`;
  return {
    url,
    pid: child.pid!,
    output: () => out,
    async call(method, path, body) {
      const res = await pool.request({
        method: method as 'GET',
        path: `/api/v1${path}`,
        headers:
          body === undefined
            ? { authorization: auth }
            : { authorization: auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await pool.close().catch(() => {});
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Throws with the API's error when the status is not the expected one. */
export function expectStatus(res: ApiResponse, what: string, ...ok: number[]): any {
  if (!ok.includes(res.status))
    throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)?.slice(0, 500)}`);
  return res.body;
}
