/**
 * rate_limit_per_second per webhook: a token bucket per webhook, in this
 * process. With several worker processes each keeps its own buckets, so a
 * webhook can receive up to (processes × limit) per second; a shared limit
 * would need a round trip to the database per send.
 *
 * The bucket also tells the claim how many of the webhook's deliveries to take
 * (`room`): what it may send within MAX_RATE_WAIT_MS, less those claimed and not
 * yet through `reserve`. The rest stay in the queue, untouched, rather than
 * being claimed only to be handed back (two writes each) and claimed again
 * (docs/delivery-states.md, "Claiming").
 */

/** A rate-limited send waits in process up to this long; longer, it goes back to the queue. */
export const MAX_RATE_WAIT_MS = 1000;

/**
 * What one claim takes of a rate-limited webhook at most, in seconds of its rate: a
 * full bucket (one second's worth) and what comes in while they may wait. The claim's
 * SQL bounds it so (src/queue/claim.ts), for the webhooks this process has no bucket for.
 */
export const RATE_CLAIM_SECONDS = 1 + MAX_RATE_WAIT_MS / 1000;

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
  /** Deliveries claimed that have not reserved a token yet. */
  expected: number;
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
  /**
   * A claimed delivery of `webhookId` that will reserve later (or never): counted
   * against the webhook's room until the returned function is called (once is enough).
   */
  expect(webhookId: string, perSecond: number, now?: number): () => void;
  /**
   * How many more of each rate-limited webhook's deliveries to claim, for the webhooks
   * this process has a bucket for; 0: none for now (busy).
   */
  rooms(now: number): Map<string, number>;
  /** The room of one webhook (undefined: no bucket), as `rooms` reckons it. */
  room(webhookId: string, now: number): number | undefined;
}

/** Burst capacity: one second's worth, so a quiet webhook can take a short burst at once. */
const capacityOf = (perSecond: number) => Math.max(1, perSecond);

/** The tokens of `b` at `now`: refilled at its rate since `b.at`, up to its capacity. */
const tokensAt = (b: Bucket, now: number) =>
  Math.min(capacityOf(b.rate), b.tokens + ((now - b.at) * b.rate) / 1000);

export function createRateLimiter(): RateLimiter {
  const buckets = new Map<string, Bucket>();

  /** The webhook's bucket at `now`, refilled; a new one is full. */
  function bucket(webhookId: string, perSecond: number, now: number): Bucket {
    let b = buckets.get(webhookId);
    if (!b || b.rate !== perSecond) {
      b = { tokens: capacityOf(perSecond), at: now, rate: perSecond, expected: b?.expected ?? 0 };
      buckets.set(webhookId, b);
    }
    b.tokens = tokensAt(b, now);
    b.at = now;
    return b;
  }

  /**
   * 0 until half of what one wait covers is free: without that margin a webhook at its rate
   * would have room for one again with each token, and cost a claim per send.
   */
  const roomOf = (b: Bucket, now: number) => {
    const room = Math.floor(tokensAt(b, now) + (b.rate * MAX_RATE_WAIT_MS) / 1000) - b.expected;
    return room >= Math.max(1, Math.ceil((b.rate * MAX_RATE_WAIT_MS) / 2000)) ? room : 0;
  };

  return {
    reserve(webhookId, perSecond, now = Date.now()) {
      const b = bucket(webhookId, perSecond, now);
      b.tokens -= 1;
      if (b.tokens >= 0) return 0;
      return Math.ceil((-b.tokens * 1000) / perSecond);
    },
    refund(webhookId) {
      const b = buckets.get(webhookId);
      if (b) b.tokens = Math.min(capacityOf(b.rate), b.tokens + 1);
    },
    expect(webhookId, perSecond, now = Date.now()) {
      bucket(webhookId, perSecond, now).expected++;
      let settled = false;
      return () => {
        if (settled) return;
        settled = true;
        // The bucket, not `b`: a new rate replaces it and carries the count over.
        const b = buckets.get(webhookId);
        if (b) b.expected = Math.max(0, b.expected - 1);
      };
    },
    rooms(now) {
      const out = new Map<string, number>();
      for (const [id, b] of buckets) {
        // A full bucket with nothing claimed is what a new one would be: dropped, so the claim's
        // room lists only the webhooks their rate holds back now, not every one ever sent to.
        const full = b.expected === 0 && tokensAt(b, now) >= capacityOf(b.rate);
        if (full) buckets.delete(id);
        else out.set(id, roomOf(b, now));
      }
      return out;
    },
    room(webhookId, now) {
      const b = buckets.get(webhookId);
      return b && roomOf(b, now);
    },
  };
}
