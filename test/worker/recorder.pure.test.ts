import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRecorder, FLUSH_DELAY_MS, MAX_RECORD_BATCH } from '../../src/worker/recorder.js';
import type { Outcome } from '../../src/worker/decide.js';

/** An outcome whose delivery id is `n`: all the recorder looks at is its place in line. */
const outcome = (n: number) => ({ delivery: { id: String(n) } }) as unknown as Outcome;
const ids = (batch: Outcome[]) => batch.map((o) => Number(o.delivery.id));

/** A write function that holds each batch until released, and remembers them. */
function heldWrites() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const write = (batch: Outcome[]) => {
    batches.push(ids(batch));
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  const releaseNext = async () => {
    releases.shift()!();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { batches, write, releaseNext };
}

const log = { error: vi.fn() };

beforeEach(() => {
  vi.useFakeTimers();
  log.error.mockClear();
});
afterEach(() => vi.useRealTimers());

describe('the recorder', () => {
  it('gathers outcomes that come back within the flush delay into one write', async () => {
    const w = heldWrites();
    const r = createRecorder({ write: w.write, flushAt: 10, log });
    for (const n of [1, 2, 3]) r.add(outcome(n));
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS - 1);
    expect(w.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.batches).toEqual([[1, 2, 3]]);
  });

  it('writes at once, without the delay, when flushAt outcomes wait', async () => {
    const w = heldWrites();
    const r = createRecorder({ write: w.write, flushAt: 3, log });
    for (const n of [1, 2, 3]) r.add(outcome(n));
    expect(w.batches).toEqual([[1, 2, 3]]);
  });

  it('runs one write at a time: what comes back meanwhile goes in the next, in arrival order', async () => {
    const w = heldWrites();
    const r = createRecorder({ write: w.write, flushAt: 2, log });
    r.add(outcome(1));
    r.add(outcome(2));
    for (const n of [3, 4, 5]) r.add(outcome(n));
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS * 10);
    expect(w.batches).toEqual([[1, 2]]);
    expect(r.pending).toBe(3);
    await w.releaseNext();
    expect(w.batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    await w.releaseNext();
    expect(r.pending).toBe(0);
  });

  it(`writes at most ${MAX_RECORD_BATCH} outcomes per batch`, async () => {
    const w = heldWrites();
    const r = createRecorder({ write: w.write, flushAt: 1, log });
    const n = 2 * MAX_RECORD_BATCH + 1;
    for (let i = 0; i < n; i++) r.add(outcome(i));
    await w.releaseNext();
    await w.releaseNext();
    await w.releaseNext();
    expect(w.batches.map((b) => b.length)).toEqual([1, MAX_RECORD_BATCH, MAX_RECORD_BATCH]);
    expect(w.batches.flat()).toEqual([...Array(n).keys()]);
    expect(r.pending).toBe(0);
  });

  it('flush() resolves only when what came back during it is written too', async () => {
    const w = heldWrites();
    const r = createRecorder({ write: w.write, flushAt: 100, log });
    r.add(outcome(1));
    let flushed = false;
    const done = r.flush().then(() => (flushed = true));
    r.add(outcome(2));
    await w.releaseNext();
    expect(flushed).toBe(false);
    await w.releaseNext();
    await done;
    expect(w.batches).toEqual([[1], [2]]);
  });

  it('logs a failed write and goes on recording what comes after', async () => {
    const batches: number[][] = [];
    let fail = true;
    const write = async (batch: Outcome[]) => {
      batches.push(ids(batch));
      if (fail) throw new Error('database down');
    };
    const r = createRecorder({ write, flushAt: 1, log });
    r.add(outcome(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(log.error).toHaveBeenCalledTimes(1);
    fail = false;
    r.add(outcome(2));
    await r.flush();
    expect(batches).toEqual([[1], [2]]);
    expect(log.error).toHaveBeenCalledTimes(1);
  });
});
