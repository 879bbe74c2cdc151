import pg from 'pg';
import type { Db, Queryable, QueryOptions } from './db.js';
import { createListener, type ListenLog } from './pg-listener.js';
import { PLANNER_SETTINGS } from './planner.js';

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
  const listener = createListener(url, { log: opts.log });
  let closing: Promise<void> | undefined;

  // Planner settings, once per connection (src/store/planner.ts): sent before its first query
  // rather than as a startup option, which PgBouncer refuses, and awaited, so no query of ours
  // shares the connection with it.
  const configured = new WeakSet<pg.PoolClient>();
  /**
   * A client from the pool, ready for our queries, with `broken` recording an error it raised
   * while checked out: a checked-out client has no pool listener, and an unhandled 'error'
   * (the server gone mid-query: a restart, a failover) would kill the process. The query in
   * progress rejects anyway; the broken client is destroyed on release.
   */
  async function checkout(): Promise<{ client: pg.PoolClient; done: (err?: Error) => void }> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    const done = (err?: Error) => {
      client.removeListener('error', onError);
      client.release(broken ?? err);
    };
    if (!configured.has(client)) {
      try {
        await client.query(PLANNER_SETTINGS);
      } catch (err) {
        done(err as Error);
        throw err;
      }
      configured.add(client);
    }
    return { client, done };
  }

  const query: Queryable['query'] = async (sql, params, opts) => {
    const { client, done } = await checkout();
    try {
      const r = await client.query(statement(sql, params, opts));
      done();
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    } catch (err) {
      // As pool.query does: a connection whose statement failed is not reused.
      done(err as Error);
      throw err;
    }
  };
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const { client, done } = await checkout();
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
        done();
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
