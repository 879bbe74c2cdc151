/**
 * A throwaway PostgreSQL server for the test suite, started from the machine's
 * own server binaries (Debian's postgresql packages). PostgreSQL refuses to run
 * as root, so as root the server runs as the `postgres` user.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import pg from 'pg';

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
  /**
   * Stops the server without removing its data: `SIGINT` is a fast shutdown (clients are
   * disconnected), `SIGQUIT` an immediate one: no checkpoint, crash recovery at the next start.
   * Fault-injection tests pair it with `start()`.
   */
  halt(signal?: 'SIGINT' | 'SIGQUIT'): Promise<void>;
  /** Starts a halted server again on the same port and data directory. */
  start(): Promise<void>;
}

/** The directory with initdb and postgres: $HOOKLINE_PG_BIN, pg_config, or the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin(): string {
  const fromEnv = process.env.HOOKLINE_PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // not installed
  }
  throw new Error(
    'No PostgreSQL server binaries found. Install them (apt-get install -y postgresql) or set DATABASE_URL to a server to test against.',
  );
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line)
    throw new Error('Running as root, but there is no postgres user to run the test server as.');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited at start:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start within 30 s:\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Starts a fresh cluster in a temporary directory, tuned for tests (no fsync).
 * `settings` adds server settings (`-c name=value`), e.g. shared_preload_libraries for the benchmark's profile,
 * or synchronous_commit=on for fault tests that crash the server (SIGQUIT) and expect no acknowledged commit lost.
 */
export async function startTestPostgres(
  opts: { settings?: Record<string, string> } = {},
): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'hookline-pg-'));
  const dataDir = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
    {
      ...as,
      stdio: 'pipe',
    },
  );
  const port = await freePort();
  let output = '';
  let child: ChildProcess;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const launch = async () => {
    child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        // fsync=off survives a crash of the server (the OS keeps the pages); synchronous_commit=off does
        // not: a commit acknowledged but still in WAL buffers dies with SIGQUIT (settings can turn it on).
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=500',
        '-c',
        'shared_buffers=256MB',
        '-c',
        'log_min_messages=warning',
        ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      { ...as, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output = (output + d).slice(-20_000)));
    await waitReady(url, child, () => output);
  };
  const halt = async (signal: 'SIGINT' | 'SIGQUIT' = 'SIGINT') => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    }
  };
  await launch();
  return {
    url,
    halt,
    start: launch,
    async stop() {
      await halt('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
