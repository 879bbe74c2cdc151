/**
 * What a batch tells the circuit (docs/delivery-states.md, "Circuit breaker"): which webhook's
 * probe came back, and whether it made a request at all.
 */
import { describe, expect, it } from 'vitest';
import { healthDeltas } from '../../src/worker/webhook-health.js';
import { decide, deferred } from '../../src/worker/decide.js';
import type { ClaimedDelivery } from '../../src/queue/claim.js';
import type { AttemptResult } from '../../src/worker/send.js';

const delivery = (id: string, webhookId: string, probe: boolean): ClaimedDelivery =>
  ({
    id,
    webhook_id: webhookId,
    attempts: 0,
    manual_attempts: 0,
    retry_attempts: 5,
    retry_delay_seconds: 60,
    circuit_probe: probe,
    circuit_probes_failed: probe ? 2 : 0,
  }) as ClaimedDelivery;

const result = (ok: boolean, at: number): AttemptResult =>
  ({
    ok,
    status: ok ? 200 : 500,
    error: ok ? null : 'http_error',
    startedAt: new Date(at),
    durationMs: 5,
  }) as AttemptResult;

describe('a batch’s health deltas and the circuit', () => {
  it('marks a failed probe as sent, with the probes failed before it', () => {
    const d = healthDeltas([decide(delivery('d1', 'w1', true), result(false, 1000))]).get('w1')!;
    expect(d).toMatchObject({ probe: true, probeSent: true, probesFailed: 2, fails: 1 });
  });

  it('keeps a probe that went out unsent (deferred), so the probe is handed back', () => {
    const d = healthDeltas([deferred(delivery('d1', 'w1', true), new Date(5000))]).get('w1')!;
    expect(d).toMatchObject({ probe: true, probeSent: false, fails: 0, lastTriggered: null });
  });

  it('leaves a deferred delivery that was no probe out, as before', () => {
    expect(healthDeltas([deferred(delivery('d1', 'w1', false), new Date(5000))]).size).toBe(0);
  });

  it('counts a success after failures in the same batch as closing', () => {
    const d = healthDeltas([
      decide(delivery('d1', 'w1', false), result(false, 1000)),
      decide(delivery('d2', 'w1', true), result(true, 2000)),
    ]).get('w1')!;
    expect(d).toMatchObject({ anySuccess: true, fails: 0, probe: true, probeSent: true });
  });
});
