/**
 * The producer: the claim loop. It claims due deliveries in worthwhile
 * batches while there is room in flight, hands each to `dispatch`, and sleeps
 * when there is nothing due until it is woken (a publish in this process,
 * NOTIFY from another, an attempt that ended) or the next retry comes due.
 * It sends nothing and records nothing.
 */
import type { Logger } from '../log.js';
import type { ClaimedDelivery } from '../queue/claim.js';
import { tookAllRoom, type ClaimRoom, type WebhookSlots } from './webhook-slots.js';

export interface ProducerDeps {
  /** Claims up to `limit` due deliveries within `room` (the queue's claimDeliveries). */
  claim(limit: number, room: ClaimRoom): Promise<ClaimedDelivery[]>;
  /** Milliseconds until the next delivery is due, not counting `busy` webhooks (the queue's msUntilNextDue). */
  nextDue(since: Date, busy: string[]): Promise<number | undefined>;
  /** Hands claims back to the queue unsent (the queue's releaseClaims). */
  release(claimed: ClaimedDelivery[]): Promise<unknown>;
  /** Starts the attempt of one claim; `attemptEnded` tells the producer when it is over. */
  dispatch(c: ClaimedDelivery): void;
  /** Attempts dispatched and not ended yet. */
  inFlight(): number;
  slots: Pick<WebhookSlots, 'room' | 'isBusy'>;
  batchSize: number;
  concurrency: number;
  /** With nothing due and no wake, look at the queue anyway this often: the safety net under NOTIFY. */
  idlePollMs: number;
  log: Pick<Logger, 'error' | 'warn'>;
}

export interface Producer {
  /** New work may be due: claim now. Cheap; call freely. */
  wake(): void;
  /** An attempt of `webhookId` ended: its room, and perhaps its webhook's, is free again. */
  attemptEnded(webhookId: string): void;
  /** A delivery is due again at `at` (ms): look now if the idle timer would sleep past it. */
  dueAt(at: number): void;
  /** Starts claiming; resolves when the loop ends after stop(). */
  start(): Promise<void>;
  /** Stops claiming and waits for the claim under way, whose rows go back to the queue. */
  stop(): Promise<void>;
  readonly running: boolean;
}

/** The claim loop of one worker. */
export function createProducer(deps: ProducerDeps): Producer {
  const { slots, batchSize, concurrency, idlePollMs, log } = deps;
  let running = false;
  let woke = false;
  let waiting: { reason: 'room' | 'work'; done: () => void } | undefined;
  let timerAt = Infinity; // when the idle timer fires, if the loop sleeps on one
  let loopDone: Promise<void> = Promise.resolve();
  /** Webhooks the last claim left out as busy. */
  let skipped = new Set<string>();

  const wake = () => {
    woke = true;
    waiting?.done();
  };

  function sleep(reason: 'room' | 'work', ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        waiting = undefined;
        timerAt = Infinity;
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(done, Math.max(0, Math.min(ms, idlePollMs)));
        timerAt = Date.now() + ms;
      }
      waiting = { reason, done };
    });
  }

  async function loop(): Promise<void> {
    let errors = 0;
    while (running) {
      const inFlight = deps.inFlight();
      const room = concurrency - inFlight;
      // Claim in worthwhile batches: wait for half a batch of room unless nothing is in flight.
      if (room <= 0 || (inFlight > 0 && room < Math.min(batchSize, concurrency) / 2)) {
        await sleep('room');
        continue;
      }
      const limit = Math.min(batchSize, room);
      woke = false;
      const claimStarted = new Date();
      // Webhooks with no room here are left out of the claim; the first of their requests to end
      // with room again wakes the loop (attemptEnded), so none waits for a poll.
      const claimRoom = slots.room(claimStarted.getTime());
      skipped = new Set(claimRoom.busy);
      let claimed: ClaimedDelivery[];
      try {
        claimed = await deps.claim(limit, claimRoom);
        errors = 0;
      } catch (err) {
        errors++;
        log.error({ err }, 'claiming deliveries failed; retrying');
        await sleep('work', Math.min(100 * 2 ** errors, 5000));
        continue;
      }
      if (!running) {
        // Stopped while the claim ran: hand them straight back.
        await deps.release(claimed).catch((err) => log.warn({ err }, 'could not release claims'));
        break;
      }
      for (const c of claimed) deps.dispatch(c);
      // A webhook that got all the room it had may have more rows due, and may have cut the claim short
      // of others' rows behind its own: claim again (without it if it is busy by then).
      if (claimed.length === limit || woke || tookAllRoom(claimRoom, claimed)) continue;
      let ms: number | undefined;
      try {
        ms = await deps.nextDue(claimStarted, claimRoom.busy);
      } catch (err) {
        log.warn({ err }, 'could not read the next due time');
      }
      if (woke || !running || ms === 0) continue;
      await sleep('work', ms ?? idlePollMs);
    }
  }

  return {
    wake,
    get running() {
      return running;
    },
    attemptEnded(webhookId) {
      if (skipped.has(webhookId) && !slots.isBusy(webhookId, Date.now())) {
        skipped.delete(webhookId);
        wake();
      }
      if (waiting?.reason === 'room') waiting.done();
    },
    dueAt(at) {
      if (at < timerAt) wake();
    },
    start() {
      if (running) return loopDone;
      running = true;
      loopDone = loop();
      return loopDone;
    },
    async stop() {
      running = false;
      wake();
      await loopDone.catch(() => {});
    },
  };
}
