/**
 * A per-webhook cap on requests in flight in one worker, so that a webhook
 * that hangs until its timeout cannot take every one of the worker's shared
 * slots (config.workerConcurrency) and starve the healthy ones.
 *
 * A claimed delivery whose webhook already has `cap` requests in flight is
 * either
 * - held here briefly, when that webhook's own slots are expected to free
 *   within `maxWaitMs` (a fast webhook with a burst: handing those back would
 *   cost two writes each and a re-claim, for nothing), or
 * - handed back to the queue (a `deferred` outcome) for the time a slot is
 *   expected to free. Deferred deliveries are spaced like a token bucket at
 *   cap / (expected duration) per ms with no burst, so each gets its own
 *   estimated slot time instead of all coming back at once and being deferred
 *   again and again.
 *
 * How many may wait here is what `maxWaitMs` covers at the expected rate of
 * freed slots; for a webhook that has not answered yet, at most one round of
 * its slots (`cap`), so a newcomer's burst is not handed back before its first
 * answer tells how fast it is (on the embedded store, whose queries stall the
 * process, the first answers can look seconds late, and each deferral would
 * then have been spaced as if the webhook were that slow).
 * A webhook with every slot taken and as many waiting as it may (or nearly:
 * see isBusy) is `busy`: the claim loop leaves its deliveries in the queue
 * (for other workers, or for later) instead of claiming them only to hand them
 * back, two writes each, and claims for it again once it has room.
 *
 * The expected duration of a request to a webhook is the larger of an EWMA of
 * its observed attempt durations and how long it has been silent (requests in
 * flight, none of them finished since the last one that did). Silence makes
 * the estimate safe without being pessimistic: a webhook never seen before is
 * not pushed a whole timeout (30 s by default) away when it answers in
 * milliseconds, yet while it hangs the estimate grows with the silence, so its
 * deferrals back off by themselves until the first timeout gives the EWMA a
 * real figure (and a webhook that was fast and starts hanging is noticed
 * before its first timeout). One straggler among fast answers is not silence.
 *
 * Pure: no I/O, no clock (`now` comes in), no timers.
 */
import type { Config } from '../config.js';
import { RATE_CLAIM_SECONDS } from './rate-limit.js';

/** Weight of the newest attempt duration in the EWMA. */
const EWMA_WEIGHT = 0.2;
/**
 * Floor of the expected duration: deferrals of a webhook that has not answered yet come
 * back spread over a short while rather than at once, which the claim loop would take
 * again in a tight loop (costly on the embedded store, whose queries block the process).
 */
const MIN_ESTIMATE_MS = 100;
/** State of a webhook idle this long is dropped (deleted webhooks would otherwise stay forever). */
const IDLE_MS = 10 * 60_000;

/**
 * The per-webhook cap of a worker. 0 (the default) means a quarter of the worker's
 * concurrency, at least 1. A share rather than a fixed number, so it follows
 * --worker-concurrency. A quarter: one webhook that hangs leaves three quarters of the
 * slots to the others (three at once still leave a quarter), while one busy webhook still
 * gets 64 of the default 256 in flight: as many as the whole worker had per host before
 * (the connection pool's old limit), and 1,000/s for a receiver answering in 64 ms.
 */
export function webhookCap(
  config: Pick<Config, 'workerConcurrency' | 'workerWebhookConcurrency'>,
): number {
  return config.workerWebhookConcurrency > 0
    ? config.workerWebhookConcurrency
    : Math.max(1, Math.floor(config.workerConcurrency / 4));
}

/** One request in flight to a webhook. */
export interface Slot {
  /** The request ended after `durationMs` (omitted when nothing was sent, e.g. rate-limited). */
  release(now: number, durationMs?: number): void;
}

export type Admission =
  | { kind: 'send'; slot: Slot }
  /**
   * Wait for `granted`. If the caller stops waiting, `cancel` returns the time to
   * defer the delivery to, or undefined when the slot was granted meanwhile (take it).
   */
  | { kind: 'wait'; granted: Promise<Slot>; cancel(now: number): number | undefined }
  /** Hand the delivery back to the queue, due at `at` (ms since the epoch). */
  | { kind: 'defer'; at: number };

export interface WebhookSlots {
  admit(webhookId: string, now: number): Admission;
  /** How many more deliveries of each webhook this worker can take now, for the claim. */
  room(now: number): ClaimRoom;
  /**
   * Not worth claiming for now: no room, or deliveries already wait here and the room is under
   * half the cap. Without that margin a webhook at its cap would have room for one again after
   * each request that ends, and cost a claim per request.
   */
  isBusy(webhookId: string, now: number): boolean;
  /** For tests and metrics: requests in flight and deliveries waiting here. */
  load(webhookId: string): { inFlight: number; waiting: number; ewmaMs?: number };
}

/**
 * What a claim may take: nothing of the `busy` webhooks, at most `rooms[i]` of
 * `ids[i]`, and at most `fresh` of a webhook this worker has no state for.
 */
export interface ClaimRoom {
  busy: string[];
  ids: string[];
  rooms: number[];
  fresh: number;
}

/**
 * Whether a claim took, of some webhook, all the room the worker had for it, or all the
 * claim itself takes of a rate-limited webhook (RATE_CLAIM_SECONDS of its rate).
 */
export function tookAllRoom(
  room: ClaimRoom,
  claimed: Array<{ webhook_id: string; rate_limit_per_second?: number | null }>,
): boolean {
  const counts = new Map<string, { n: number; rate?: number | null }>();
  for (const c of claimed) {
    const k = counts.get(c.webhook_id);
    if (k) k.n++;
    else counts.set(c.webhook_id, { n: 1, rate: c.rate_limit_per_second });
  }
  const rooms = new Map(room.ids.map((id, i) => [id, room.rooms[i]]));
  for (const [id, { n, rate }] of counts) {
    const bound = Math.min(
      rooms.get(id) ?? room.fresh,
      rate ? rate * RATE_CLAIM_SECONDS : Infinity,
    );
    if (n >= bound) return true;
  }
  return false;
}

type Waiter = (slot: Slot) => void;

interface State {
  id: string;
  running: Set<{ startedAt: number }>;
  waiters: Waiter[];
  ewmaMs?: number;
  /** When a request last finished. */
  doneAt: number;
  /** The last estimated slot time given to a deferred delivery. */
  nextAt: number;
  lastUsed: number;
}

export function createWebhookSlots(opts: { cap: number; maxWaitMs: number }): WebhookSlots {
  const cap = Math.max(1, opts.cap);
  const states = new Map<string, State>();
  let prunedAt = 0;

  function estimateMs(s: State, now: number): number {
    let oldest = now;
    for (const r of s.running) oldest = Math.min(oldest, r.startedAt);
    const silentMs = now - Math.max(oldest, s.doneAt);
    return Math.max(s.ewmaMs ?? 0, silentMs, MIN_ESTIMATE_MS);
  }

  /** How many may wait for a slot: those that `maxWaitMs` covers, and one round of slots until the webhook has answered. */
  function holdLimit(s: State, now: number): number {
    const covered = Math.floor((opts.maxWaitMs * cap) / estimateMs(s, now));
    return s.ewmaMs === undefined ? Math.min(cap, covered) : covered;
  }

  /** Free slots, plus how many more may wait for one. */
  const roomOf = (s: State, now: number) =>
    Math.max(0, cap - s.running.size) + Math.max(0, holdLimit(s, now) - s.waiters.length);
  /** `room` is roomOf(s, now): the claim loop has it already, and it walks the requests in flight. */
  const busyWith = (s: State, room: number) =>
    room === 0 || (s.waiters.length > 0 && room < Math.ceil(cap / 2));

  function start(s: State, now: number): Slot {
    const r = { startedAt: now };
    s.running.add(r);
    let released = false;
    return {
      release(at, durationMs) {
        if (released) return;
        released = true;
        s.running.delete(r);
        s.lastUsed = at;
        s.doneAt = at;
        if (durationMs !== undefined)
          s.ewmaMs =
            s.ewmaMs === undefined ? durationMs : s.ewmaMs + EWMA_WEIGHT * (durationMs - s.ewmaMs);
        // The freed slot goes straight to the longest waiter, before any newly claimed delivery.
        const next = s.waiters.shift();
        if (next) next(start(s, at));
      },
    };
  }

  /**
   * The next estimated slot time after the last one given out: a slot frees every
   * estimate / cap ms. Each deferred delivery gets its own, so a backlog is spread out
   * rather than coming back at once; one that comes back to a full webhook (the estimate
   * was short) gets a new one after all those given out meanwhile.
   * Never more than one estimate away, by when every slot in use now is expected to have
   * freed: a burst deferred while the estimate was inflated (a stalled process makes a fast
   * webhook look slow) is not pushed minutes out, and what comes due while the webhook is
   * still busy costs nothing, as the claim leaves a busy webhook's rows in the queue.
   */
  function deferAt(s: State, now: number): number {
    const est = estimateMs(s, now);
    s.nextAt = Math.min(Math.max(s.nextAt, now) + est / cap, now + est);
    return Math.ceil(s.nextAt);
  }

  function prune(now: number): void {
    if (now - prunedAt < 60_000) return;
    prunedAt = now;
    for (const [id, s] of states)
      if (s.running.size === 0 && s.waiters.length === 0 && now - s.lastUsed > IDLE_MS)
        states.delete(id);
  }

  return {
    admit(webhookId, now) {
      prune(now);
      let s = states.get(webhookId);
      if (!s) {
        s = {
          id: webhookId,
          running: new Set(),
          waiters: [],
          doneAt: -Infinity,
          nextAt: -Infinity,
          lastUsed: now,
        };
        states.set(webhookId, s);
      }
      s.lastUsed = now;
      if (s.running.size < cap) return { kind: 'send', slot: start(s, now) };
      if (s.waiters.length >= holdLimit(s, now)) return { kind: 'defer', at: deferAt(s, now) };
      const state = s;
      let got = false;
      let resolve!: Waiter;
      const granted = new Promise<Slot>((r) => (resolve = r));
      const waiter: Waiter = (slot) => {
        got = true;
        resolve(slot);
      };
      s.waiters.push(waiter);
      return {
        kind: 'wait',
        granted,
        cancel(at) {
          if (got) return undefined;
          const i = state.waiters.indexOf(waiter);
          if (i >= 0) state.waiters.splice(i, 1);
          return deferAt(state, at);
        },
      };
    },
    room(now) {
      const r: ClaimRoom = {
        busy: [],
        ids: [],
        rooms: [],
        fresh: cap + Math.min(cap, Math.floor((opts.maxWaitMs * cap) / MIN_ESTIMATE_MS)),
      };
      for (const s of states.values()) {
        const n = roomOf(s, now);
        if (busyWith(s, n)) r.busy.push(s.id);
        // An idle webhook with at least a newcomer's room is left to the default: the list stays
        // as long as the webhooks in use or known to be slow, not every webhook seen lately.
        else if (n < r.fresh || s.running.size > 0 || s.waiters.length > 0) {
          r.ids.push(s.id);
          r.rooms.push(n);
        }
      }
      return r;
    },
    isBusy(webhookId, now) {
      const s = states.get(webhookId);
      return s !== undefined && busyWith(s, roomOf(s, now));
    },
    load(webhookId) {
      const s = states.get(webhookId);
      return { inFlight: s?.running.size ?? 0, waiting: s?.waiters.length ?? 0, ewmaMs: s?.ewmaMs };
    },
  };
}
