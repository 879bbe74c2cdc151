/**
 * The embedded store on its own thread (src/store/pglite-thread.ts): what it
 * returns is what PGlite returns in process, errors keep their SQLSTATE, a
 * transaction holds the database, and a long statement leaves the main
 * thread free. The rest of the pglite project runs on it too (test/support/db.ts).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pgErrorCode, PgCode, type Db, type Queryable } from '../../src/store/db.js';
import { openPglite } from '../../src/store/pglite.js';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { until } from '../support/receiver.js';

/** Whether a timer callback of the main thread ran while `statement` was still unanswered. */
async function timerRanDuring(statement: Promise<unknown>): Promise<boolean> {
  let answered = false;
  const done = statement.finally(() => (answered = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const ran = !answered;
  await done;
  return ran;
}

describe.runIf(testStore === 'pglite')('PGlite on its own thread', () => {
  let tdb: TestDatabase;
  // The same store in process, for comparison: a copy of the migrated template.
  let inProcess: Db;
  let inProcessDir: string;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    inProcessDir = mkdtempSync(join(tmpdir(), 'hookline-pglite-'));
    cpSync(inject('pgliteTemplateDir'), inProcessDir, { recursive: true });
    inProcess = await openPglite(inProcessDir);
  });
  afterAll(async () => {
    await tdb?.drop();
    await inProcess?.close();
    if (inProcessDir) rmSync(inProcessDir, { recursive: true, force: true });
  });

  it('returns rows typed as PGlite in process returns them: Date, number, object, Uint8Array', async () => {
    const sql = `SELECT now() AS at, 9007199254740991::int8 AS big, 3::int4 AS small,
                        '{"a":[1,{"b":null}]}'::jsonb AS doc, '\\x00ff10'::bytea AS raw,
                        $1::bytea AS param_raw, ARRAY['x','y']::text[] AS list,
                        NULL::text AS nothing, true AS yes, 1.5::float8 AS ratio,
                        $2::timestamptz AS param_at`;
    const params = [Buffer.from([1, 2, 3]), new Date('2026-01-02T03:04:05.678Z')];
    const a = await inProcess.query(sql, params);
    const b = await tdb.db.query(sql, params);
    // now() differs between the two databases; everything else must be equal.
    expect({ ...b.rows[0], at: undefined }).toStrictEqual({ ...a.rows[0], at: undefined });
    expect(b.rows[0].at).toBeInstanceOf(Date);
    expect(b.rows[0].param_at).toEqual(params[1]);
    expect(b.rows[0].big).toBe(9007199254740991);
    expect(b.rows[0].raw).toBeInstanceOf(Uint8Array);
    expect([...b.rows[0].param_raw]).toEqual([1, 2, 3]);
    // Rows written report their count as in process.
    await inProcess.query('CREATE TABLE thread_counts (n int)');
    await tdb.db.query('CREATE TABLE thread_counts (n int)');
    const insert = 'INSERT INTO thread_counts SELECT generate_series(1, 3)';
    expect((await tdb.db.query(insert)).rowCount).toBe((await inProcess.query(insert)).rowCount);
  });

  it('keeps an error’s SQLSTATE code and fields across the thread', async () => {
    const { db } = tdb;
    await db.query('CREATE TABLE thread_codes (id int PRIMARY KEY)');
    await db.query('INSERT INTO thread_codes VALUES (1)');
    const err = await db.query('INSERT INTO thread_codes VALUES (1)').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(pgErrorCode(err)).toBe(PgCode.uniqueViolation);
    expect(err).toMatchObject({ constraint: 'thread_codes_pkey', table: 'thread_codes' });
    const syntax = await db.query('SELEC 1').catch((e: unknown) => e);
    expect(pgErrorCode(syntax)).toBe('42601');
    // The same inside a transaction, which then rolls back as a whole.
    const inTx = await db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO thread_codes VALUES (2)');
        await tx.query('INSERT INTO thread_codes VALUES (1)');
      })
      .catch((e: unknown) => e);
    expect(pgErrorCode(inTx)).toBe(PgCode.uniqueViolation);
    const { rows } = await db.query('SELECT id FROM thread_codes ORDER BY id');
    expect(rows).toEqual([{ id: 1 }]);
  });

  it('runs a transaction’s statements in order; a statement from outside waits for its commit', async () => {
    const { db } = tdb;
    await db.query('CREATE TABLE thread_tx (n int)');
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO thread_tx VALUES (1)');
      // Sent while the transaction is open: it must neither see nor join it.
      outside = db.query('SELECT count(*)::int AS n FROM thread_tx').then((r) => {
        order.push(`outside saw ${r.rows[0].n}`);
      });
      await Promise.all([
        tx.query('INSERT INTO thread_tx VALUES (2)'),
        tx.query('INSERT INTO thread_tx VALUES (3)'),
      ]);
      const { rows } = await tx.query('SELECT array_agg(n ORDER BY n) AS ns FROM thread_tx');
      order.push(`inside saw ${rows[0].ns.join(',')}`);
    });
    order.push('committed');
    await outside;
    expect(order).toEqual(['inside saw 1,2,3', 'committed', 'outside saw 3']);

    // Thrown from the callback: rolled back, the error is the caller's own.
    const boom = new Error('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO thread_tx VALUES (4)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM thread_tx');
    expect(rows[0].n).toBe(3);

    // A transaction's handle used after its commit fails, as in process, instead of waiting forever.
    let kept: Queryable | undefined;
    await db.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept!.query('SELECT 1')).rejects.toThrow(/closed/);
  });

  it('answers the main thread’s timers while a long statement runs', async () => {
    // pg_sleep holds the database thread. A few tries: a loaded machine may not schedule this
    // thread within one statement, but it never can while the statement holds this thread.
    let ran = false;
    for (let attempt = 0; attempt < 10 && !ran; attempt++) {
      ran = await timerRanDuring(tdb.db.query('SELECT pg_sleep(0.3)'));
    }
    expect(ran).toBe(true);
    // In process, the statement runs on this thread: no timer gets in until it has answered.
    expect(await timerRanDuring(inProcess.query('SELECT pg_sleep(0.05)'))).toBe(false);
  });

  it('delivers NOTIFY to listeners on the main thread', async () => {
    const heard: string[] = [];
    const off = await tdb.db.listen('thread_channel', (p) => heard.push(p));
    await tdb.db.query("SELECT pg_notify('thread_channel', 'one')");
    await until(() => heard.length === 1);
    await off();
    await tdb.db.query("SELECT pg_notify('thread_channel', 'two')");
    await tdb.db.query('SELECT 1');
    expect(heard).toEqual(['one']);
  });

  it('fails calls after close, and closes once', async () => {
    const other = await createTestDatabase();
    const { db } = other;
    await db.query('SELECT 1');
    await Promise.all([db.close(), db.close()]);
    await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);
    await expect(db.transaction(async () => 1)).rejects.toThrow(/closed/);
    await other.drop();
  });
});
