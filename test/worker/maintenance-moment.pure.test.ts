import { describe, expect, it } from 'vitest';
import { isMaintenanceMoment, MAX_WAIT_MS } from '../../src/worker/maintenance-moment.js';

const batchSize = 200;

/** The moment for a chore due for `dueForMs`, with `queued` rows in the queue; and whether they were counted. */
async function at(dueForMs: number, claimedLastSecond: number, queued = 0) {
  const asked: number[] = [];
  const now = await isMaintenanceMoment(
    { dueForMs, claimedLastSecond, batchSize },
    async (upTo) => {
      asked.push(upTo);
      return Math.min(queued, upTo);
    },
  );
  return { now, asked };
}

describe('when the embedded store’s long chores may run', () => {
  it('never before they are due, whatever the traffic', async () => {
    for (const claimed of [0, 10, 100, 5000])
      expect((await at(-1, claimed, 10_000)).now, String(claimed)).toBe(false);
  });

  it('once due, at once when no delivery was claimed in the last second', async () => {
    expect(await at(0, 0)).toEqual({ now: true, asked: [] });
  });

  it('once due, at once when the worker is behind: full batches claimed, more than two queued', async () => {
    expect(await at(0, 2 * batchSize + 1, 2 * batchSize + 1)).toEqual({
      now: true,
      asked: [2 * batchSize + 1],
    });
    expect((await at(0, 4000, 50_000)).now).toBe(true);
  });

  it('waits at the end of a burst: a busy last second with the queue nearly drained', async () => {
    // The bench's case: 527 claimed in the last second of a drain, 308 rows left.
    expect((await at(0, 527, 308)).now).toBe(false);
    expect((await at(0, 4000, 2 * batchSize)).now).toBe(false);
  });

  it('under light traffic waits, without counting the queue, ten or a hundred a second alike', async () => {
    for (const claimed of [1, 10, 100, 2 * batchSize])
      expect(await at(60_000, claimed, 50_000), String(claimed)).toEqual({
        now: false,
        asked: [],
      });
  });

  it('under light traffic runs anyway once it has waited its longest', async () => {
    expect((await at(MAX_WAIT_MS - 1, 10)).now).toBe(false);
    expect((await at(MAX_WAIT_MS, 10)).now).toBe(true);
    expect((await at(MAX_WAIT_MS, 527, 308)).now).toBe(true);
  });

  it('sets the lines by the batch the worker claims', async () => {
    const small = (claimed: number, queued: number) =>
      isMaintenanceMoment({ dueForMs: 0, claimedLastSecond: claimed, batchSize: 20 }, async (n) =>
        Math.min(queued, n),
      );
    expect(await small(50, 41)).toBe(true);
    expect(await small(50, 40)).toBe(false);
    expect(await small(40, 1000)).toBe(false);
  });
});
