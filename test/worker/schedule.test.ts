/**
 * The webhooks' schedule (docs/delivery-states.md, "Claiming"; src/queue/schedule.ts): a
 * webhook whose due work was all taken is moved on, anything that makes one of its deliveries
 * pending brings it back, and on PostgreSQL a publish that races with the move is never lost,
 * in either order, with two connections and explicit transactions.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { seedDelivery, seedEvent, seedWebhook } from '../support/delivery-rows.js';
import { claimDeliveries } from '../../src/queue/claim.js';
import { releaseClaims } from '../../src/queue/release.js';
import { SETTLE_LOCK_SQL, SETTLE_MOVE_SQL, settleSchedule } from '../../src/queue/schedule.js';
import { newId } from '../../src/ids.js';

let tdb: TestDatabase;
const org = 'org_schedule';
beforeAll(async () => {
  tdb = await createTestDatabase({ poolSize: 4 });
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'schedule')`, [org]);
});
afterAll(async () => tdb?.drop());

const claimableAt = async (hook: string) =>
  (
    await tdb.db.query<{ at: string }>(
      `SELECT claimable_at::text AS at FROM webhook_schedule WHERE webhook_id = $1`,
      [hook],
    )
  ).rows[0]?.at;

/** Whether the webhook's time has come (a claim looks at it). */
const isClaimable = async (hook: string) =>
  (
    await tdb.db.query<{ ok: boolean }>(
      `SELECT claimable_at <= now() AS ok FROM webhook_schedule WHERE webhook_id = $1`,
      [hook],
    )
  ).rows[0]?.ok === true;

/** A webhook whose one delivery was sent: its time has come, with nothing left due (stale). */
async function staleHook(): Promise<string> {
  const hook = await seedWebhook(tdb.db, org);
  await seedDelivery(tdb.db, org, hook, { status: 'succeeded' });
  const id = await seedDelivery(tdb.db, org, hook);
  await tdb.db.query(`UPDATE deliveries SET state = 'succeeded' WHERE id = $1`, [id]);
  expect(await isClaimable(hook)).toBe(true);
  return hook;
}

const INSERT_DELIVERY = `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type)
                         VALUES ($1, $2, $3, $4, 'ticket.created')`;

describe('the webhooks’ schedule', () => {
  it('moves on a webhook whose due work was all taken, and brings it back for a new or released delivery', async () => {
    const hook = await seedWebhook(tdb.db, org);
    const first = await seedDelivery(tdb.db, org, hook);
    const [claimed] = await claimDeliveries(tdb.db, 'w1', 10, 60);
    expect(claimed.id).toBe(first);
    await settleSchedule(tdb.db);
    expect(await claimableAt(hook)).toBe('infinity');
    // Handed back unsent (sending → pending): due again at once.
    await releaseClaims(tdb.db, 'w1', [claimed]);
    expect(await isClaimable(hook)).toBe(true);
    expect((await claimDeliveries(tdb.db, 'w1', 10, 60)).map((c) => c.id)).toEqual([first]);
    await settleSchedule(tdb.db);
    expect(await claimableAt(hook)).toBe('infinity');
    // A new delivery.
    const second = await seedDelivery(tdb.db, org, hook);
    expect(await isClaimable(hook)).toBe(true);
    expect((await claimDeliveries(tdb.db, 'w1', 10, 60)).map((c) => c.id)).toEqual([second]);
  });

  it('moves a webhook whose next delivery waits for its retry to that time, not past it', async () => {
    const hook = await seedWebhook(tdb.db, org);
    const later = new Date(Date.now() + 60_000);
    await seedDelivery(tdb.db, org, hook, { nextAttemptAt: later });
    await tdb.db.query(`UPDATE webhook_schedule SET claimable_at = now() WHERE webhook_id = $1`, [
      hook,
    ]);
    await settleSchedule(tdb.db);
    expect(new Date((await claimableAt(hook))!).getTime()).toBe(later.getTime());
  });
});

describe('a fan-out to very many webhooks', () => {
  it('schedules 40,000 webhooks in one statement without filling the lock table', async () => {
    // One schedule lock per webhook would take 40,000 locks in one transaction: more than the
    // embedded store's lock table holds ("out of shared memory").
    const n = 40_000;
    const prefix = newId('wh');
    await tdb.db.query(
      `INSERT INTO webhooks (id, org_id, name, url, events, secret)
       SELECT $1 || '_' || g, $2, 'many', 'http://127.0.0.1:9/', ARRAY['*'], 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
         FROM generate_series(1, $3) g`,
      [prefix, org, n],
    );
    const event = await seedEvent(tdb.db, org);
    await tdb.db.query(
      `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type)
       SELECT $1 || '_' || g, $2, $3 || '_' || g, $4, 'ticket.created' FROM generate_series(1, $5) g`,
      [newId('dlv'), org, prefix, event, n],
    );
    const { rows } = await tdb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_schedule WHERE webhook_id LIKE $1 || '\\_%' AND claimable_at <= now()`,
      [prefix],
    );
    expect(rows[0].n).toBe(n);
    await tdb.db.query(`DELETE FROM webhooks WHERE id LIKE $1 || '\\_%'`, [prefix]);
  }, 60_000);
});

describe.skipIf(testStore !== 'postgres')('a publish racing with the move, on PostgreSQL', () => {
  let writer: pg.Client;
  let mover: pg.Client;
  let event: string;
  beforeAll(async () => {
    writer = new pg.Client({ connectionString: tdb.url });
    mover = new pg.Client({ connectionString: tdb.url });
    await writer.connect();
    await mover.connect();
    event = await seedEvent(tdb.db, org);
  });
  // A test that failed halfway leaves no transaction open for the next one.
  afterEach(async () => {
    await writer.query('ROLLBACK');
    await mover.query('ROLLBACK');
  });
  afterAll(async () => {
    await writer?.end();
    await mover?.end();
  });

  const claimedIds = async () => (await claimDeliveries(tdb.db, 'w9', 100, 60)).map((c) => c.id);

  it('leaves the webhook alone while an insert of one of its deliveries is not committed', async () => {
    const hook = await staleHook();
    const id = newId('dlv');
    await writer.query('BEGIN');
    await writer.query(INSERT_DELIVERY, [id, org, hook, event]);
    // The move runs meanwhile and reads no row of this webhook due: without the writer's lock
    // it would move the webhook to 'infinity' and the delivery would never be claimed.
    await settleSchedule(tdb.db);
    expect(await isClaimable(hook)).toBe(true);
    await writer.query('COMMIT');
    expect(await claimedIds()).toEqual([id]);
  });

  it('leaves the webhook alone while an update that makes its delivery pending is not committed', async () => {
    const hook = await staleHook();
    const id = await seedDelivery(tdb.db, org, hook, { status: 'failed' });
    await writer.query('BEGIN');
    await writer.query(
      `UPDATE deliveries SET state = 'pending', next_attempt_at = now() WHERE id = $1`,
      [id],
    );
    await settleSchedule(tdb.db);
    expect(await isClaimable(hook)).toBe(true);
    await writer.query('COMMIT');
    expect(await claimedIds()).toEqual([id]);
  });

  it('brings the webhook back when the move commits first, with the insert waiting on it', async () => {
    const hook = await staleHook();
    await mover.query('BEGIN');
    const locked = await mover.query<{ webhook_id: string }>(SETTLE_LOCK_SQL, [1000]);
    expect(locked.rows.map((r) => r.webhook_id)).toContain(hook);
    const writerPid = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows[0].pid;
    const id = newId('dlv');
    await writer.query('BEGIN');
    const inserting = writer.query(INSERT_DELIVERY, [id, org, hook, event]);
    // The insert waits for the mover's lock on the webhook row.
    await vi.waitFor(
      async () => {
        const { rows } = await tdb.db.query<{ wait: string | null }>(
          'SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1',
          [writerPid],
        );
        expect(rows[0]?.wait).toBe('Lock');
      },
      { timeout: 10_000, interval: 20 },
    );
    // The mover's read does not see the insert: the webhook goes to 'infinity'.
    await mover.query(SETTLE_MOVE_SQL, [[hook]]);
    await mover.query('COMMIT');
    await inserting;
    // The insert, let through, brought it back before its own commit.
    await writer.query('COMMIT');
    expect(await isClaimable(hook)).toBe(true);
    expect(await claimedIds()).toEqual([id]);
  });
});
