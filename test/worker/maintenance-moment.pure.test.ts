import { describe, expect, it } from 'vitest';
import {
  isMaintenanceMoment,
  MAINTENANCE_EVERY_MS,
  MAX_PUT_OFF_MS,
} from '../../src/worker/maintenance-moment.js';

const batchSize = 200;
const at = (sinceLastPassMs: number, claimedLastSecond: number) =>
  isMaintenanceMoment({ sinceLastPassMs, claimedLastSecond, batchSize });

describe('when the embedded maintenance may run', () => {
  it('never before its interval, whatever the traffic', () => {
    for (const claimed of [0, 10, 100, 5000])
      expect(at(MAINTENANCE_EVERY_MS - 1, claimed), String(claimed)).toBe(false);
  });

  it('once due, at once when no delivery was claimed in the last second', () => {
    expect(at(MAINTENANCE_EVERY_MS, 0)).toBe(true);
  });

  it('once due, at once when the worker claims more than two full batches a second', () => {
    expect(at(MAINTENANCE_EVERY_MS, 2 * batchSize + 1)).toBe(true);
    expect(at(MAINTENANCE_EVERY_MS, 4000)).toBe(true);
  });

  it('under light traffic waits, ten or a hundred deliveries a second alike', () => {
    for (const claimed of [1, 10, 100, 2 * batchSize])
      expect(at(MAINTENANCE_EVERY_MS * 2, claimed), String(claimed)).toBe(false);
  });

  it('under light traffic runs anyway once it has waited its longest', () => {
    expect(at(MAX_PUT_OFF_MS - 1, 10)).toBe(false);
    expect(at(MAX_PUT_OFF_MS, 10)).toBe(true);
    expect(at(MAX_PUT_OFF_MS, 2 * batchSize)).toBe(true);
  });

  it('sets the busy line by the batch the worker claims', () => {
    expect(
      isMaintenanceMoment({
        sinceLastPassMs: MAINTENANCE_EVERY_MS,
        claimedLastSecond: 50,
        batchSize: 20,
      }),
    ).toBe(true);
    expect(
      isMaintenanceMoment({
        sinceLastPassMs: MAINTENANCE_EVERY_MS,
        claimedLastSecond: 50,
        batchSize: 200,
      }),
    ).toBe(false);
  });
});
