/**
 * The recorder: outcomes of attempts gather here and are written in batches,
 * one flush at a time and in the order they came, by the function it is given
 * (the worker's is recordWithFollowUps, src/worker/follow-ups.ts). Each
 * statement has a fixed cost (a round trip; on the embedded store a whole
 * serialized query) whatever its size, so a short wait that lets outcomes
 * share one pays for itself.
 */
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { Outcome } from './decide.js';
import { recordOutcomes } from '../queue/record.js';

/** How long an outcome may wait for others to share its statement. */
export const FLUSH_DELAY_MS = 5;
/** Outcomes recorded per statement at most. */
export const MAX_RECORD_BATCH = 1000;

export interface RecorderOptions {
  /** Writes one batch (at most MAX_RECORD_BATCH outcomes). A rejection is logged; the batch is not retried. */
  write(batch: Outcome[]): Promise<void>;
  /** Flush at once when this many outcomes wait (the worker: half a claim's worth). */
  flushAt: number;
  log: Pick<Logger, 'error'>;
}

export interface Recorder {
  /** Takes an outcome to record soon. */
  add(o: Outcome): void;
  /** Writes everything waiting (and what arrives meanwhile); resolves when it is written. */
  flush(): Promise<void>;
  /** Outcomes waiting to be written. */
  readonly pending: number;
}

/** A batching recorder over `write`. */
export function createRecorder(opts: RecorderOptions): Recorder {
  const { write, log } = opts;
  const flushAt = Math.max(1, opts.flushAt);
  const buffer: Outcome[] = [];
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;

  function flush(): Promise<void> {
    if (flushing) return flushing;
    if (buffer.length === 0) return Promise.resolve();
    const run = (async () => {
      try {
        while (buffer.length > 0) await write(buffer.splice(0, MAX_RECORD_BATCH));
        if (flushTimer) clearTimeout(flushTimer);
        flushTimer = undefined;
      } catch (err) {
        log.error({ err }, 'recording outcomes failed');
      } finally {
        flushing = undefined;
      }
    })();
    flushing = run;
    return run;
  }

  return {
    add(o) {
      buffer.push(o);
      if (flushing) return; // the running flush takes these too when it is done with its batch
      if (buffer.length >= flushAt) {
        if (flushTimer) clearTimeout(flushTimer);
        flushTimer = undefined;
        void flush();
      } else {
        flushTimer ??= setTimeout(() => {
          flushTimer = undefined;
          void flush();
        }, FLUSH_DELAY_MS);
      }
    },
    flush,
    get pending() {
      return buffer.length;
    },
  };
}

/**
 * Records a batch, and when the batch statement fails (one bad row, a webhook
 * deleted mid-flight), each outcome on its own, so one row never blocks the rest.
 * Outcomes that still fail stay `sending` and return to the queue when their lease expires.
 */
export async function recordOutcomesSafely(
  db: Db,
  workerId: string,
  outcomes: Outcome[],
  onError: (err: unknown, o?: Outcome) => void,
): Promise<Set<string>> {
  try {
    return await recordOutcomes(db, workerId, outcomes);
  } catch (err) {
    if (outcomes.length === 1) {
      onError(err, outcomes[0]);
      return new Set();
    }
    onError(err);
    const done = new Set<string>();
    for (const o of outcomes) {
      try {
        for (const id of await recordOutcomes(db, workerId, [o])) done.add(id);
      } catch (e) {
        onError(e, o);
      }
    }
    return done;
  }
}

/**
 * Records a batch (recordOutcomesSafely: one statement, row by row when it
 * fails) and returns the outcomes that were applied: those whose delivery
 * this worker still held under the claim they belong to.
 */
export async function recordApplied(
  db: Db,
  workerId: string,
  batch: Outcome[],
  log: Pick<Logger, 'error'>,
): Promise<Outcome[]> {
  const recorded = await recordOutcomesSafely(db, workerId, batch, (err, o) =>
    log.error({ err, delivery: o?.delivery.id }, 'could not record a delivery outcome'),
  );
  return batch.filter((o) => recorded.has(o.delivery.id));
}
