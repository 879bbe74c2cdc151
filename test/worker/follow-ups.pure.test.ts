import { describe, expect, it, vi } from 'vitest';
import {
  recordWithFollowUps,
  RELAY_POLICY,
  workerPolicy,
  type FollowUpDeps,
  type FollowUpPolicy,
} from '../../src/worker/follow-ups.js';
import type { Outcome } from '../../src/worker/decide.js';
import type { Queryable } from '../../src/store/db.js';

/** The first words of each statement, in the order they ran ("tx" inside a transaction). */
function fakeStore(steps: string[]) {
  const query: Queryable['query'] = async (sql) => {
    steps.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
    return { rows: [], rowCount: 0 };
  };
  return {
    query,
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      steps.push('tx');
      return fn({ query });
    },
  };
}

function deps(steps: string[], policy: FollowUpPolicy): FollowUpDeps & { wakes: string[] } {
  const wakes: string[] = [];
  return {
    db: fakeStore(steps),
    log: { error: vi.fn(), warn: vi.fn() },
    policy,
    wakeAll: () => wakes.push('all'),
    dueAt: (at) => wakes.push(`due ${at}`),
    wakes,
  };
}

const outcome = (o: Partial<Outcome> & { ordering?: string; id?: string }): Outcome =>
  ({
    kind: 'failed',
    status: 'failed',
    attempts: 1,
    ...o,
    delivery: {
      id: o.id ?? 'dlv_1',
      webhook_id: 'wh_1',
      ordering: o.ordering ?? 'none',
      circuit_probe: false,
      event_type: 'order.paid',
      retry_delay_seconds: 10,
    },
  }) as unknown as Outcome;

const policy = workerPolicy({
  circuitFailures: 5,
  circuitMaxProbeSeconds: 3600,
  retryDelayScale: 1,
  disableAfterDays: 5,
});
/** The receiver answered 410 Gone. */
const gone = () =>
  outcome({ gone: true, result: { ok: false, status: 410, startedAt: new Date(0) } as never });

const recordAll = (steps: string[]) => async (batch: Outcome[]) => {
  steps.push('record');
  return batch;
};

describe('follow-ups of a recorded batch', () => {
  it('disables a webhook that answered 410 before the batch is recorded, health after', async () => {
    const steps: string[] = [];
    await recordWithFollowUps(deps(steps, policy), [gone()], recordAll(steps));
    expect(steps).toEqual(['tx', 'UPDATE webhooks w', 'record', 'WITH u AS']);
  });

  it('runs no follow-up when nothing of the batch was applied', async () => {
    const steps: string[] = [];
    const d = deps(steps, policy);
    await recordWithFollowUps(d, [outcome({ ordering: 'fifo' })], async () => {
      steps.push('record');
      return [];
    });
    expect(steps).toEqual(['record']);
    expect(d.wakes).toEqual([]);
  });

  it('wakes every worker when a fifo delivery reached an outcome', async () => {
    const steps: string[] = [];
    const d = deps(steps, policy);
    await recordWithFollowUps(d, [outcome({ ordering: 'fifo' })], recordAll(steps));
    expect(d.wakes).toEqual(['all']);
  });

  it('tells this worker the earliest retry of the batch, and wakes no other', async () => {
    const steps: string[] = [];
    const d = deps(steps, policy);
    const retry = (id: string, at: number) =>
      outcome({ id, kind: 'retrying', status: 'pending', nextAttemptAt: new Date(at) });
    await recordWithFollowUps(d, [retry('a', 9000), retry('b', 4000)], recordAll(steps));
    expect(d.wakes).toEqual(['due 4000']);
  });

  it("under the relay's policy a 410 disables nothing: health only", async () => {
    const steps: string[] = [];
    await recordWithFollowUps(deps(steps, RELAY_POLICY), [gone()], recordAll(steps));
    expect(steps).toEqual(['record', 'WITH u AS']);
  });
});
