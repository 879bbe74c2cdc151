/**
 * The retry schedule: exponential backoff with jitter, and `Retry-After`.
 * Pure code; `random` and `now` are injectable so tests are exact.
 */

/** No retry is ever scheduled further out than this. */
export const MAX_DELAY_SECONDS = 24 * 60 * 60;
/** Jitter spreads retries of a burst of failures, so they do not all return at once. */
export const JITTER = 0.2;

/**
 * Seconds to wait after failed attempt `attempt` (1-based):
 * `baseSeconds × 2^(attempt−1)`, times a factor in [0.8, 1.2), capped at 24 h.
 */
export function backoffSeconds(
  attempt: number,
  baseSeconds: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows nothing here: past ~17 doublings the cap applies anyway.
  const raw = baseSeconds * Math.pow(2, Math.min(n - 1, 30));
  const jittered = raw * (1 + (random() * 2 - 1) * JITTER);
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, jittered));
}

/**
 * The delay a `Retry-After` header asks for, in seconds, clamped to 1 s – 24 h;
 * undefined when the header is absent or unreadable. Accepts delta-seconds
 * ("120") and an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT").
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(v)) {
    seconds = Number(v);
  } else {
    const at = Date.parse(v);
    // Only a date-like string: Date.parse also accepts things like "1" or "-5" in some engines.
    if (Number.isNaN(at) || !/[a-z]/i.test(v)) return undefined;
    seconds = (at - now) / 1000;
  }
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, seconds));
}

/** Statuses whose Retry-After sets the next attempt's time. */
export function honoursRetryAfter(status: number | undefined): boolean {
  return status === 429 || status === 503;
}

export interface NextAttemptInput {
  /** Attempts made so far, including the one that just failed. */
  attempts: number;
  retryDelaySeconds: number;
  status?: number;
  retryAfter?: string | string[];
  /** Test-only time scale (config.retryDelayScale): 0.001 turns seconds into milliseconds. */
  scale?: number;
  now?: number;
  random?: () => number;
}

/** Milliseconds from now until the next attempt after a failed one. */
export function nextAttemptDelayMs(input: NextAttemptInput): number {
  const {
    attempts,
    retryDelaySeconds,
    status,
    retryAfter,
    scale = 1,
    now = Date.now(),
    random,
  } = input;
  const fromHeader = honoursRetryAfter(status) ? parseRetryAfter(retryAfter, now) : undefined;
  const seconds = fromHeader ?? backoffSeconds(attempts, retryDelaySeconds, random);
  return Math.round(seconds * 1000 * scale);
}
