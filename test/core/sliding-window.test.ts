import { describe, expect, it } from 'vitest';
import { createSlidingWindow } from '../../src/api/sliding-window.js';

describe('sliding window limiter', () => {
  it('allows `limit` takes per window per key and says how long until the next one', () => {
    const w = createSlidingWindow(3, 60_000);
    expect([w.take('a', 0), w.take('a', 10_000), w.take('a', 20_000)]).toEqual([0, 0, 0]);
    // The oldest take leaves the window at 60 s: 30 s from now.
    expect(w.take('a', 30_000)).toBe(30_000);
    expect(w.take('b', 30_000)).toBe(0);
    // A refused take is not counted: at 60 s exactly one slot is free again.
    expect(w.take('a', 60_000)).toBe(0);
    expect(w.take('a', 60_001)).toBe(9_999);
  });

  it('forgets idle keys, and a key idle for a window starts afresh', () => {
    const w = createSlidingWindow(1, 1_000);
    expect(w.take('x', 0)).toBe(0);
    expect(w.take('x', 999)).toBe(1);
    expect(w.take('x', 5_000)).toBe(0);
  });
});
