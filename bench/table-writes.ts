/**
 * Row writes per delivery on PostgreSQL (issue "delivery engine v2", step 3): the
 * cumulative table statistics (`pg_stat_user_tables`) of the queue's tables read
 * before a delivery's life begins (the backlog is queued) and after the last of
 * it is recorded (the backlog drained), divided by the deliveries made. Every
 * write that is not HOT adds one entry to each index whose predicate the new row
 * matches, so `writes - hot` times the table's index count bounds the index
 * entries per delivery from above.
 */
import type pg from 'pg';
import { withClient } from './database.js';

const TABLES = ['deliveries', 'delivery_queue', 'delivery_attempts', 'webhooks'] as const;

interface Counters {
  ins: number;
  upd: number;
  hot: number;
  del: number;
}

export type TableSnapshot = Record<string, Counters>;

export interface TableWrites {
  /** Per delivery: rows inserted, updated, of those HOT, deleted; and the table's index count. */
  [table: string]: { ins: number; upd: number; hot: number; del: number; indexes: number };
}

async function read(c: pg.Client): Promise<TableSnapshot> {
  const { rows } = await c.query<{
    relname: string;
    ins: string;
    upd: string;
    hot: string;
    del: string;
  }>(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del
       FROM pg_stat_user_tables WHERE relname = ANY($1::text[])`,
    [TABLES],
  );
  const snap: TableSnapshot = {};
  for (const r of rows) snap[r.relname] = { ins: +r.ins, upd: +r.upd, hot: +r.hot, del: +r.del };
  return snap;
}

/** The counters as they are now. */
export function snapshotTables(url: string): Promise<TableSnapshot> {
  return withClient(url, read);
}

/** A backend with nothing more to do flushes what it counted after at most this long (PostgreSQL 15). */
const IDLE_FLUSH_MS = 10_000;

/**
 * Writes per delivery since `before`. A backend reports its counts when it goes idle, or up to
 * IDLE_FLUSH_MS later when it reported less than a second before, so the counters are read
 * until the attempts of all `deliveries` show and nothing has moved for longer than that
 * (at most `boundMs` in all).
 */
export async function writesSince(
  url: string,
  before: TableSnapshot,
  deliveries: number,
  boundMs = 30_000,
): Promise<TableWrites> {
  return withClient(url, async (c) => {
    const until = Date.now() + boundMs;
    const sum = (s: TableSnapshot) =>
      Object.values(s).reduce((n, t) => n + t.ins + t.upd + t.del, 0);
    let now = await read(c);
    let stillSince = Date.now();
    const attempts = () => (now.delivery_attempts?.ins ?? 0) - (before.delivery_attempts?.ins ?? 0);
    while (
      (attempts() < deliveries || Date.now() - stillSince <= IDLE_FLUSH_MS) &&
      Date.now() < until
    ) {
      await new Promise((r) => setTimeout(r, 500));
      const next = await read(c);
      if (sum(next) !== sum(now)) stillSince = Date.now();
      now = next;
    }
    const { rows } = await c.query<{ tablename: string; n: number }>(
      `SELECT tablename, count(*)::int AS n FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = ANY($1::text[]) GROUP BY tablename`,
      [TABLES],
    );
    const indexes = new Map(rows.map((r) => [r.tablename, r.n]));
    const out: TableWrites = {};
    for (const t of TABLES) {
      const a = before[t] ?? { ins: 0, upd: 0, hot: 0, del: 0 };
      const b = now[t] ?? a;
      const per = (k: keyof Counters) => Number(((b[k] - a[k]) / deliveries).toFixed(2));
      out[t] = {
        ins: per('ins'),
        upd: per('upd'),
        hot: per('hot'),
        del: per('del'),
        indexes: indexes.get(t) ?? 0,
      };
    }
    return out;
  });
}

/** The attempt log's size per attempt (issue "delivery engine v2", step 3: a cheaper attempt row). */
export interface AttemptBytes {
  attempts: number;
  /** Mean width of one `delivery_attempts` row (`pg_column_size`), bytes. */
  row: number;
  /** The attempt log on disk (table, TOAST and indexes; with its header sets, where stored) per attempt, bytes. */
  total: number;
}

/**
 * Bytes per attempt as the log holds them now: read after the backlog drained, when the
 * backlog's attempts are the only ones (the phases before it run no worker).
 */
export function attemptBytes(url: string): Promise<AttemptBytes> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ n: number; row: number | null; total: string }>(
      `SELECT count(*)::int AS n, avg(pg_column_size(a.*))::float8 AS row,
              pg_total_relation_size('delivery_attempts')
                + coalesce(pg_total_relation_size(to_regclass('request_header_sets')), 0) AS total
         FROM delivery_attempts a`,
    );
    const r = rows[0];
    return {
      attempts: r.n,
      row: Math.round(r.row ?? 0),
      total: r.n ? Math.round(Number(r.total) / r.n) : 0,
    };
  });
}
