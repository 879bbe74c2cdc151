import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/worker/rate-limit.js';
import { slotsAndRates, type RoomSource } from '../../src/worker/claim-room.js';
import type { ClaimRoom } from '../../src/worker/webhook-slots.js';

describe("a rate-limited webhook's claim room", () => {
  it('is a full bucket and one second more, less what is claimed and not yet reserved', () => {
    const rl = createRateLimiter();
    expect(rl.room('w', 0)).toBeUndefined(); // no bucket: the claim's SQL bounds it
    const settled = Array.from({ length: 12 }, () => rl.expect('w', 10, 0));
    expect(rl.room('w', 0)).toBe(20 - 12);
    // Reserving settles the expectation; the token it took is what the room counts then.
    for (const s of settled) {
      rl.reserve('w', 10, 0);
      s();
      s(); // once is enough
    }
    expect(rl.room('w', 0)).toBe(10 - 12 + 10); // the bucket owes 2, and 10 come within the second
    expect(rl.rooms(0).get('w')).toBe(rl.room('w', 0));
  });

  it('stays 0 until half a second of sends is free, then refills at the rate', () => {
    const rl = createRateLimiter();
    for (let i = 0; i < 20; i++) rl.reserve('w', 10, 0); // the burst and a second's wait, all taken
    expect(rl.room('w', 0)).toBe(0);
    expect(rl.room('w', 400)).toBe(0); // 4 free: fewer than 5, not worth a claim
    expect(rl.room('w', 500)).toBe(5);
    expect(rl.room('w', 5000)).toBe(20); // full again: a burst and one second
  });

  it('follows a new rate, keeping the count of claimed deliveries', () => {
    const rl = createRateLimiter();
    const s = rl.expect('w', 10, 0);
    rl.expect('w', 4, 0); // the webhook's rate changed between two claims
    expect(rl.room('w', 0)).toBe(4 + 4 - 2);
    s();
    expect(rl.room('w', 0)).toBe(4 + 4 - 1);
  });
});

describe('slots and rates together', () => {
  const slots = (r: Partial<ClaimRoom>, busy: string[] = []): RoomSource => ({
    room: () => ({ busy: [], ids: [], rooms: [], fresh: 100, ...r }),
    isBusy: (id) => busy.includes(id),
  });

  it('give each webhook the lesser room and make busy what either makes busy', () => {
    const rl = createRateLimiter();
    rl.expect('limited', 10, 0); // room 19
    for (let i = 0; i < 20; i++) rl.reserve('full', 10, 0); // room 0
    rl.expect('slow', 10, 0); // room 19, but few slots
    rl.expect('hung', 10, 0);
    const s = slotsAndRates(
      slots({ busy: ['hung'], ids: ['slow', 'other'], rooms: [3, 7] }, ['hung']),
      rl,
    );
    const r = s.room(0);
    expect(r.fresh).toBe(100);
    expect(new Set(r.busy)).toEqual(new Set(['hung', 'full']));
    const rooms = Object.fromEntries(r.ids.map((id, i) => [id, r.rooms[i]]));
    expect(rooms).toEqual({ other: 7, limited: 19, slow: 3 });
    expect(s.isBusy('full', 0)).toBe(true);
    expect(s.isBusy('hung', 0)).toBe(true);
    expect(s.isBusy('limited', 0)).toBe(false);
    expect(s.isBusy('full', 1000)).toBe(false); // refilled
  });

  it('leave the slots’ room alone when no webhook is rate-limited', () => {
    const room: ClaimRoom = { busy: ['b'], ids: ['a'], rooms: [2], fresh: 100 };
    expect(slotsAndRates(slots(room), createRateLimiter()).room(0)).toEqual(room);
  });
});

describe('the buckets the claim room lists', () => {
  it('are only those the rate holds back now: a full, idle bucket is dropped', () => {
    const rl = createRateLimiter();
    rl.reserve('busy', 10, 0);
    const s = rl.expect('claimed', 10, 0);
    expect([...rl.rooms(0).keys()].sort()).toEqual(['busy', 'claimed']);
    expect([...rl.rooms(200).keys()]).toEqual(['claimed']); // `busy` refilled
    s();
    expect(rl.rooms(200).size).toBe(0);
    expect(rl.room('busy', 200)).toBeUndefined();
  });
});
