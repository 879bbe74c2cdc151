/**
 * What a delivery costs the table (docs/delivery-states.md, "What is stored"): the claim writes
 * only the lease and the record only the outcome, neither covered by an index of `deliveries`
 * (the pending rows are found through the queue's own table), so both are HOT updates and the
 * whole success path adds index entries to `deliveries` once, at the insert. Read from the
 * transaction's own table counters (pg_stat_xact_user_tables), which count this transaction
 * only, at once, on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import type { Queryable } from '../../src/store/db.js';
import { claimDeliveries, UNBOUNDED_ROOM } from '../../src/queue/claim.js';
import { recordOutcomes } from '../../src/queue/record.js';
import { releaseClaims } from '../../src/queue/release.js';
import { decide } from '../../src/worker/decide.js';
import { newId } from '../../src/ids.js';
import { answered200 } from '../support/delivery-rows.js';

let tdb: TestDatabase;
const org = 'org_claim_writes';
const ROWS = 40;

beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'claim writes')`, [org]);
});
afterAll(async () => tdb?.drop());

/**
 * `webhooks` webhooks with ROWS fresh pending deliveries each, of events fanned out to all of them
 * (so each page holds the rows of every webhook in turn, as a fan-out writes them). Returns their
 * ids.
 */
async function queue(webhooks = 5): Promise<string[]> {
  const hooks = Array.from({ length: webhooks }, () => newId('wh'));
  for (const webhook of hooks)
    await tdb.db.query(
      `INSERT INTO webhooks (id, org_id, name, url, events, secret) VALUES ($1, $2, 'w', 'http://127.0.0.1:9/', '{a.b}', 's')`,
      [webhook, org],
    );
  const event = newId('evt');
  await tdb.db.query(
    `INSERT INTO events (id, org_id, event_type, payload) VALUES ($1, $2, 'a.b', '{}')`,
    [event, org],
  );
  await tdb.db.query(
    `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type)
     SELECT 'dlv_' || h.id || lpad(i::text, 5, '0'), $1, h.id, $2, 'a.b'
       FROM generate_series(1, $4::int) AS i, unnest($3::text[]) WITH ORDINALITY AS h(id, n)
      ORDER BY i, h.n`,
    [org, event, hooks, ROWS],
  );
  return hooks;
}

/** This transaction's updates of `deliveries` so far, and how many of them were HOT. */
async function updates(tx: Queryable): Promise<{ upd: number; hot: number }> {
  const { rows } = await tx.query<{ upd: number; hot: number }>(
    `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot
       FROM pg_stat_xact_user_tables WHERE relname = 'deliveries'`,
  );
  return rows[0] ?? { upd: 0, hot: 0 };
}

describe('the writes of a delivery', () => {
  it('claims as HOT updates: no index entry for the lease', async () => {
    const [mine, ...others] = await queue();
    await tdb.db.transaction(async (tx) => {
      // One webhook's rows: a fifth of each page, which the page's free space (fillfactor 80)
      // holds a new version of, in this one transaction (nothing can be pruned meanwhile).
      const before = await updates(tx);
      const claimed = await claimDeliveries(tx, 'w-hot', 2 * ROWS, 60, {
        ...UNBOUNDED_ROOM,
        busy: others,
      });
      expect(claimed.map((c) => c.webhook_id)).toEqual(Array(ROWS).fill(mine));
      const claim = await updates(tx);
      expect(claim.upd - before.upd).toBe(ROWS);
      expect(claim.hot - before.hot).toBe(ROWS);

      // The claimed rows read as `sending`, and no other worker claims them.
      const { rows } = await tx.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM deliveries WHERE id = ANY($1::text[]) GROUP BY status`,
        [claimed.map((c) => c.id)],
      );
      expect(rows).toEqual([{ status: 'sending', n: ROWS }]);
      const elsewhere = await claimDeliveries(tx, 'w-other', 10 * ROWS, 60);
      expect(elsewhere.filter((c) => c.webhook_id === mine)).toEqual([]);
      expect(elsewhere).toHaveLength(4 * ROWS);

      // Another worker's claims, in this same transaction, of the other webhooks' rows.
      const others4 = await updates(tx);
      expect(others4.upd - claim.upd).toBe(4 * ROWS);
    });
  });

  it('records outcomes as HOT updates: no index entry for the state', async () => {
    // One webhook of ten: a tenth of each page, whose free space (fillfactor 80) holds a new
    // version of each of its rows twice, claimed and then recorded in this one transaction, so
    // nothing depends on when a page is pruned.
    const [mine, ...others] = await queue(10);
    await tdb.db.transaction(async (tx) => {
      const claimed = await claimDeliveries(tx, 'w-rec', 2 * ROWS, 60, {
        ...UNBOUNDED_ROOM,
        busy: others,
      });
      expect(claimed).toHaveLength(ROWS);
      const before = await updates(tx);
      const recorded = await recordOutcomes(
        tx,
        'w-rec',
        claimed.map((c) => decide(c, answered200)),
      );
      expect(recorded.size).toBe(ROWS);
      const record = await updates(tx);
      expect(record.upd - before.upd).toBe(ROWS);
      expect(record.hot - before.hot).toBe(ROWS);
    });
    const { rows } = await tdb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_queue WHERE webhook_id = $1`,
      [mine],
    );
    expect(rows[0].n).toBe(0);
    // The other webhooks' rows, so the next test's claims find only its own.
    await tdb.db.query('DELETE FROM deliveries WHERE webhook_id = ANY($1::text[])', [others]);
  });

  it('hands released rows back unleased, to be claimed again', async () => {
    const hooks = await queue();
    const claimed = await claimDeliveries(tdb.db, 'w-release', 10 * ROWS, 60);
    expect(claimed.filter((c) => hooks.includes(c.webhook_id))).toHaveLength(5 * ROWS);
    expect(await releaseClaims(tdb.db, 'w-release', claimed)).toBe(claimed.length);
    const again = await claimDeliveries(tdb.db, 'w-again', 10 * ROWS, 60);
    expect(again.map((c) => c.id).sort()).toEqual(claimed.map((c) => c.id).sort());
  });
});
