import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { seedDelivery, seedWebhook } from '../support/delivery-rows.js';
import { claimDeliveries, msUntilNextDue } from '../../src/queue/claim.js';

let tdb: TestDatabase;
const org = 'org_room';
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'room')`, [org]);
});
afterAll(async () => tdb?.drop());

/** `n` due deliveries to a new webhook, due `dueAgoMs` ago, 1 ms apart (oldest first). */
async function backlog(n: number, dueAgoMs: number): Promise<{ hook: string; ids: string[] }> {
  const hook = await seedWebhook(tdb.db, org);
  const ids = [];
  for (let i = 0; i < n; i++)
    ids.push(
      await seedDelivery(tdb.db, org, hook, { createdAt: new Date(Date.now() - dueAgoMs + i) }),
    );
  return { hook, ids };
}

const statusOf = async (ids: string[]) =>
  (
    await tdb.db.query<{ status: string }>(
      'SELECT status FROM deliveries WHERE id = ANY($1::text[]) ORDER BY id',
      [ids],
    )
  ).rows.map((r) => r.status);

describe('claiming within each webhook’s room in this worker', () => {
  it('skips a busy webhook, takes no more of a webhook than its room, and leaves the rest pending for anyone', async () => {
    // Oldest first: the busy webhook's rows, then the one with room for 2, then one the worker has never seen.
    const busy = await backlog(5, 60_000);
    const narrow = await backlog(5, 50_000);
    const fresh = await backlog(5, 40_000);
    const room = { busy: [busy.hook], ids: [narrow.hook], rooms: [2], fresh: 3 };
    const claimed = await claimDeliveries(tdb.db, 'w1', 100, 60, room);
    const byHook = (hook: string) => claimed.filter((c) => c.webhook_id === hook).map((c) => c.id);
    expect(byHook(busy.hook)).toEqual([]);
    // The oldest of each, in due order.
    expect(byHook(narrow.hook).sort()).toEqual(narrow.ids.slice(0, 2).sort());
    expect(byHook(fresh.hook).sort()).toEqual(fresh.ids.slice(0, 3).sort());
    // What this worker left is still pending and unlocked: another worker, with room, takes it.
    expect(await statusOf(busy.ids)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    const other = await claimDeliveries(tdb.db, 'w2', 100, 60);
    expect(other.map((c) => c.id).sort()).toEqual(
      [...busy.ids, ...narrow.ids.slice(2), ...fresh.ids.slice(3)].sort(),
    );
  });

  it('does not count a busy webhook’s rows when telling the loop when work is next due', async () => {
    const since = new Date(Date.now() - 1000);
    const hook = await seedWebhook(tdb.db, org);
    await seedDelivery(tdb.db, org, hook, { nextAttemptAt: new Date(Date.now() + 60_000) });
    const ms = await msUntilNextDue(tdb.db, since);
    expect(ms).toBeGreaterThan(50_000);
    expect(await msUntilNextDue(tdb.db, since, [hook])).toBeUndefined();
  });
});
