import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { migrate } from './migrate.js';
import { ConfigError } from '../config.js';

export interface OpenDbOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** Apply pending migrations (under an advisory lock) before returning. */
  migrate?: boolean;
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

/** A real PostgreSQL server when a URL is given, the embedded PGlite in `dataDir/db` otherwise. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  let db: Db;
  if (opts.databaseUrl) {
    db = await openPostgres(opts.databaseUrl, { max: opts.poolSize });
  } else {
    const dir = join(opts.dataDir, 'db');
    const release = lockDataDir(opts.dataDir);
    try {
      const pglite = await openPglite(dir);
      db = { ...pglite, close: () => pglite.close().finally(release) };
    } catch (err) {
      release();
      throw err;
    }
  }
  if (opts.migrate ?? true) {
    try {
      await migrate(db);
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
  }
  return db;
}
