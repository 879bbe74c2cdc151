/**
 * An in-process sliding-window limiter: at most `limit` takes per key within any
 * `windowMs`. Exact (it keeps each take's time), so it suits small limits such as
 * webhook tests per minute; it is per process, not shared between API processes.
 */
export interface SlidingWindow {
  /** Records a take and returns 0, or returns the milliseconds until one is allowed (nothing recorded). */
  take(key: string, now?: number): number;
}

export function createSlidingWindow(limit: number, windowMs: number): SlidingWindow {
  const takes = new Map<string, number[]>();
  let lastSweep = 0;

  // Forget keys idle for a whole window, so the map does not grow with every webhook ever tested.
  function sweep(now: number): void {
    if (now - lastSweep < windowMs) return;
    lastSweep = now;
    for (const [key, times] of takes) {
      if (times.length === 0 || times[times.length - 1] <= now - windowMs) takes.delete(key);
    }
  }

  return {
    take(key, now = Date.now()) {
      sweep(now);
      const recent = (takes.get(key) ?? []).filter((t) => t > now - windowMs);
      if (recent.length >= limit) {
        takes.set(key, recent);
        return Math.max(1, recent[0] + windowMs - now);
      }
      recent.push(now);
      takes.set(key, recent);
      return 0;
    },
  };
}
