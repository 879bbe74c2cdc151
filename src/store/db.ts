/**
 * The one interface every part of Hookline talks to the database through.
 * Two adapters implement it: PGlite (embedded, in-process) and node-postgres (a real server);
 * a third, src/store/pglite-thread.ts, runs the PGlite one on a thread of its own (the default
 * for the embedded store). Both databases speak the same SQL dialect, so queries are written once.
 */

export type Row = Record<string, any>;

export interface QueryResult<R = Row> {
  rows: R[];
  /** Rows inserted, updated or deleted by the statement (0 for plain selects on PGlite). */
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Prepare the statement once per connection under this name and reuse it
   * (PostgreSQL: no parse or planning per call). Only for a hot statement whose
   * text never changes; the same name must always carry the same text. PGlite
   * and other Queryables may ignore it.
   */
  name?: string;
}

export interface Queryable {
  query<R = Row>(
    sql: string,
    params?: readonly unknown[],
    opts?: QueryOptions,
  ): Promise<QueryResult<R>>;
}

export interface ListenOptions {
  /**
   * PostgreSQL: runs when the listening connection is back after it dropped (a server restart,
   * a network cut). NOTIFYs sent while it was down are lost, so look again now at whatever they
   * would have announced (re-poll a queue, forget cached state). Runs after every channel is
   * LISTENed again, for all subscribers in one pass, in the order they subscribed. PGlite never
   * drops and never calls it.
   */
  onReconnect?: () => void;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` inside BEGIN … COMMIT; rolls back and rethrows when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. On PostgreSQL every
   * subscription of a Db shares one connection (application_name `hookline-listen`), re-opened
   * when it drops; see ListenOptions.onReconnect.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    opts?: ListenOptions,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** PostgreSQL error codes Hookline reacts to. */
export const PgCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  invalidTextRepresentation: '22P02',
  duplicateTable: '42P07',
  duplicateObject: '42710',
} as const;

/** The SQLSTATE of a database error, whichever adapter raised it. */
export function pgErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Runs `fn` in a transaction that holds the advisory lock `lock`, so that of the workers
 * sharing a database only one runs it at a time; resolves to undefined, without running it,
 * when another holds the lock.
 */
export async function underTryLock<T>(
  db: Db,
  lock: number,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T | undefined> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1) AS locked',
      [lock],
    );
    return rows[0]?.locked ? fn(tx) : undefined;
  });
}
