/**
 * Autovacuum's job on the embedded store (src/worker/embedded-vacuum.ts):
 * PGlite has no autovacuum, so Hookline vacuums the table whose dead rows
 * passed autovacuum's threshold; on PostgreSQL it leaves that to the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vacuumEmbedded } from '../../src/worker/embedded-vacuum.js';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query('CREATE TABLE vacuum_t (id int PRIMARY KEY, n int)');
  await tdb.db.query('INSERT INTO vacuum_t SELECT i, 0 FROM generate_series(1, 2000) i');
});
afterAll(async () => tdb?.drop());

const stats = async () => {
  await tdb.db.query('SELECT pg_stat_force_next_flush()');
  return (
    await tdb.db.query<{ n_dead_tup: number; vacuum_count: number; analyze_count: number }>(
      `SELECT n_dead_tup::int, vacuum_count::int, analyze_count::int
         FROM pg_stat_user_tables WHERE relname = 'vacuum_t'`,
    )
  ).rows[0];
};

describe.runIf(testStore === 'pglite')('vacuum on the embedded store', () => {
  it('vacuums and analyzes the table past the threshold, and nothing when none is', async () => {
    // Settle whatever the migrations left, so only the table made dead below is due.
    while (await vacuumEmbedded(tdb.db));
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();

    // 2,000 live rows: the threshold is 50 + 400 dead ones.
    await tdb.db.query('UPDATE vacuum_t SET n = 1 WHERE id <= 300');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
    await tdb.db.query('DELETE FROM vacuum_t WHERE id > 1800');
    const before = (await stats())!;
    expect(before.n_dead_tup).toBe(500);

    expect(await vacuumEmbedded(tdb.db)).toBe('vacuum_t');
    const after = (await stats())!;
    expect(after.n_dead_tup).toBe(0);
    expect(after.vacuum_count).toBe(before.vacuum_count + 1);
    expect(after.analyze_count).toBe(before.analyze_count + 1);
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
  });
});

describe.runIf(testStore === 'pglite')('vacuum on the embedded store, other thresholds', () => {
  const age = async (table: string) =>
    (
      await tdb.db.query<{ age: number }>(
        `SELECT age(relfrozenxid)::int AS age FROM pg_class WHERE oid = $1::regclass`,
        [table],
      )
    ).rows[0].age;

  it('vacuums an insert-only table once it grew by 1,000 rows plus 20%', async () => {
    while (await vacuumEmbedded(tdb.db));
    await tdb.db.query('CREATE TABLE vacuum_i (id int PRIMARY KEY)');
    await tdb.db.query('INSERT INTO vacuum_i SELECT i FROM generate_series(1, 1000) i');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
    await tdb.db.query('INSERT INTO vacuum_i SELECT i FROM generate_series(1001, 1300) i');
    expect(await vacuumEmbedded(tdb.db)).toBe('vacuum_i');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
  });

  it('vacuums the table with the oldest transaction ids past the freeze age', async () => {
    while (await vacuumEmbedded(tdb.db));
    // Transactions that move the ids on, without making any table due otherwise.
    for (let i = 0; i < 5; i++) await tdb.db.query('UPDATE vacuum_t SET n = n + 1 WHERE id = 1');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
    const { rows } = await tdb.db.query<{ oldest: number }>(
      `SELECT max(age(c.relfrozenxid))::int AS oldest FROM pg_stat_user_tables s
         JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema()`,
    );
    const oldest = rows[0].oldest;
    const table = await vacuumEmbedded(tdb.db, oldest - 1);
    expect(table).toBeDefined();
    // Its ids were among the oldest; the vacuum froze them.
    expect(await age(table!)).toBeLessThan(oldest);
  });
});

describe.runIf(testStore === 'postgres')('vacuum on PostgreSQL', () => {
  it("is left to the server's autovacuum", async () => {
    await tdb.db.query('DELETE FROM vacuum_t');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
  });
});
