import { describe, expect, it } from 'vitest';
import { circuitView, probeWaitMs } from '../../src/core/circuit.js';

describe('the wait before a circuit probe', () => {
  it('starts at retry_delay_seconds and doubles with each failed probe, up to the cap', () => {
    const opts = { maxSeconds: 3600 };
    expect([0, 1, 2, 3, 6, 7, 50].map((k) => probeWaitMs(k, 60, opts) / 1000)).toEqual([
      60, 120, 240, 480, 3600, 3600, 3600,
    ]);
  });

  it('is scaled by the test-only retry delay scale', () => {
    expect(probeWaitMs(1, 10, { maxSeconds: 3600, scale: 0.001 })).toBe(20);
  });
});

describe('the circuit as the API shows it', () => {
  it('gives no probe time while closed, and ISO times otherwise', () => {
    const since = new Date('2026-12-06T20:00:00Z');
    const next = new Date('2026-12-06T20:01:00Z');
    expect(
      circuitView({
        circuit_state: 'closed',
        circuit_since: since,
        circuit_next_probe_at: next,
        circuit_probes_failed: 0,
      }),
    ).toEqual({
      state: 'closed',
      since: since.toISOString(),
      next_probe_at: null,
      probes_failed: 0,
    });
    expect(
      circuitView({
        circuit_state: 'half_open',
        circuit_since: since,
        circuit_next_probe_at: next,
        circuit_probes_failed: 2,
      }),
    ).toEqual({
      state: 'half_open',
      since: since.toISOString(),
      next_probe_at: next.toISOString(),
      probes_failed: 2,
    });
  });
});
