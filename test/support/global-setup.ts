/**
 * Runs once per test project before any test file. Prepares a migrated template
 * of the store under test, so each test file gets its own fresh database in
 * well under a second (a PGlite directory copy, or CREATE DATABASE … TEMPLATE),
 * and on the embedded store an empty one too (initialized, not migrated), for
 * the first starts of the `hookline` processes tests run.
 */
import type { TestProject } from 'vitest/node';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from './postgres-server.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { migrate } from '../../src/store/migrate.js';

export const TEMPLATE_DB = 'hookline_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgliteTemplateDir: string;
    pgliteEmptyDir: string;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const store = project.config.env?.HOOKLINE_TEST_STORE;
  const cleanups: Array<() => Promise<void>> = [];

  if (store === 'postgres') {
    let server: TestPostgres | undefined;
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      server = await startTestPostgres();
      adminUrl = server.url;
      cleanups.push(() => server!.stop());
    }
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
    await admin.end();
    const db = await openPostgres(withDatabase(adminUrl, TEMPLATE_DB), { max: 1 });
    await migrate(db);
    await db.close();
    project.provide('pgAdminUrl', adminUrl);
  } else {
    // PGlite's initdb takes seconds (more on a loaded machine) but reopening a directory a
    // fraction of one: initialize once, migrate a copy, and copy either per test.
    const empty = mkdtempSync(join(tmpdir(), 'hookline-pglite-empty-'));
    await (await openPglite(empty)).close();
    const dir = mkdtempSync(join(tmpdir(), 'hookline-pglite-template-'));
    cpSync(empty, dir, { recursive: true });
    const db = await openPglite(dir);
    await migrate(db);
    await db.close();
    project.provide('pgliteEmptyDir', empty);
    project.provide('pgliteTemplateDir', dir);
    for (const d of [empty, dir])
      cleanups.push(async () => rmSync(d, { recursive: true, force: true }));
  }

  return async () => {
    for (const c of cleanups.reverse()) await c();
  };
}
