/**
 * The claim and an open circuit (docs/delivery-states.md, "Circuit breaker"), statement by
 * statement: held rows are not claimed, exactly one probe goes when its time has come (also
 * with several claims at once on PostgreSQL), a fifo webhook's probe is its head, and a probe
 * whose worker died is replaced once its lease ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testStore, type TestDatabase } from '../support/db.js';
import { seedDelivery, seedWebhook, type WebhookSeed } from '../support/delivery-rows.js';
import { claimDeliveries, msUntilNextDue } from '../../src/queue/claim.js';
import { releaseClaims, releaseExpiredLeases } from '../../src/queue/release.js';

let tdb: TestDatabase;
const org = 'org_circuit';
beforeAll(async () => {
  tdb = await createTestDatabase({ poolSize: 8 });
  await tdb.db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'circuit')`, [org]);
});
afterAll(async () => tdb?.drop());

/** A webhook whose circuit is open, its probe due `probeInMs` from now (negative: past), with `n` due rows. */
async function openHook(
  n: number,
  probeInMs: number,
  seed: WebhookSeed = {},
): Promise<{ hook: string; ids: string[] }> {
  const hook = await seedWebhook(tdb.db, org, seed);
  const ids = [];
  for (let i = 0; i < n; i++)
    ids.push(
      await seedDelivery(tdb.db, org, hook, { createdAt: new Date(Date.now() - 60_000 + i) }),
    );
  await tdb.db.query(
    `UPDATE webhooks SET circuit_state = 'open', circuit_since = now(),
            circuit_next_probe_at = now() + make_interval(secs => $2::float8 / 1000), circuit_probes_failed = 2
      WHERE id = $1`,
    [hook, probeInMs],
  );
  return { hook, ids };
}

const circuitOf = async (hook: string) =>
  (
    await tdb.db.query<{ circuit_state: string; circuit_next_probe_at: Date | null }>(
      'SELECT circuit_state, circuit_next_probe_at FROM webhooks WHERE id = $1',
      [hook],
    )
  ).rows[0];

describe('claiming with an open circuit', () => {
  it('claims nothing of a webhook whose probe time has not come, and wakes the loop for that time', async () => {
    const held = await openHook(3, 60_000);
    const claimed = await claimDeliveries(tdb.db, 'w1', 100, 60);
    expect(claimed.filter((c) => c.webhook_id === held.hook)).toEqual([]);
    const ms = await msUntilNextDue(tdb.db, new Date());
    expect(ms).toBeDefined();
    expect(ms!).toBeGreaterThan(0);
  });

  it('lets exactly one due delivery through as the probe and turns the circuit half-open', async () => {
    const { hook, ids } = await openHook(4, -1000);
    const claimed = (await claimDeliveries(tdb.db, 'w1', 100, 60)).filter(
      (c) => c.webhook_id === hook,
    );
    expect(claimed.map((c) => c.id)).toEqual([ids[0]]);
    expect(claimed[0].circuit_probe).toBe(true);
    expect(claimed[0].circuit_probes_failed).toBe(2);
    const c = await circuitOf(hook);
    expect(c.circuit_state).toBe('half_open');
    // The probe's lease: until it ends no second probe goes.
    expect(c.circuit_next_probe_at!.getTime()).toBeGreaterThan(Date.now());
    const again = await claimDeliveries(tdb.db, 'w2', 100, 60);
    expect(again.filter((x) => x.webhook_id === hook)).toEqual([]);
  });

  it('hands the probe back with a probe released at shutdown: the next one may go at once', async () => {
    const { hook, ids } = await openHook(2, -1000);
    const probe = (await claimDeliveries(tdb.db, 'w1', 100, 60)).filter(
      (c) => c.webhook_id === hook,
    );
    expect(probe.map((c) => c.id)).toEqual([ids[0]]);
    expect(await releaseClaims(tdb.db, 'w1', probe)).toBe(1);
    const c = await circuitOf(hook);
    expect(c.circuit_state).toBe('half_open');
    expect(c.circuit_next_probe_at!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    // Without waiting for the 60 s lease, the next claim probes again (with the same delivery).
    const next = (await claimDeliveries(tdb.db, 'w2', 100, 60)).filter(
      (x) => x.webhook_id === hook,
    );
    expect(next.map((x) => [x.id, x.circuit_probe])).toEqual([[ids[0], true]]);
  });

  it('probes a fifo webhook with its head only', async () => {
    const { hook, ids } = await openHook(3, -1000, { ordering: 'fifo' });
    const claimed = (await claimDeliveries(tdb.db, 'w1', 100, 60)).filter(
      (c) => c.webhook_id === hook,
    );
    expect(claimed.map((c) => c.id)).toEqual([ids[0]]);
  });

  it('sends a closed webhook’s rows as usual, not as probes', async () => {
    const hook = await seedWebhook(tdb.db, org);
    const id = await seedDelivery(tdb.db, org, hook);
    const claimed = (await claimDeliveries(tdb.db, 'w1', 100, 60)).filter(
      (c) => c.webhook_id === hook,
    );
    expect(claimed.map((c) => [c.id, c.circuit_probe])).toEqual([[id, false]]);
  });

  it('replaces a probe whose worker died once its lease has ended', async () => {
    const { hook, ids } = await openHook(2, -1000);
    const first = (await claimDeliveries(tdb.db, 'dead', 100, 60)).filter(
      (c) => c.webhook_id === hook,
    );
    expect(first).toHaveLength(1);
    // The worker never comes back: its lease runs out (moved into the past, not waited for).
    await tdb.db.query(
      `UPDATE deliveries SET lease_expires_at = now() - interval '1 second' WHERE id = $1`,
      [first[0].id],
    );
    await tdb.db.query(
      `UPDATE webhooks SET circuit_next_probe_at = now() - interval '1 second' WHERE id = $1`,
      [hook],
    );
    expect(await releaseExpiredLeases(tdb.db)).toBeGreaterThanOrEqual(1);
    const second = (await claimDeliveries(tdb.db, 'alive', 100, 60)).filter(
      (c) => c.webhook_id === hook,
    );
    expect(second).toHaveLength(1);
    expect(ids).toContain(second[0].id);
    expect(second[0].circuit_probe).toBe(true);
  });
});

describe.runIf(testStore === 'postgres')('several workers claiming at once on PostgreSQL', () => {
  it('never lets two of them probe the same webhook', async () => {
    for (let round = 0; round < 15; round++) {
      const { hook } = await openHook(6, -1000);
      // Four claims on four pool connections, racing for the same webhook row.
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((w) => claimDeliveries(tdb.db, `${w}${round}`, 100, 60)),
      );
      const probes = results.flat().filter((c) => c.webhook_id === hook);
      expect(probes, `round ${round}`).toHaveLength(1);
      expect((await circuitOf(hook)).circuit_state).toBe('half_open');
    }
  });
});
