import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { migrate } from './migrate.js';
import { join } from 'node:path';

export interface OpenDbOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** Apply pending migrations (under an advisory lock) before returning. */
  migrate?: boolean;
}

/** A real PostgreSQL server when a URL is given, the embedded PGlite in `dataDir/db` otherwise. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  const db = opts.databaseUrl
    ? await openPostgres(opts.databaseUrl, { max: opts.poolSize })
    : await openPglite(join(opts.dataDir, 'db'));
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
