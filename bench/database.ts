/**
 * The PostgreSQL of the benchmark: DATABASE_URL when set, otherwise a
 * throwaway server started exactly as the test suite starts its own
 * (test/support/postgres-server.ts). Each system under test gets its own
 * database on it, so nobody reads another's rows.
 */
import pg from 'pg';
import { startTestPostgres } from '../test/support/postgres-server.js';
import { postmasterPid } from './proc.js';

export interface BenchPostgres {
  /** The server's admin URL. */
  url: string;
  /** Whether we started it (and so may tune and stop it). */
  owned: boolean;
  /** The postmaster's pid when it runs on this machine, for CPU accounting. */
  pid?: number;
  version: string;
  /** Whether pg_stat_statements is loaded (profiling). */
  statements: boolean;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow = any>(
  url: string,
  sql: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function startBenchPostgres(
  opts: { statements?: boolean } = {},
): Promise<BenchPostgres> {
  const given = process.env.DATABASE_URL;
  const server = given
    ? undefined
    : await startTestPostgres(
        opts.statements
          ? {
              settings: {
                shared_preload_libraries: 'pg_stat_statements',
                'pg_stat_statements.track_planning': 'on',
              },
            }
          : {},
      );
  const url = given ?? server!.url;
  const port = Number(new URL(url).port || 5432);
  const host = new URL(url).hostname;
  const [{ server_version: version }] = await adminQuery(url, 'SHOW server_version');
  const preload = (await adminQuery(url, 'SHOW shared_preload_libraries'))[0]
    .shared_preload_libraries as string;
  const made: string[] = [];
  return {
    url,
    owned: !given,
    pid: host === '127.0.0.1' || host === 'localhost' ? postmasterPid(port) : undefined,
    version,
    statements: preload.includes('pg_stat_statements'),
    async createDatabase(name) {
      await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await adminQuery(url, `CREATE DATABASE ${name}`);
      made.push(name);
      return withDatabase(url, name);
    },
    async stop() {
      if (server) return server.stop();
      for (const name of made)
        await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    },
  };
}

/** Runs `fn` on a connection of its own to `url`, closed after. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
