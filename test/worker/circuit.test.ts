/**
 * The circuit breaker end to end (docs/delivery-states.md, "Circuit breaker"): a real receiver
 * on loopback that fails and then recovers, real workers, the API. Delays run at 1/1000 scale
 * (retry_delay_seconds 10 → 10 ms); every wait polls a state, none asserts on timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import { testStore } from '../support/db.js';
import type { Worker } from '../../src/worker/loop.js';

const FAILURES = 3;
let t: TestApp;
const workers: Worker[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  t = await createTestApp({
    retryDelayScale: 0.001,
    circuitFailures: FAILURES,
    // 200 s at 1/1000: probes at most 200 ms apart, so the tests see several soon.
    circuitMaxProbeSeconds: 200,
  });
});
afterAll(async () => {
  for (const w of workers) await w.stop({ drainMs: 1000 });
  for (const r of receivers) await r.close();
  await t?.close();
});

async function worker(): Promise<Worker> {
  const w = await startTestWorker(t, { random: () => 0.5 });
  workers.push(w);
  return w;
}

/**
 * A receiver that answers 500 while `failing` and 200 after, holding each answer `holdMs`;
 * it counts the requests in flight at once since `mark()`.
 */
async function flakyReceiver(holdMs = 0) {
  const state = { failing: true, inFlight: 0, maxInFlight: 0 };
  const rx = await startReceiver(async (_req, res: ServerResponse) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
    state.inFlight--;
    res.writeHead(state.failing ? 500 : 200).end(state.failing ? 'down' : 'ok');
  });
  receivers.push(rx);
  return {
    rx,
    state,
    /** From now on, count concurrency afresh. */
    mark: () => (state.maxInFlight = state.inFlight),
  };
}

async function setup(url: string, hook: Record<string, unknown> = {}) {
  const o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
  const res = await o.admin('POST', '/webhooks', {
    name: 'flaky',
    url,
    events: ['thing.happened'],
    retry_attempts: 10,
    retry_delay_seconds: 10,
    ...hook,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { o, hookId: res.body.id as string };
}

/** A second webhook, on a healthy receiver, subscribed to the circuit's operational events. */
async function opsListener(o: OrgFixture): Promise<Receiver> {
  const rx = await startReceiver();
  receivers.push(rx);
  const res = await o.admin('POST', '/webhooks', {
    name: 'ops',
    url: rx.url,
    events: ['hookline.webhook.circuit_opened', 'hookline.webhook.circuit_closed'],
  });
  expect(res.status).toBe(201);
  return rx;
}

async function publish(o: OrgFixture, n: number): Promise<void> {
  const res = await o.publisher('POST', '/events', {
    event_type: 'thing.happened',
    payload: { n },
  });
  expect(res.status).toBe(202);
}

interface Circuit {
  state: 'closed' | 'open' | 'half_open';
  since: string | null;
  next_probe_at: string | null;
  probes_failed: number;
}
const circuitOf = async (o: OrgFixture, id: string): Promise<Circuit> =>
  (await o.viewer('GET', `/webhooks/${id}`)).body.circuit;

async function waitCircuit(o: OrgFixture, id: string, ok: (c: Circuit) => boolean, what: string) {
  await until(
    async () => ok(await circuitOf(o, id)),
    20_000,
    async () => `circuit to be ${what}; it is ${JSON.stringify(await circuitOf(o, id))}`,
  );
  return circuitOf(o, id);
}

const deliveriesOf = async (hookId: string) =>
  (
    await t.db.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM deliveries WHERE webhook_id = $1 ORDER BY seq',
      [hookId],
    )
  ).rows;

const opsTypes = (rx: Receiver) => rx.requests.map((r) => JSON.parse(r.body).type as string);

describe('a webhook whose receiver fails, then recovers', () => {
  it('opens after the failures in a row, holds the queue without using attempts, probes one at a time and closes on the first success', async () => {
    await worker();
    const flaky = await flakyReceiver();
    const { o, hookId } = await setup(flaky.rx.url);
    const ops = await opsListener(o);
    expect((await circuitOf(o, hookId)).state).toBe('closed');

    // One delivery fails FAILURES times in a row: the circuit opens.
    await publish(o, 0);
    await waitCircuit(o, hookId, (c) => c.state !== 'closed', 'open');
    await until(() => opsTypes(ops).includes('hookline.webhook.circuit_opened'));
    const opened = JSON.parse(ops.requests[0].body).data;
    expect(opened).toMatchObject({ webhook_id: hookId, failed_attempts: FAILURES });

    // More events while it is open: they wait, and only probes reach the receiver.
    for (let n = 1; n <= 5; n++) await publish(o, n);
    const c = await waitCircuit(o, hookId, (x) => x.probes_failed >= 3, 'probed 3 times');
    expect(c.since).not.toBeNull();
    const seen = flaky.rx.requests.length;
    const probesFailed = (await circuitOf(o, hookId)).probes_failed;
    // Every request after the opening ones was a probe (one more may be on its way now).
    expect(seen).toBeGreaterThanOrEqual(FAILURES + 3);
    expect(seen).toBeLessThanOrEqual(FAILURES + probesFailed + 1);
    expect(flaky.state.maxInFlight).toBe(1);
    // Waiting used no attempts: the attempts made are the requests received.
    const held = await deliveriesOf(hookId);
    expect(held).toHaveLength(6);
    expect(held.every((d) => d.status === 'pending' || d.status === 'sending')).toBe(true);
    const attempts = held.reduce((n, d) => n + d.attempts, 0);
    expect(attempts).toBeLessThanOrEqual(flaky.rx.requests.length);

    // The receiver recovers: the next probe succeeds, the circuit closes and the queue goes.
    flaky.state.failing = false;
    await waitCircuit(o, hookId, (x) => x.state === 'closed', 'closed');
    await until(
      async () => (await deliveriesOf(hookId)).every((d) => d.status === 'succeeded'),
      20_000,
      async () => `all delivered: ${JSON.stringify(await deliveriesOf(hookId))}`,
    );
    const closed = await circuitOf(o, hookId);
    expect(closed.next_probe_at).toBeNull();
    expect(closed.probes_failed).toBe(0);
    await until(() => opsTypes(ops).includes('hookline.webhook.circuit_closed'));
    const closedEvent = ops.requests
      .map((r) => JSON.parse(r.body))
      .find((e) => e.type === 'hookline.webhook.circuit_closed');
    expect(closedEvent.data).toMatchObject({ webhook_id: hookId, reason: 'probe_succeeded' });
    expect((await o.viewer('GET', `/webhooks/${hookId}`)).body.failure_count).toBe(0);
  });

  it('lets an admin close an open circuit: audited, announced, and the held deliveries go at once', async () => {
    if (workers.length === 0) await worker();
    const flaky = await flakyReceiver();
    const { o, hookId } = await setup(flaky.rx.url);
    const ops = await opsListener(o);
    await publish(o, 0);
    await waitCircuit(o, hookId, (c) => c.state !== 'closed', 'open');

    expect((await o.viewer('POST', `/webhooks/${hookId}/circuit/reset`)).status).toBe(403);
    flaky.state.failing = false;
    const res = await o.admin('POST', `/webhooks/${hookId}/circuit/reset`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.circuit).toMatchObject({ state: 'closed', next_probe_at: null });
    await until(
      async () => (await deliveriesOf(hookId)).every((d) => d.status === 'succeeded'),
      20_000,
      async () => `delivered: ${JSON.stringify(await deliveriesOf(hookId))}`,
    );
    const audit = await o.admin('GET', `/audit-log?target_id=${hookId}`);
    expect(
      (audit.body.data as Array<{ action: string; changes: unknown }>).find(
        (a) => a.action === 'webhook.circuit_reset',
      )?.changes,
    ).toMatchObject({ circuit_state: 'closed' });
    await until(() => opsTypes(ops).includes('hookline.webhook.circuit_closed'));
    const closed = ops.requests
      .map((r) => JSON.parse(r.body))
      .find((e) => e.type === 'hookline.webhook.circuit_closed');
    expect(closed.data).toMatchObject({ webhook_id: hookId, reason: 'reset' });
    expect((await o.admin('POST', '/webhooks/wh_nope/circuit/reset')).status).toBe(404);
  });
});

describe('a webhook’s own circuit_failures', () => {
  it('0 never opens its circuit; 1 opens it at the first failure; re-enabling closes it', async () => {
    if (workers.length === 0) await worker();
    const flaky = await flakyReceiver();
    const never = await setup(flaky.rx.url, { circuit_failures: 0, retry_attempts: FAILURES + 1 });
    expect((await never.o.viewer('GET', `/webhooks/${never.hookId}`)).body.circuit_failures).toBe(
      0,
    );
    await publish(never.o, 0);
    await until(
      async () => (await deliveriesOf(never.hookId))[0]?.status === 'failed',
      20_000,
      async () => `exhausted: ${JSON.stringify(await deliveriesOf(never.hookId))}`,
    );
    expect((await deliveriesOf(never.hookId))[0].attempts).toBe(FAILURES + 2);
    expect((await circuitOf(never.o, never.hookId)).state).toBe('closed');

    const soon = await setup(flaky.rx.url, { circuit_failures: 1 });
    await publish(soon.o, 0);
    await waitCircuit(soon.o, soon.hookId, (c) => c.state !== 'closed', 'open');
    const patched = await soon.o.admin('PATCH', `/webhooks/${soon.hookId}`, {
      circuit_failures: null,
    });
    expect(patched.body.circuit_failures).toBeNull();
    // Switched off and on again, it starts afresh: its circuit closed too.
    await soon.o.admin('PATCH', `/webhooks/${soon.hookId}`, { is_active: false });
    const back = await soon.o.admin('PATCH', `/webhooks/${soon.hookId}`, { is_active: true });
    expect(back.body.circuit).toMatchObject({ state: 'closed', next_probe_at: null });
    expect(
      (await soon.o.admin('PATCH', `/webhooks/${soon.hookId}`, { circuit_failures: -1 })).status,
    ).toBe(422);
  });
});

describe.runIf(testStore === 'postgres')('two workers on one PostgreSQL', () => {
  it('never probe an open webhook at the same time', async () => {
    while (workers.length < 2) await worker();
    // Each answer takes a while, so two probes at once would overlap at the receiver.
    const flaky = await flakyReceiver(40);
    const { o, hookId } = await setup(flaky.rx.url);
    await publish(o, 0);
    await waitCircuit(o, hookId, (c) => c.state !== 'closed', 'open');
    const before = flaky.rx.requests.length;
    flaky.mark();
    for (let n = 1; n <= 20; n++) await publish(o, n);
    const c = await waitCircuit(o, hookId, (x) => x.probes_failed >= 4, 'probed 4 times');
    expect(flaky.state.maxInFlight).toBeLessThanOrEqual(1);
    // Only probes went out since it opened: one per failed probe, and perhaps one on its way.
    const since = flaky.rx.requests.length - before;
    expect(since).toBeLessThanOrEqual(c.probes_failed + 1);
    flaky.state.failing = false;
    await waitCircuit(o, hookId, (x) => x.state === 'closed', 'closed');
    await until(
      async () => (await deliveriesOf(hookId)).every((d) => d.status === 'succeeded'),
      20_000,
      async () => `delivered: ${JSON.stringify(await deliveriesOf(hookId))}`,
    );
  });
});
