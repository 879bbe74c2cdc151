/**
 * rate_limit_per_second per webhook: a token bucket per webhook, in this
 * process. With several worker processes each keeps its own buckets, so a
 * webhook can receive up to (processes × limit) per second; a shared limit
 * would need a round trip to the database per send.
 */

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
}

export interface RateLimiter {
  /**
   * Takes a token for one send to `webhookId` and returns how many ms to wait
   * before sending (0: send now). The token is taken even when the caller must
   * wait, so concurrent callers queue up behind each other at the right rate.
   */
  reserve(webhookId: string, perSecond: number, now?: number): number;
  /** Gives back a token the caller did not use (it deferred the send instead). */
  refund(webhookId: string): void;
}

export function createRateLimiter(): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    reserve(webhookId, perSecond, now = Date.now()) {
      // Burst capacity: one second's worth, so a quiet webhook can take a short burst at once.
      const capacity = Math.max(1, perSecond);
      let b = buckets.get(webhookId);
      if (!b || b.rate !== perSecond) {
        b = { tokens: capacity, at: now, rate: perSecond };
        buckets.set(webhookId, b);
      }
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * perSecond) / 1000);
      b.at = now;
      b.tokens -= 1;
      if (b.tokens >= 0) return 0;
      return Math.ceil((-b.tokens * 1000) / perSecond);
    },
    refund(webhookId) {
      const b = buckets.get(webhookId);
      if (b) b.tokens = Math.min(Math.max(1, b.rate), b.tokens + 1);
    },
  };
}
