import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { claimDeliveries } from '../../src/queue/claim.js';
import { seedDelivery, seedWebhook } from '../support/delivery-rows.js';

let tdb: TestDatabase;
const org = 'org_claim_rows';
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'claim rows')`, [org]);
});
afterAll(async () => tdb?.drop());

describe('the claim', () => {
  it("gives every claimed row its own webhook's settings, though each webhook is read once", async () => {
    const hooks = [];
    for (const n of [1, 2, 3]) {
      const id = await seedWebhook(tdb.db, org, {
        url: `http://127.0.0.1:9/${n}`,
        name: `hook ${n}`,
      });
      await tdb.db.query(
        `UPDATE webhooks SET custom_headers = $2, timeout_seconds = $3, include_fields = $4,
                             previous_secrets = $5
          WHERE id = $1`,
        [
          id,
          { 'x-hook': String(n) },
          5 + n,
          [`field${n}`],
          JSON.stringify([{ secret: `whsec_old${n}`, expires_at: '2030-01-01T00:00:00.000Z' }]),
        ],
      );
      const { rows } = await tdb.db.query<{ secret: string }>(
        'SELECT secret FROM webhooks WHERE id = $1',
        [id],
      );
      hooks.push({ id, n, secret: rows[0]!.secret });
      for (let i = 0; i < 4; i++) await seedDelivery(tdb.db, org, id);
    }

    const claimed = await claimDeliveries(tdb.db, 'w1', 100, 60);
    expect(claimed).toHaveLength(12);
    for (const c of claimed) {
      const h = hooks.find((x) => x.id === c.webhook_id)!;
      expect(c).toMatchObject({
        url: `http://127.0.0.1:9/${h.n}`,
        webhook_name: `hook ${h.n}`,
        is_active: true,
        timeout_seconds: 5 + h.n,
        custom_headers: { 'x-hook': String(h.n) },
        secret: h.secret,
        previous_secrets: [{ secret: `whsec_old${h.n}` }],
        include_fields: [`field${h.n}`],
        transformation: null,
        circuit_probe: false,
      });
      expect(c.webhook_updated_at).toBeInstanceOf(Date);
      expect(c.payload_text).toBe('{"n":1}');
      expect(c).not.toHaveProperty('nth');
    }
  });

  it('takes at most two seconds of a rate-limited webhook’s rate, even with no bucket for it yet', async () => {
    const limited = await seedWebhook(tdb.db, org);
    const free = await seedWebhook(tdb.db, org);
    await tdb.db.query('UPDATE webhooks SET rate_limit_per_second = 3 WHERE id = $1', [limited]);
    for (let i = 0; i < 20; i++) {
      await seedDelivery(tdb.db, org, limited);
      await seedDelivery(tdb.db, org, free);
    }
    const claimed = await claimDeliveries(tdb.db, 'w2', 100, 60);
    const n = (id: string) => claimed.filter((c) => c.webhook_id === id).length;
    expect([n(limited), n(free)]).toEqual([6, 20]);
  });
});
