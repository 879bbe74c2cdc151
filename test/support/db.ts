import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { openPgliteThread } from '../../src/store/pglite-thread.js';
import { openPostgres } from '../../src/store/postgres.js';

/** Which store this test run is against: set per vitest project. */
export const testStore: 'pglite' | 'postgres' =
  process.env.HOOKLINE_TEST_STORE === 'postgres' ? 'postgres' : 'pglite';

export interface TestDatabase {
  db: Db;
  /** postgres:// URL of this database (PostgreSQL store only), for processes a test starts. */
  url?: string;
  /** PGlite data directory (embedded store only). */
  dir?: string;
  /** Closes the database and removes it. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

/**
 * A fresh, migrated database of the store under test, owned by the caller alone:
 * tests never see each other's rows, so test files run in parallel. `empty`: not
 * even migrated (for migration and first-start tests).
 */
export async function createTestDatabase(
  opts: { poolSize?: number; empty?: boolean } = {},
): Promise<TestDatabase> {
  if (testStore === 'postgres') {
    const adminUrl = inject('pgAdminUrl');
    const name = `hookline_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(
        `CREATE DATABASE ${name}${opts.empty ? '' : ' TEMPLATE hookline_template'}`,
      );
    } finally {
      await admin.end();
    }
    const url = withDatabase(adminUrl, name);
    const db = await openPostgres(url, { max: opts.poolSize ?? 5 });
    return {
      db,
      url,
      async drop() {
        await db.close().catch(() => {});
        const c = new pg.Client({ connectionString: adminUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookline-pglite-'));
  cpSync(inject(opts.empty ? 'pgliteEmptyDir' : 'pgliteTemplateDir'), dir, { recursive: true });
  // The embedded store as Hookline runs it (src/store/open.ts): on a thread of its own.
  const db = await openPgliteThread(dir);
  return {
    db,
    dir,
    async drop() {
      await db.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A store for a `hookline` process a test starts: the environment that points it there. */
export interface ProcessStore {
  env: { DATABASE_URL: string } | { HOOKLINE_DATA_DIR: string };
  /** The embedded store's data directory (the database is in its `db/`). */
  dataDir?: string;
  /** Removes the database (after the process has exited). */
  drop(): Promise<void>;
}

/**
 * A new database of the store under test that a `hookline` process opens itself (the
 * test holds no connection: PGlite allows one opener). `empty`: not migrated, as on a
 * first start. On the embedded store, a new data directory with the database in `db/`,
 * copied from the global setup's templates: the same directory a first start leaves,
 * without the seconds of PGlite's initdb.
 */
export async function createProcessStore(opts: { empty?: boolean } = {}): Promise<ProcessStore> {
  if (testStore === 'postgres') {
    const database = await createTestDatabase({ empty: opts.empty });
    await database.db.close();
    return { env: { DATABASE_URL: database.url! }, drop: () => database.drop() };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-data-'));
  const template = inject(opts.empty ? 'pgliteEmptyDir' : 'pgliteTemplateDir');
  cpSync(template, join(dataDir, 'db'), { recursive: true });
  return {
    env: { HOOKLINE_DATA_DIR: dataDir },
    dataDir,
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}
