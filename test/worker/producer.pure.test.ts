import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProducer, type ProducerDeps } from '../../src/worker/producer.js';
import type { ClaimedDelivery } from '../../src/queue/claim.js';
import type { ClaimRoom } from '../../src/worker/webhook-slots.js';

const claim = (id: string, webhook = 'wh_a') =>
  ({ id, webhook_id: webhook }) as unknown as ClaimedDelivery;

/**
 * A producer over a fake queue: `due` is what the next claims hand out (each
 * takes up to its limit), `nextDueMs` what msUntilNextDue answers. Attempts
 * stay in flight until the test ends them.
 */
function harness(over: Partial<ProducerDeps> & { busy?: string[]; nextDueMs?: number } = {}) {
  const due: ClaimedDelivery[] = [];
  const claims: Array<{ limit: number; room: ClaimRoom }> = [];
  const inFlight = new Map<string, ClaimedDelivery>();
  const released: string[] = [];
  const log = { error: vi.fn(), warn: vi.fn() };
  const producer = createProducer({
    claim: async (limit, room) => {
      claims.push({ limit, room });
      return due.splice(0, limit);
    },
    nextDue: async () => over.nextDueMs,
    release: async (cs) => released.push(...cs.map((c) => c.id)),
    dispatch: (c) => inFlight.set(c.id, c),
    inFlight: () => inFlight.size,
    slots: {
      room: () => ({ busy: over.busy ?? [], ids: [], rooms: [], fresh: 100 }),
      isBusy: () => false,
    },
    batchSize: 4,
    concurrency: 4,
    idlePollMs: 60_000,
    log,
    ...over,
  });
  /** Ends the attempt of `id` as the worker does. */
  const end = (id: string) => {
    const c = inFlight.get(id)!;
    inFlight.delete(id);
    producer.attemptEnded(c.webhook_id);
  };
  return { producer, due, claims, inFlight, released, end, log };
}

/** Lets the loop run until it waits on a timer or a wake. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the producer', () => {
  it('claims once and sleeps with nothing due; a wake, not the poll, makes it claim again', async () => {
    const h = harness();
    void h.producer.start();
    await settle();
    expect(h.claims).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(h.claims).toHaveLength(1);
    h.due.push(claim('d1'));
    h.producer.wake();
    await settle();
    expect(h.claims).toHaveLength(2);
    expect([...h.inFlight.keys()]).toEqual(['d1']);
    await h.producer.stop();
  });

  it('looks again when the next delivery comes due, and at the idle poll at the latest', async () => {
    const h = harness({ nextDueMs: 3000 });
    void h.producer.start();
    await settle();
    await vi.advanceTimersByTimeAsync(2999);
    expect(h.claims).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.claims).toHaveLength(2);
    await h.producer.stop();

    const idle = harness({ nextDueMs: undefined, idlePollMs: 500 });
    void idle.producer.start();
    await settle();
    await vi.advanceTimersByTimeAsync(500);
    expect(idle.claims).toHaveLength(2);
    await idle.producer.stop();
  });

  it('dueAt wakes it only for a time before the one it sleeps until', async () => {
    const h = harness({ nextDueMs: 10_000 });
    void h.producer.start();
    await settle();
    h.producer.dueAt(Date.now() + 20_000);
    await settle();
    expect(h.claims).toHaveLength(1);
    h.producer.dueAt(Date.now() + 5_000);
    await settle();
    expect(h.claims).toHaveLength(2);
    await h.producer.stop();
  });

  it('claims again at once after a full batch, then waits for half a batch of room', async () => {
    const h = harness();
    h.due.push(...['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => claim(id)));
    void h.producer.start();
    await settle();
    // Full batch of 4: no room is left for a second claim.
    expect(h.claims.map((c) => c.limit)).toEqual([4]);
    h.end('d1');
    await settle();
    expect(h.claims).toHaveLength(1); // one free of four is under half a batch
    h.end('d2');
    await settle();
    expect(h.claims.map((c) => c.limit)).toEqual([4, 2]);
    expect([...h.inFlight.keys()]).toEqual(['d3', 'd4', 'd5']);
    await h.producer.stop();
  });

  it('a webhook the claim left out as busy wakes it when one of its requests ends with room again', async () => {
    const h = harness({ busy: ['wh_busy'] });
    h.due.push(claim('d1', 'wh_other'), claim('d2', 'wh_busy'));
    void h.producer.start();
    await settle();
    const claimsBefore = h.claims.length;
    h.end('d1'); // not the busy webhook, and not enough room to matter: no claim
    await settle();
    expect(h.claims).toHaveLength(claimsBefore);
    h.end('d2');
    await settle();
    expect(h.claims).toHaveLength(claimsBefore + 1);
    expect(h.claims[0].room.busy).toEqual(['wh_busy']);
    await h.producer.stop();
  });

  it('hands back, undispatched, what a claim brought in after stop() was called', async () => {
    let finishClaim!: (cs: ClaimedDelivery[]) => void;
    const h = harness({
      claim: () => new Promise<ClaimedDelivery[]>((resolve) => (finishClaim = resolve)),
    });
    void h.producer.start();
    await settle();
    const stopped = h.producer.stop();
    finishClaim([claim('d1'), claim('d2')]);
    await stopped;
    expect(h.released).toEqual(['d1', 'd2']);
    expect(h.inFlight.size).toBe(0);
    expect(h.producer.running).toBe(false);
  });

  it('survives a failing claim: logs it and tries again after a back-off', async () => {
    let calls = 0;
    const h = harness({
      claim: async () => {
        if (++calls === 1) throw new Error('connection reset');
        return [];
      },
    });
    void h.producer.start();
    await settle();
    expect(h.log.error).toHaveBeenCalledTimes(1);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(2);
    await h.producer.stop();
  });
});
