import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { claimDeliveries } from '../../src/queue/claim.js';
import { recordOutcomesSafely } from '../../src/worker/recorder.js';
import { decide } from '../../src/worker/decide.js';
import { newId } from '../../src/ids.js';
import { answered200 } from '../support/delivery-rows.js';

let tdb: TestDatabase;
const org = 'org_record';
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'record')`, [org]);
});
afterAll(async () => tdb?.drop());

async function webhookWithDelivery(): Promise<{ webhook: string; delivery: string }> {
  const webhook = newId('wh');
  const event = newId('evt');
  const delivery = newId('dlv');
  await tdb.db.query(
    `INSERT INTO webhooks (id, org_id, name, url, events, secret) VALUES ($1, $2, 'w', 'http://127.0.0.1:9/', '{a.b}', 's')`,
    [webhook, org],
  );
  await tdb.db.query(
    `INSERT INTO events (id, org_id, event_type, payload) VALUES ($1, $2, 'a.b', '{}')`,
    [event, org],
  );
  await tdb.db.query(
    `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type) VALUES ($1, $2, $3, $4, 'a.b')`,
    [delivery, org, webhook, event],
  );
  return { webhook, delivery };
}

describe('recording outcomes', () => {
  it('records a batch in one statement when a webhook was deleted while its delivery was in flight', async () => {
    const kept = await webhookWithDelivery();
    const deleted = await webhookWithDelivery();
    const claimed = await claimDeliveries(tdb.db, 'w1', 10, 60);
    expect(claimed.map((c) => c.id).sort()).toEqual([kept.delivery, deleted.delivery].sort());
    await tdb.db.query('DELETE FROM webhooks WHERE id = $1', [deleted.webhook]);

    const errors: unknown[] = [];
    const recorded = await recordOutcomesSafely(
      tdb.db,
      'w1',
      claimed.map((c) => decide(c, answered200)),
      (err) => errors.push(err),
    );
    // No fallback to one statement per outcome: the batch went through as a whole.
    expect(errors).toEqual([]);
    expect([...recorded]).toEqual([kept.delivery]);
    const { rows } = await tdb.db.query('SELECT status, attempts FROM deliveries WHERE id = $1', [
      kept.delivery,
    ]);
    expect(rows[0]).toEqual({ status: 'succeeded', attempts: 1 });
    const attempts = await tdb.db.query('SELECT delivery_id FROM delivery_attempts');
    expect(attempts.rows).toEqual([{ delivery_id: kept.delivery }]);
  });
});
