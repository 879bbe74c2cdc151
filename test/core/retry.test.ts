import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  MAX_DELAY_SECONDS,
  nextAttemptDelayMs,
  parseRetryAfter,
} from '../../src/core/retry.js';

const mid = () => 0.5; // no jitter
const low = () => 0; // −20%
const high = () => 0.999999; // just under +20%

describe('backoff', () => {
  it('doubles the base delay after each failed attempt', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds(n, 60, mid))).toEqual([
      60, 120, 240, 480, 960,
    ]);
  });

  it('jitters by at most ±20%', () => {
    expect(backoffSeconds(1, 100, low)).toBeCloseTo(80);
    expect(backoffSeconds(1, 100, high)).toBeCloseTo(120, 3);
    for (let i = 0; i < 1000; i++) {
      const s = backoffSeconds(3, 10);
      expect(s).toBeGreaterThanOrEqual(32);
      expect(s).toBeLessThan(48);
    }
  });

  it('caps every delay at 24 hours, even for absurd attempt counts', () => {
    expect(backoffSeconds(10, 3600, high)).toBe(MAX_DELAY_SECONDS);
    expect(backoffSeconds(1_000_000, 3600, mid)).toBe(MAX_DELAY_SECONDS);
    expect(Number.isFinite(backoffSeconds(1_000_000, 3600, mid))).toBe(true);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds and clamps them to 1 s – 24 h', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('0', now)).toBe(1);
    expect(parseRetryAfter('999999', now)).toBe(MAX_DELAY_SECONDS);
    expect(parseRetryAfter([' 5 '], now)).toBe(5);
  });

  it('reads an HTTP date relative to now, clamped', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(1);
    expect(parseRetryAfter('Mon, 01 Jan 2029 00:00:00 GMT', now)).toBe(MAX_DELAY_SECONDS);
  });

  it('ignores what it cannot read', () => {
    for (const v of [undefined, '', 'soon', '-5', '1e9', 'NaN'])
      expect(parseRetryAfter(v, now), String(v)).toBeUndefined();
  });

  it('uses Retry-After only on 429 and 503, backoff otherwise, and applies the time scale', () => {
    expect(
      nextAttemptDelayMs({ attempts: 1, retryDelaySeconds: 60, status: 429, retryAfter: '7', now }),
    ).toBe(7000);
    expect(
      nextAttemptDelayMs({ attempts: 1, retryDelaySeconds: 60, status: 503, retryAfter: '7', now }),
    ).toBe(7000);
    expect(
      nextAttemptDelayMs({
        attempts: 1,
        retryDelaySeconds: 60,
        status: 500,
        retryAfter: '7',
        now,
        random: mid,
      }),
    ).toBe(60_000);
    expect(
      nextAttemptDelayMs({ attempts: 2, retryDelaySeconds: 10, status: 429, now, random: mid }),
    ).toBe(20_000);
    expect(
      nextAttemptDelayMs({ attempts: 2, retryDelaySeconds: 10, now, random: mid, scale: 0.001 }),
    ).toBe(20);
  });
});
