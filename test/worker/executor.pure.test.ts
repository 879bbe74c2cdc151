import { afterEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { createExecutor, type ExecutorDeps } from '../../src/worker/executor.js';
import { createWebhookSlots, type Admission, type Slot } from '../../src/worker/webhook-slots.js';
import type { ClaimedDelivery } from '../../src/queue/claim.js';
import { createMetrics } from '../../src/metrics.js';
import { createLogger } from '../../src/log.js';
import { testConfig } from '../support/config.js';

const delivery = (over: Partial<ClaimedDelivery> = {}): ClaimedDelivery =>
  ({
    id: 'dlv_1',
    org_id: 'org_1',
    webhook_id: 'wh_1',
    event_id: 'evt_1',
    event_type: 'order.paid',
    attempts: 0,
    manual_attempts: 0,
    payload_text: '{"n":1}',
    event_created_at: new Date(0),
    url: 'https://receiver.test/hook',
    webhook_name: 'w',
    tenant_id: null,
    is_active: true,
    timeout_seconds: 5,
    retry_attempts: 3,
    retry_delay_seconds: 10,
    rate_limit_per_second: null,
    ordering: 'none',
    custom_headers: {},
    secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
    previous_secrets: [],
    webhook_updated_at: new Date(0),
    endpoint_security: null,
    include_fields: null,
    transformation: null,
    circuit_probe: false,
    circuit_probes_failed: 0,
    ...over,
  }) as unknown as ClaimedDelivery;

/** A receiver at https://receiver.test that answers `status` to every POST /hook. */
function receiver(status: number) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent
    .get('https://receiver.test')
    .intercept({ path: '/hook', method: 'POST' })
    .reply(status, 'answer')
    .persist();
  return agent;
}

let agent: MockAgent | undefined;
afterEach(async () => agent?.close());

function executor(over: Partial<ExecutorDeps> = {}) {
  agent = receiver(500);
  const metrics = createMetrics();
  const execute = createExecutor({
    config: testConfig(),
    metrics,
    log: createLogger({ logLevel: 'silent' }),
    dispatcher: agent,
    slots: createWebhookSlots({ cap: 2, maxWaitMs: 100 }),
    running: () => true,
    random: () => 0.5,
    ...over,
  });
  return { execute, metrics };
}

/** Slots that answer every admission with `a` and count them. */
function fixedSlots(a: () => Admission) {
  const admitted: string[] = [];
  const slots = createWebhookSlots({ cap: 1, maxWaitMs: 100 });
  slots.admit = (id) => (admitted.push(id), a());
  return { slots, admitted };
}

describe('the executor', () => {
  it('cancels a delivery whose webhook was switched off, without taking a slot', async () => {
    const { slots, admitted } = fixedSlots(() => ({ kind: 'defer', at: 0 }));
    const { execute } = executor({ slots });
    const o = await execute(delivery({ is_active: false }));
    expect(o).toMatchObject({ kind: 'cancelled', status: 'cancelled', attempts: 0 });
    expect(admitted).toEqual([]);
  });

  it('hands a delivery back for the time its webhook expects a slot, using no attempt', async () => {
    const { slots } = fixedSlots(() => ({ kind: 'defer', at: 12_345 }));
    const { execute } = executor({ slots });
    const o = await execute(delivery());
    expect(o).toMatchObject({ kind: 'deferred', status: 'pending', attempts: 0 });
    expect(o.nextAttemptAt).toEqual(new Date(12_345));
    expect(o.result).toBeUndefined();
  });

  it('hands back, unsent, a delivery whose slot came after the worker stopped, and frees the slot', async () => {
    const released: number[] = [];
    const slot: Slot = { release: (now) => released.push(now) };
    const { slots } = fixedSlots(() => ({
      kind: 'wait',
      granted: Promise.resolve(slot),
      cancel: () => undefined,
    }));
    const { execute } = executor({ slots, running: () => false });
    const o = await execute(delivery());
    expect(o).toMatchObject({ kind: 'deferred', attempts: 0 });
    expect(released).toHaveLength(1);
  });

  it('sends, decides a 500 as a retry with one more attempt, and frees its slot', async () => {
    const slots = createWebhookSlots({ cap: 1, maxWaitMs: 100 });
    const { execute } = executor({ slots });
    const o = await execute(delivery());
    expect(o).toMatchObject({ kind: 'retrying', status: 'pending', attempts: 1 });
    expect(o.result).toMatchObject({ ok: false, status: 500, responseBody: 'answer' });
    expect(o.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    expect(slots.load('wh_1').inFlight).toBe(0);
  });

  it('defers past its rate limit instead of waiting more than a second in process', async () => {
    const { execute } = executor();
    const d = delivery({ rate_limit_per_second: 0.5 });
    expect((await execute(d)).kind).toBe('retrying');
    const second = await execute({ ...d, id: 'dlv_2' });
    expect(second).toMatchObject({ kind: 'deferred', attempts: 0 });
    expect(second.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 1000);
  });
});
