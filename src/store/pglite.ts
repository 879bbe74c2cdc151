import { mkdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';
import { preparedStatements } from './pglite-prepared.js';
import { PLANNER_SETTINGS } from './planner.js';

// int8 counts come back as JS numbers on both adapters (counts never reach 2^53).
const parsers = { [types.INT8]: (v: string) => Number(v) };

function wrap(q: Pick<PGlite, 'query'>): Queryable {
  return {
    async query(sql, params) {
      const r = await q.query(sql, params as any[] | undefined, { parsers });
      return { rows: r.rows as any[], rowCount: r.affectedRows ?? 0 } as QueryResult<any>;
    },
  };
}

/**
 * Opens the embedded database. `dataDir` undefined means in memory.
 * PGlite has one connection: it serialises queries itself, and a transaction
 * holds it exclusively, which is what makes SKIP LOCKED claims safe here too.
 */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir);
  await pg.exec(PLANNER_SETTINGS);
  const base = wrap(pg);
  const named = preparedStatements(pg, parsers);
  return {
    kind: 'pglite',
    async query(sql, params, opts) {
      if (opts?.name) {
        const result = await named<any>(opts.name, sql, params);
        if (result) return result;
      }
      return base.query(sql, params);
    },
    async transaction(fn) {
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    // One process, one in-process connection that never drops: `onReconnect` never has cause to run.
    async listen(channel, onNotify) {
      const unsubscribe = await pg.listen(channel, onNotify);
      return async () => unsubscribe();
    },
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
}
