/**
 * Per-key rate limits on /api/v1 (docs/api.md, "Rate limits"): one bucket per API key for
 * the management API (config.rateLimitPerMinute) and a separate, larger one for
 * publishing (config.publishRateLimitPerMinute on POST /events and /events/batch),
 * so a busy publisher never locks its admins out and the other way round.
 *
 * Token buckets held in this process's memory. With several `hookline serve`
 * processes behind a balancer each process enforces the limit on its own, so a
 * key can get up to N × the limit in total; that is the price of keeping the hot
 * publish path free of a shared counter (a database write per request). Put the
 * limit at (wanted total / processes) when running many, or limit at the balancer.
 *
 * Written here rather than with @fastify/rate-limit because the limit must key on
 * the authenticated key (known only after the auth hook), keep two buckets per key,
 * and answer in the error format of docs/api.md; that is all a small bucket needs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HooklineError } from '../../errors.js';

export interface RateLimiter {
  /** Takes one token for `key`: 0 when allowed, else the milliseconds until one is available. */
  take(key: string, now?: number): number;
  /** Tokens left for `key` (rounded down), for the X-RateLimit-Remaining header. */
  remaining(key: string, now?: number): number;
  readonly perMinute: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key holding at most `perMinute` tokens and refilling
 * `perMinute` per minute, continuously: a burst of the whole minute's allowance
 * is allowed, then one request per 60/perMinute seconds.
 */
export function createRateLimiter(perMinute: number): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  let lastSweep = 0;

  function refill(key: string, now: number): Bucket {
    const b = buckets.get(key) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    buckets.set(key, b);
    return b;
  }

  // Full buckets carry no information; dropping them keeps memory bounded by active keys.
  function sweep(now: number): void {
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    for (const [key, b] of buckets)
      if (b.tokens + (now - b.at) * perMs >= perMinute) buckets.delete(key);
  }

  return {
    perMinute,
    take(key, now = Date.now()) {
      sweep(now);
      const b = refill(key, now);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - b.tokens) / perMs);
    },
    remaining(key, now = Date.now()) {
      return Math.floor(refill(key, now).tokens);
    },
  };
}

/** True for the publish routes, which have their own bucket. */
export function isPublishRoute(request: FastifyRequest): boolean {
  if (request.method !== 'POST') return false;
  const route = request.routeOptions.url ?? '';
  return route === '/api/v1/events' || route === '/api/v1/events/batch';
}

function limitHeaders(reply: FastifyReply, limiter: RateLimiter, key: string): void {
  void reply.header('x-ratelimit-limit', String(limiter.perMinute));
  void reply.header('x-ratelimit-remaining', String(limiter.remaining(key)));
}

/**
 * Registers the limit on every route of the encapsulating plugin. Must come after
 * registerAuth: the bucket is the caller's key. A limit of 0 turns it off.
 */
export function registerRateLimit(app: FastifyInstance): void {
  const { config } = app.deps;
  const management =
    config.rateLimitPerMinute > 0 ? createRateLimiter(config.rateLimitPerMinute) : null;
  const publish =
    config.publishRateLimitPerMinute > 0
      ? createRateLimiter(config.publishRateLimitPerMinute)
      : null;
  // Portal sessions (docs/tenants.md) come from untrusted browsers: a bucket per session.
  const portal =
    config.portalRateLimitPerMinute > 0 ? createRateLimiter(config.portalRateLimitPerMinute) : null;

  app.addHook('onRequest', async (request, reply) => {
    // No auth context means the auth hook already answered (401/403).
    const keyId = request.auth?.keyId;
    if (!keyId) return;
    const publishing = isPublishRoute(request);
    const inPortal = request.auth.portal !== undefined;
    const limiter = inPortal ? portal : publishing ? publish : management;
    if (!limiter) return;
    const waitMs = limiter.take(keyId);
    limitHeaders(reply, limiter, keyId);
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new HooklineError(
        'RATE_LIMITED',
        `This ${inPortal ? 'portal session' : 'API key'} may make ${limiter.perMinute} ${inPortal ? 'portal' : publishing ? 'publish' : 'management'} requests a minute; retry in ${seconds} s.`,
        {
          headers: { 'retry-after': String(seconds) },
          details: {
            limit_per_minute: limiter.perMinute,
            bucket: inPortal ? 'portal' : publishing ? 'publish' : 'management',
            retry_after_seconds: seconds,
          },
        },
      );
    }
  });
}
