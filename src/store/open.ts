import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPgliteThread } from './pglite-thread.js';
import { openPostgres } from './postgres.js';
import type { ListenLog } from './pg-listener.js';
import { migrate } from './migrate.js';
import { ConfigError } from '../config.js';

export interface OpenDbOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** Apply pending migrations (under an advisory lock) before returning. */
  migrate?: boolean;
  /** PostgreSQL: where the LISTEN connection reports drops and recoveries. */
  log?: ListenLog;
  /**
   * Embedded store: run PGlite on a thread of its own (src/store/pglite-thread.ts), so its
   * SQL does not hold up the API and the sender; the default. `false` keeps it on the main
   * thread (src/store/pglite.ts), as before.
   */
  pgliteThread?: boolean;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory
 * (say `hookline keys create` while `hookline serve` runs) would corrupt it. A pid
 * file refuses that with a clear message; one left by a process that died is taken over.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'hookline.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid === process.pid) return () => {};
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new ConfigError(
          `the embedded database in ${dir} is in use by process ${pid}. It serves one process at a time: ` +
            'stop that process first, or use PostgreSQL (DATABASE_URL) to run several.',
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new ConfigError(`could not lock the embedded database in ${dir}`);
}

/**
 * A real PostgreSQL server when a URL is given, the embedded PGlite in `dataDir/db` otherwise,
 * on a thread of its own unless `pgliteThread` is false. The data-dir lock stays with this
 * process (its pid), whichever thread runs the database.
 */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  let db: Db;
  if (opts.databaseUrl) {
    db = await openPostgres(opts.databaseUrl, { max: opts.poolSize, log: opts.log });
  } else {
    const dir = join(opts.dataDir, 'db');
    const release = lockDataDir(opts.dataDir);
    try {
      const pglite = await (opts.pgliteThread === false ? openPglite : openPgliteThread)(dir);
      db = { ...pglite, close: () => pglite.close().finally(release) };
    } catch (err) {
      release();
      throw err;
    }
  }
  try {
    // The first query is where an unreachable or misconfigured server shows.
    if (opts.migrate ?? true) await migrate(db);
    else if (opts.databaseUrl) await db.query('SELECT 1');
  } catch (err) {
    await db.close().catch(() => {});
    throw opts.databaseUrl ? (connectError(err, opts.databaseUrl) ?? err) : err;
  }
  return db;
}

// Connection-level failures: the server is not there, refuses us, or has no such database.
const connectCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  '28P01',
  '28000',
  '3D000',
]);

/** A ConfigError naming the server (never the password) when `err` means "cannot connect". */
function connectError(err: unknown, url: string): ConfigError | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !connectCodes.has(code)) return undefined;
  let where = 'the PostgreSQL server';
  try {
    const u = new URL(url);
    where = `PostgreSQL at ${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    // Not parseable as a URL: pg parsed it its own way; say no more than "the server".
  }
  return new ConfigError(
    `cannot connect to ${where}: ${(err as Error).message} (${code}). Check DATABASE_URL.`,
    { cause: err },
  );
}
