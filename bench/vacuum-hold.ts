/**
 * The vacuum-held-back phase (PostgreSQL): a second session opens a
 * transaction on Hookline's database, takes a transaction id
 * (`BEGIN; SELECT txid_current();`) and stays idle for the whole phase, as a
 * forgotten report or a stuck migration would. No row deleted or updated after
 * it began can be vacuumed away meanwhile, so the queue's dead rows pile up.
 */
import pg from 'pg';
import type { SteadyResult } from './steady.js';

export interface VacuumHeldResult {
  /** The fan-out-10 measurement with the transaction held open. */
  with_hold: SteadyResult;
  /** The fan-out-10 rate of the same run, no transaction held. */
  without_deliveries_per_s: number | null;
  /** with_hold / without. */
  ratio: number | null;
  /** The holding session's transaction id, read back from pg_stat_activity at the end. */
  held_xid: string | null;
  /** Dead rows (pg_stat_user_tables.n_dead_tup) at the start and at the end of the hold. */
  dead_tuples: { before: Record<string, number>; after: Record<string, number> };
}

async function deadTuples(c: pg.Client): Promise<Record<string, number>> {
  const { rows } = await c.query<{ relname: string; n_dead_tup: string }>(
    // Every table with dead rows, whatever the schema's queue tables are called.
    'SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE n_dead_tup > 0 ORDER BY relname',
  );
  return Object.fromEntries(rows.map((r) => [r.relname, Number(r.n_dead_tup)]));
}

/** Runs `measure` while another session holds a transaction open on `databaseUrl`. */
export async function vacuumHeldBack(
  databaseUrl: string,
  withoutPerS: number | undefined,
  measure: () => Promise<SteadyResult>,
): Promise<VacuumHeldResult> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  const observer = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  await observer.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT txid_current()');
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows[0].pid;
    const before = await deadTuples(observer);
    const withHold = await measure();
    // Still holding? An idle-in-transaction timeout on a given server would end it early.
    const { rows } = await observer.query<{ xid: string | null }>(
      'SELECT backend_xid::text AS xid FROM pg_stat_activity WHERE pid = $1',
      [holderPid],
    );
    const after = await deadTuples(observer);
    const without = withoutPerS ?? null;
    return {
      with_hold: withHold,
      without_deliveries_per_s: without,
      ratio: without ? withHold.deliveries_per_s / without : null,
      held_xid: rows[0]?.xid ?? null,
      dead_tuples: { before, after },
    };
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    await holder.end().catch(() => {});
    await observer.end().catch(() => {});
  }
}
