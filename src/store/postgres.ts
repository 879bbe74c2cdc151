import pg from 'pg';
import type { Db, Queryable, QueryOptions } from './db.js';
import { createListener, type ListenLog } from './pg-listener.js';

// int8 (counts, sequences) as numbers, numeric (averages) as numbers, on both adapters alike.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface PostgresOptions {
  /** Pool size; the API and the worker share it. */
  max?: number;
  applicationName?: string;
  /** Where the LISTEN connection reports that it dropped and came back (default: nowhere). */
  log?: ListenLog;
}

/** node-postgres prepares a statement that has a name once per connection and reuses it after. */
function statement(
  text: string,
  params: readonly unknown[] | undefined,
  opts: QueryOptions | undefined,
): pg.QueryConfig {
  return { text, values: params as unknown[] | undefined, name: opts?.name };
}

/** Opens a pool on a real PostgreSQL server. */
export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'hookline',
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // No JIT compilation: the queue's statements are short, but the planner prices a walk of each
  // webhook's queue rows high enough to cross jit_above_cost, and compiling a plan took about
  // 300 ms of a statement that runs in 1 (docs/performance-history.md, 2026-12-07 13:12). Set
  // on each new connection rather than as a startup option, which PgBouncer refuses.
  pool.on('connect', (client) => {
    client.query('SET jit = off').catch(() => {});
  });
  const listener = createListener(url, { log: opts.log });
  let closing: Promise<void> | undefined;
  const query: Queryable['query'] = async (sql, params, opts) => {
    const r = await pool.query(statement(sql, params, opts));
    return { rows: r.rows, rowCount: r.rowCount ?? 0 };
  };
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client has no pool listener: if the server goes away mid-transaction
      // (a restart, a failover) its 'error' event would be unhandled and kill the process.
      // The query in progress rejects anyway; the broken client is destroyed on release.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query(sql, params, opts) {
            const r = await client.query(statement(sql, params, opts));
            return { rows: r.rows, rowCount: r.rowCount ?? 0 };
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    // One connection outside the pool carries every channel (src/store/pg-listener.ts).
    listen: (channel, onNotify, listenOpts) => listener.listen(channel, onNotify, listenOpts),
    close() {
      closing ??= (async () => {
        await listener.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
