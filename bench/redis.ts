/**
 * The Redis of the BullMQ baseline: Debian's `redis-server`, started for the run
 * on a free loopback port in a temporary directory with persistence off, and
 * stopped after it (as database.ts does for PostgreSQL). Without the binary the
 * caller skips the baseline with the reason given here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

export interface BenchRedis {
  host: string;
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** `redis-server` on PATH (or $BENCH_REDIS_SERVER), else undefined. */
export function findRedisServer(): string | undefined {
  const given = process.env.BENCH_REDIS_SERVER;
  if (given) return existsSync(given) ? given : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** One inline command over a raw socket: enough to see the server answer, with no client library. */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('no answer')));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (d) => {
      answer += d.toString();
      // A simple reply is one line; a bulk reply ($<length>) is complete once its length has come.
      const head = answer.indexOf('\r\n');
      if (head === -1) return;
      const bulk = answer[0] === '$' ? Number(answer.slice(1, head)) : -1;
      if (Buffer.byteLength(answer) >= head + 2 + Math.max(0, bulk) + (bulk >= 0 ? 2 : 0)) {
        socket.end();
        resolve(answer);
      }
    });
    socket.on('error', reject);
  });
}

/** Starts a throwaway Redis; undefined (with why, via `skip`) when redis-server is not installed. */
export async function startBenchRedis(
  skip: (why: string) => void,
): Promise<BenchRedis | undefined> {
  const bin = findRedisServer();
  if (!bin) {
    skip('redis-server not found on PATH (Debian: apt-get install redis-server); BullMQ skipped');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-redis-'));
  const port = await freePort();
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
      // What BullMQ asks of a server it owns: keys are never evicted under memory pressure.
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (d: Buffer) => void (out = (out + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${out}`);
    const pong = await ask(port, 'PING').catch(() => '');
    if (pong.startsWith('+PONG')) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer within 20 s:\n${out}`);
    }
    await sleep(50);
  }
  const info = await ask(port, 'INFO server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    host: '127.0.0.1',
    port,
    pid: child.pid!,
    version,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
