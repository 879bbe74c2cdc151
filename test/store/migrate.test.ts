import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { loadMigrations, migrate, splitStatements } from '../../src/store/migrate.js';
import { openPostgres } from '../../src/store/postgres.js';
import { openPglite } from '../../src/store/pglite.js';
import type { Db } from '../../src/store/db.js';

const all = loadMigrations().map((m) => m.version);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ empty: true });
  cleanups.push(() => database.drop());
  return database;
}

async function recorded(db: Db): Promise<Array<{ version: number; n: number }>> {
  const { rows } = await db.query<{ version: number; n: number }>(
    'SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version',
  );
  return rows;
}

// A fresh PGlite database runs initdb: tens of seconds on a loaded machine.
describe('migrations', { timeout: 180_000 }, () => {
  // Each fresh database costs PGlite an initdb (seconds), so one database serves the whole sequence.
  it('apply each numbered file once; a second run, or a restart, applies and changes nothing', async () => {
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
    const database = await emptyDatabase();
    let db = database.db;
    expect(await migrate(db)).toEqual(all);
    expect(await recorded(db)).toEqual(all.map((version) => ({ version, n: 1 })));
    const columns =
      "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'public'";
    const before = (await db.query(columns)).rows;
    expect(await migrate(db)).toEqual([]);
    if (testStore === 'pglite') {
      await db.close();
      db = await openPglite(database.dir);
      const reopened = db;
      cleanups.push(() => reopened.close());
      expect(await migrate(db)).toEqual([]);
    }
    expect((await db.query(columns)).rows).toEqual(before);
    expect(await recorded(db)).toEqual(all.map((version) => ({ version, n: 1 })));
  });

  it('two migrators at once on one database: every migration runs exactly once between them', async () => {
    const database = await emptyDatabase();
    let second: Db;
    if (testStore === 'postgres') {
      // Two pools, as two processes starting at once would have.
      second = await openPostgres(database.url!, { max: 2 });
      cleanups.push(() => second.close());
    } else {
      // PGlite is one process's database: the concurrent starts it sees are two callers on one handle.
      second = database.db;
    }
    const [a, b, c] = await Promise.all([migrate(database.db), migrate(second), migrate(second)]);
    expect([...a, ...b, ...c].sort((x, y) => x - y)).toEqual(all);
    expect(await recorded(database.db)).toEqual(all.map((version) => ({ version, n: 1 })));
  });

  it('a failing migration rolls back entirely and is not recorded', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { db } = database;
    const broken = [
      ...loadMigrations(),
      {
        version: 999_999,
        name: 'broken',
        sql: 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;',
      },
    ];
    await expect(migrate(db, broken)).rejects.toThrow(/no_such_table/);
    const { rows } = await db.query("SELECT to_regclass('half_done') AS t");
    expect(rows[0].t).toBeNull();
    expect(await recorded(db)).toHaveLength(all.length);
  });

  it('splits scripts on statement ends and drops comment lines', () => {
    expect(
      splitStatements('-- a comment\nCREATE TABLE a (x int);\n\nCREATE INDEX b ON a (x);\n'),
    ).toEqual(['CREATE TABLE a (x int)', 'CREATE INDEX b ON a (x)']);
  });

  it('keeps a function body whole, semicolons and all', () => {
    const body = 'AS $$\nBEGIN\n  PERFORM 1;\n  RETURN NULL;\nEND\n$$';
    expect(
      splitStatements(`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql ${body};\nSELECT 1;\n`),
    ).toEqual([`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql ${body}`, 'SELECT 1']);
  });
});
