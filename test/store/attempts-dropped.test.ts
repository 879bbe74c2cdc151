/**
 * A deleted delivery's attempts go with it (sql/000107_attempts_dropped_by_join.sql), on both
 * stores, and the statement that finds them is linear in the deleted rows whatever the
 * statistics say: never a scan that tests each attempt against each deleted id in turn, which
 * held the embedded database for more than ten minutes when a webhook with 10,000 deliveries
 * was deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { seedEvent, seedWebhook } from '../support/delivery-rows.js';
import { newId } from '../../src/ids.js';
import { insertDeliveries } from '../../src/queue/fan-out.js';

let tdb: TestDatabase;
const org = 'org_attempts_dropped';

beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'dropped')`, [org]);
  // The plan the trigger's statement gets, read where its transition table exists: a second
  // statement trigger EXPLAINs the statement of the real one, taken from its source.
  await tdb.db.query(`CREATE TABLE test_plans (plan text)`);
  await tdb.db.query(`
    CREATE FUNCTION test_explain_drop_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE stmt text; line text; plan text := '';
    BEGIN
      SELECT substring(prosrc FROM '(DELETE[^;]*);') INTO stmt
        FROM pg_proc WHERE proname = 'deliveries_drop_attempts';
      FOR line IN EXECUTE 'EXPLAIN ' || stmt LOOP plan := plan || line || E'\\n'; END LOOP;
      INSERT INTO test_plans VALUES (plan);
      RETURN NULL;
    END $$`);
  // Named to fire before the real one (triggers fire in name order), while the attempts are there.
  await tdb.db.query(`
    CREATE TRIGGER a_test_explain_drop_attempts AFTER DELETE ON deliveries
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION test_explain_drop_attempts()`);
});
afterAll(async () => tdb?.drop());

/** `n` deliveries of a new webhook, each with two attempts; returns the webhook. */
async function webhookWithAttempts(n: number): Promise<string> {
  const hook = await seedWebhook(tdb.db, org);
  const event = await seedEvent(tdb.db, org);
  const ids = Array.from({ length: n }, () => newId('dlv'));
  await tdb.db.transaction(async (tx) => {
    await insertDeliveries(tx, org, {
      ids,
      webhookIds: ids.map(() => hook),
      eventIds: ids.map(() => event),
      eventTypes: ids.map(() => 'ticket.created'),
    });
    await tx.query(
      `INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, attempt, started_at, duration_ms)
       SELECT 'att_' || d.id || '_' || a, $1, d.id, $2, a, now(), 5
         FROM unnest($3::text[]) AS d(id), generate_series(1, 2) AS a`,
      [org, hook, ids],
    );
  });
  return hook;
}

const attemptsOf = async (hook: string) =>
  (
    await tdb.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM delivery_attempts WHERE webhook_id = $1',
      [hook],
    )
  ).rows[0].n;

describe("a deleted delivery's attempts", () => {
  it('go with the webhook that is deleted, and no others', async () => {
    const kept = await webhookWithAttempts(300);
    const gone = await webhookWithAttempts(2000);
    await tdb.db.query('DELETE FROM webhooks WHERE id = $1', [gone]);
    expect(await attemptsOf(gone)).toBe(0);
    expect(await attemptsOf(kept)).toBe(600);
  });

  it('are found without testing each attempt against a list of the deleted ids', async () => {
    // No statistics on delivery_attempts: the case where a guess at `= ANY(ARRAY(…))` chose a
    // sequential scan with the array as its filter.
    await tdb.db.query('DELETE FROM test_plans');
    const gone = await webhookWithAttempts(1000);
    await tdb.db.query('DELETE FROM webhooks WHERE id = $1', [gone]);
    const { rows } = await tdb.db.query<{ plan: string }>('SELECT plan FROM test_plans');
    expect(rows).toHaveLength(1);
    const plan = rows[0].plan;
    expect(plan).toMatch(/delivery_attempts/);
    // A filter of an ANY over the ids is evaluated per row, one comparison per id.
    expect(plan).not.toMatch(/ANY/);
    expect(await attemptsOf(gone)).toBe(0);
  });
});
