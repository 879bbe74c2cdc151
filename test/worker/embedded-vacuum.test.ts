/**
 * Autovacuum's job on the embedded store (src/worker/embedded-vacuum.ts):
 * PGlite has no autovacuum, so Hookline vacuums the table whose dead rows
 * passed autovacuum's threshold; on PostgreSQL it leaves that to the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vacuumEmbedded } from '../../src/worker/embedded-vacuum.js';
import { vacuumQueueIfDue } from '../../src/queue/vacuum.js';
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
  it('vacuums, then analyzes, the table past the thresholds, and nothing when none is', async () => {
    // Settle whatever the migrations left, so only the table changed below is due.
    while (await vacuumEmbedded(tdb.db));
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();

    // 2,000 live rows: vacuum is due past 50 + 400 dead ones, analyze past 50 + 200 changed.
    await tdb.db.query('UPDATE vacuum_t SET n = 1 WHERE id <= 200');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
    await tdb.db.query('DELETE FROM vacuum_t WHERE id > 1700');
    const before = (await stats())!;
    expect(before.n_dead_tup).toBe(500);

    // One statement per pass, so each holds the database briefly: the vacuum first.
    expect(await vacuumEmbedded(tdb.db)).toEqual({ table: 'vacuum_t', action: 'vacuum' });
    const vacuumed = (await stats())!;
    expect(vacuumed.n_dead_tup).toBe(0);
    expect(vacuumed.vacuum_count).toBe(before.vacuum_count + 1);
    expect(vacuumed.analyze_count).toBe(before.analyze_count);

    expect(await vacuumEmbedded(tdb.db)).toEqual({ table: 'vacuum_t', action: 'analyze' });
    expect((await stats())!.analyze_count).toBe(before.analyze_count + 1);
    // A small sample (statistics target 10): 10 histogram buckets, not the default 100.
    const { rows } = await tdb.db.query<{ bounds: number }>(
      `SELECT array_length(histogram_bounds::text::text[], 1) AS bounds
         FROM pg_stats WHERE tablename = 'vacuum_t' AND attname = 'id'`,
    );
    expect(rows[0].bounds).toBe(11);
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
    // 1,000 rows changed is past analyze's threshold, not past vacuum's insert threshold.
    expect(await vacuumEmbedded(tdb.db)).toEqual({ table: 'vacuum_i', action: 'analyze' });
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
    await tdb.db.query('INSERT INTO vacuum_i SELECT i FROM generate_series(1001, 1300) i');
    expect(await vacuumEmbedded(tdb.db)).toEqual({ table: 'vacuum_i', action: 'vacuum' });
    expect(await vacuumEmbedded(tdb.db)).toEqual({ table: 'vacuum_i', action: 'analyze' });
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
    const pass = await vacuumEmbedded(tdb.db, oldest - 1);
    expect(pass?.action).toBe('vacuum');
    // Its ids were among the oldest; the vacuum froze them.
    expect(await age(pass!.table)).toBeLessThan(oldest);
  });
});

describe.runIf(testStore === 'pglite')('vacuum on the embedded store, the queue tables', () => {
  it('leaves the queue tables to their own pass', async () => {
    while (await vacuumEmbedded(tdb.db));
    await tdb.db.query(
      `INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, seq)
       SELECT 'dlv_q' || i, 'wh_q', now(), i FROM generate_series(1, 2000) i`,
    );
    await tdb.db.query(`DELETE FROM delivery_queue WHERE webhook_id = 'wh_q'`);
    const passes = [];
    for (let pass = await vacuumEmbedded(tdb.db); pass; pass = await vacuumEmbedded(tdb.db))
      passes.push(pass);
    expect(passes).toEqual([]);
    // Theirs takes the dead rows out (src/queue/vacuum.ts).
    expect(await vacuumQueueIfDue(tdb.db)).toBeGreaterThanOrEqual(2000);
  });
});

describe.runIf(testStore === 'postgres')('vacuum on PostgreSQL', () => {
  it("is left to the server's autovacuum", async () => {
    await tdb.db.query('DELETE FROM vacuum_t');
    expect(await vacuumEmbedded(tdb.db)).toBeUndefined();
  });
});
