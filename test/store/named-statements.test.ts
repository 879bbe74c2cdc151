/**
 * Named statements (QueryOptions.name): prepared once per connection on both
 * stores (node-postgres on PostgreSQL, src/store/pglite-prepared.ts on the
 * embedded store). A named statement returns what the same statement unnamed
 * returns, keeps its SQLSTATE on error, leaves the connection usable, and
 * stays out of a transaction that another caller holds open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgErrorCode, PgCode } from '../../src/store/db.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(
    'CREATE TABLE named_t (id text PRIMARY KEY, n int8, at timestamptz, tags text[], doc json)',
  );
});
afterAll(async () => tdb?.drop());

const INSERT = `INSERT INTO named_t (id, n, at, tags, doc) VALUES ($1, $2, $3, $4, $5::text::json)
  RETURNING id, n, at, tags, doc, n > 2 AS big, NULL::text AS nothing`;
const SELECT = 'SELECT id, n, at, tags, doc FROM named_t WHERE id = ANY($1::text[]) ORDER BY id';

describe('named statements', () => {
  it('return what the same statement returns unnamed, every time', async () => {
    const at = new Date('2026-12-07T01:02:03.456Z');
    const values = ['a', 3, at, ['x', "it's", 'a,b', ''], '{"k":[1,"two",null]}'];
    const named = await tdb.db.query(INSERT, values, { name: 'test_named_insert' });
    const plain = await tdb.db.query(INSERT, ['b', ...values.slice(1)]);
    expect(named.rowCount).toBe(1);
    expect(named.rows).toEqual([{ ...plain.rows[0], id: 'a' }]);
    expect(named.rows[0]).toMatchObject({ n: 3, at, big: true, nothing: null });
    expect(named.rows[0].tags).toEqual(['x', "it's", 'a,b', '']);
    expect(named.rows[0].doc).toEqual({ k: [1, 'two', null] });
    for (let i = 0; i < 7; i++) {
      // Past the fifth run the server may switch to a generic plan: results stay the same.
      const again = await tdb.db.query(SELECT, [['a', 'b']], { name: 'test_named_select' });
      expect(again).toEqual(await tdb.db.query(SELECT, [['a', 'b']]));
      expect(again.rows.map((r) => r.id)).toEqual(['a', 'b']);
    }
    const none = await tdb.db.query(SELECT, [[]], { name: 'test_named_select' });
    expect(none.rows).toEqual([]);
  });

  it('fail with the SQLSTATE and leave the connection usable', async () => {
    const values = ['dup', 1, null, null, null];
    await tdb.db.query(INSERT, values, { name: 'test_named_insert' });
    const err = await tdb.db.query(INSERT, values, { name: 'test_named_insert' }).catch((e) => e);
    expect(pgErrorCode(err)).toBe(PgCode.uniqueViolation);
    const bad = await tdb.db
      .query('SELECT 1/$1::int AS x', [0], { name: 'test_named_div' })
      .catch((e) => e);
    expect(pgErrorCode(bad)).toBe('22012');
    expect(
      (await tdb.db.query('SELECT 1/$1::int AS x', [1], { name: 'test_named_div' })).rows,
    ).toEqual([{ x: 1 }]);
    const syntax = await tdb.db.query('SELEC 1', [], { name: 'test_named_syntax' }).catch((e) => e);
    expect(pgErrorCode(syntax)).toBe('42601');
    expect((await tdb.db.query('SELECT 2 AS y', [], { name: 'test_named_ok' })).rows).toEqual([
      { y: 2 },
    ]);
  });

  it('wait for a transaction another caller holds open, and never run inside it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const tx = tdb.db.transaction(async (q) => {
      await q.query(INSERT, ['in-tx', 1, null, null, null]);
      inside();
      await held;
      throw new Error('roll back');
    });
    await started;
    const named = tdb.db.query(INSERT, ['beside-tx', 1, null, null, null], {
      name: 'test_named_insert',
    });
    release();
    await expect(tx).rejects.toThrow('roll back');
    await named;
    const { rows } = await tdb.db.query<{ id: string }>(SELECT, [['in-tx', 'beside-tx']]);
    expect(rows.map((r) => r.id)).toEqual(['beside-tx']);
  });
});
