import { describe, expect, it } from 'vitest';
import {
  createWebhookSlots,
  tookAllRoom,
  webhookCap,
  type Admission,
  type Slot,
} from '../../src/worker/webhook-slots.js';

function slotOf(a: Admission): Slot {
  if (a.kind !== 'send') throw new Error(`expected a send, got ${a.kind}`);
  return a.slot;
}
function deferTime(a: Admission): number {
  if (a.kind !== 'defer') throw new Error(`expected a deferral, got ${a.kind}`);
  return a.at;
}

describe('per-webhook in-flight slots', () => {
  it('sends up to the cap, holds one round of slots for a webhook not heard from yet, then spaces deferrals by the 100 ms floor', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    slotOf(s.admit('w', 0));
    slotOf(s.admit('w', 0));
    // Nothing has answered: as many wait here as it has slots; then one slot every 100 ms / 2 slots = 50 ms,
    // and none further than the 100 ms by which both slots in use are expected to have freed.
    expect([s.admit('w', 0).kind, s.admit('w', 0).kind]).toEqual(['wait', 'wait']);
    expect([0, 0, 0].map(() => deferTime(s.admit('w', 0)))).toEqual([50, 100, 100]);
    expect(s.load('w')).toEqual({ inFlight: 2, waiting: 2, ewmaMs: undefined });
  });

  it('holds nothing for a webhook silent for longer than maxWaitMs covers, even before its first answer', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    slotOf(s.admit('w', 0));
    slotOf(s.admit('w', 0));
    // 2.5 s of silence: a slot is expected every 1.25 s, past the 1 s a delivery may wait.
    expect(s.admit('w', 2500).kind).toBe('defer');
  });

  it('backs off as the requests in flight keep hanging: the estimate is at least how long the webhook has been silent', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    slotOf(s.admit('w', 0));
    slotOf(s.admit('w', 0));
    // 4 s into the hang: a slot is expected every 4000 / 2 ms, and each deferral gets its own.
    expect(deferTime(s.admit('w', 4000))).toBe(6000);
    expect(deferTime(s.admit('w', 4000))).toBe(8000);
    // Later deferrals queue behind those already given a slot time, 6000 / 2 ms apart by now.
    expect(deferTime(s.admit('w', 6000))).toBe(11000);
  });

  it('defers a webhook that times out once per estimated slot, never holding its deliveries here', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    const a = slotOf(s.admit('w', 0));
    slotOf(s.admit('w', 0));
    a.release(5000, 5000);
    slotOf(s.admit('w', 5000)); // the freed slot
    expect(s.load('w')).toMatchObject({ inFlight: 2, ewmaMs: 5000 });
    // A 5 s timeout with 2 slots: one frees every 2.5 s; and by 10 s every slot in use now has freed,
    // so none is pushed further than one estimate away.
    expect([
      deferTime(s.admit('w', 5000)),
      deferTime(s.admit('w', 5000)),
      deferTime(s.admit('w', 5000)),
    ]).toEqual([7500, 10000, 10000]);
  });

  it('holds a fast webhook’s burst in process and hands each freed slot to the longest waiter', async () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    const a = slotOf(s.admit('w', 0));
    const b = slotOf(s.admit('w', 0));
    a.release(20, 20);
    const c = slotOf(s.admit('w', 20));
    const d = s.admit('w', 20);
    const e = s.admit('w', 20);
    expect([d.kind, e.kind]).toEqual(['wait', 'wait']);
    if (d.kind !== 'wait' || e.kind !== 'wait') return;
    const order: string[] = [];
    void d.granted.then(() => order.push('d'));
    void e.granted.then(() => order.push('e'));
    // A newcomer does not jump the queue: the slots are taken.
    expect(s.admit('w', 21).kind).toBe('wait');
    b.release(40, 20);
    c.release(40, 20);
    await Promise.resolve();
    expect(order).toEqual(['d', 'e']);
    expect(s.load('w')).toMatchObject({ inFlight: 2, waiting: 1 });
  });

  it('does not take one straggler among fast answers for a slow webhook', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    slotOf(s.admit('w', 0)); // hangs
    slotOf(s.admit('w', 0)).release(20, 20);
    slotOf(s.admit('w', 5000)).release(5010, 10);
    slotOf(s.admit('w', 5010));
    // At the cap, 5 s after the straggler left: the webhook answered just now, so a slot is expected
    // within the 100 ms floor / 2: wait here, rather than be deferred by the straggler's 5 s age.
    expect(s.admit('w', 5010).kind).toBe('wait');
  });

  it('waits only while the expected wait, counting those already waiting, is within maxWaitMs', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    const a = slotOf(s.admit('w', 0));
    slotOf(s.admit('w', 400));
    a.release(400, 400);
    slotOf(s.admit('w', 400));
    // Estimate 400 ms, 2 slots: the k-th waiter expects k × 200 ms.
    const kinds = Array.from({ length: 6 }, () => s.admit('w', 400).kind);
    expect(kinds).toEqual(['wait', 'wait', 'wait', 'wait', 'wait', 'defer']);
  });

  it('a waiter that gives up is deferred and never granted; one granted first keeps its slot', async () => {
    const s = createWebhookSlots({ cap: 1, maxWaitMs: 1000 });
    const a = slotOf(s.admit('w', 0));
    a.release(10, 10);
    const b = slotOf(s.admit('w', 10));
    const late = s.admit('w', 10);
    const lucky = s.admit('w', 10);
    if (late.kind !== 'wait' || lucky.kind !== 'wait') throw new Error('expected waits');
    expect(late.cancel(2010)).toBeGreaterThan(2010);
    b.release(2020, 2010);
    expect(lucky.cancel(2020)).toBeUndefined(); // it got b's slot before it gave up
    await expect(lucky.granted).resolves.toBeDefined();
    expect(s.load('w')).toEqual({ inFlight: 1, waiting: 0, ewmaMs: 10 + 0.2 * 2000 });
  });

  it('keeps each webhook to its own slots', () => {
    const s = createWebhookSlots({ cap: 1, maxWaitMs: 1000 });
    slotOf(s.admit('slow', 0));
    expect(s.admit('slow', 0).kind).toBe('wait');
    expect(s.admit('slow', 0).kind).toBe('defer');
    slotOf(s.admit('fast', 0));
  });

  it('tells the claim how many more of each webhook it can take, and which it should skip', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    // A webhook never seen: two slots and one round of waiters.
    expect(s.room(0)).toEqual({ busy: [], ids: [], rooms: [], fresh: 4 });
    slotOf(s.admit('full', 0));
    slotOf(s.admit('full', 0));
    s.admit('full', 0);
    s.admit('full', 0);
    const half = slotOf(s.admit('half', 0));
    expect(s.room(0)).toEqual({ busy: ['full'], ids: ['half'], rooms: [3], fresh: 4 });
    expect([s.isBusy('full', 0), s.isBusy('half', 0), s.isBusy('unknown', 0)]).toEqual([
      true,
      false,
      false,
    ]);
    // Idle after a fast answer: at least a newcomer's room, so it is left to the default.
    half.release(10, 10);
    expect(s.room(10)).toMatchObject({ ids: [], rooms: [] });
    // In use again: 1 free slot, and (10 ms, counted as the estimate's 100 ms floor) 1000 × 2 / 100 = 20 may wait.
    slotOf(s.admit('half', 10));
    expect(s.room(10)).toMatchObject({ ids: ['half'], rooms: [1 + 20] });
  });

  it('is busy for the claim while deliveries wait here and its room is under half the cap, so a claim is never for one delivery', () => {
    const s = createWebhookSlots({ cap: 4, maxWaitMs: 1000 });
    const first = slotOf(s.admit('w', 0));
    const running = [slotOf(s.admit('w', 0)), slotOf(s.admit('w', 0)), slotOf(s.admit('w', 0))];
    first.release(500, 500); // 500 ms a request: with 4 slots one frees every 125 ms, so 8 may wait within 1 s
    running.push(slotOf(s.admit('w', 500)));
    expect(Array.from({ length: 7 }, () => s.admit('w', 500).kind)).toEqual(Array(7).fill('wait'));
    // Room for 1 more: worth no claim.
    expect(s.isBusy('w', 500)).toBe(true);
    expect(s.room(500).busy).toEqual(['w']);
    running[0].release(500, 500); // its slot goes to the longest waiter: 6 wait, room for 2
    expect(s.load('w')).toMatchObject({ inFlight: 4, waiting: 6 });
    expect(s.isBusy('w', 500)).toBe(false);
    expect(s.room(500)).toMatchObject({ busy: [], ids: ['w'], rooms: [2] });
  });

  it('is not busy once a slot frees with nothing waiting, even when nothing more may wait (a hanging webhook)', () => {
    const s = createWebhookSlots({ cap: 2, maxWaitMs: 1000 });
    const a = slotOf(s.admit('w', 0));
    slotOf(s.admit('w', 0));
    expect(s.isBusy('w', 2500)).toBe(true); // silent 2.5 s: nothing may wait
    a.release(2500, 2500);
    expect(s.isBusy('w', 2500)).toBe(false);
    expect(s.room(2500)).toMatchObject({ ids: ['w'], rooms: [1] });
  });

  it('tells the loop when a claim took all the room it had for a webhook, which may have cut it short', () => {
    const room = { busy: [], ids: ['narrow'], rooms: [2], fresh: 3 };
    const of = (...ids: string[]) => ids.map((webhook_id) => ({ webhook_id }));
    expect(tookAllRoom(room, of('narrow', 'new', 'new'))).toBe(false);
    expect(tookAllRoom(room, of('narrow', 'narrow', 'new'))).toBe(true);
    expect(tookAllRoom(room, of('new', 'new', 'new'))).toBe(true);
    expect(tookAllRoom(room, [])).toBe(false);
  });

  it('defaults to a quarter of the worker’s concurrency, at least 1', () => {
    expect(webhookCap({ workerConcurrency: 256, workerWebhookConcurrency: 0 })).toBe(64);
    expect(webhookCap({ workerConcurrency: 2, workerWebhookConcurrency: 0 })).toBe(1);
    expect(webhookCap({ workerConcurrency: 256, workerWebhookConcurrency: 10 })).toBe(10);
  });
});
