import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../support/app.js';
import { spawnHookline } from '../support/cli.js';
import { startReceiver, until, type Receiver } from '../support/receiver.js';
import { verify } from '../../sdk/verify.js';

let t: TestApp;
let server: string;
let receiver: Receiver;
let configDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // Retries after a failed relayed attempt come due in milliseconds.
  t = await createTestApp({ retryDelayScale: 0.001 });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  await t.org.admin('POST', '/event-types', { name: 'dev.pinged' });
  receiver = await startReceiver();
  configDir = mkdtempSync(join(tmpdir(), 'hookline-listen-'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await receiver?.close();
  await t?.close();
  rmSync(configDir, { recursive: true, force: true });
});

/** Starts `hookline listen --json` and resolves with its ready line. */
async function startListen() {
  const child = spawnHookline(
    ['listen', '--forward-to', receiver.url, '--json', '--events', 'dev.*'],
    {
      env: {
        HOOKLINE_SERVER: server,
        HOOKLINE_API_KEY: t.org.keys.admin,
        HOOKLINE_CONFIG_DIR: configDir,
      },
    },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
  await until(
    () => lines().some((l) => l.ready),
    120_000, // a process start (through tsx when vitest runs alone): slow on a loaded machine
    () => `the ready line; stdout: ${out}; stderr: ${err}`,
  );
  const exited = new Promise<number | null>((r) => child.on('close', r));
  return { child, lines, ready: lines().find((l) => l.ready)!, exited, stderr: () => err };
}

async function deliveryOf(eventId: string) {
  const event = await t.org.admin('GET', `/events/${eventId}`);
  const id =
    event.body.deliveries?.[0]?.id ??
    (await t.org.admin('GET', `/deliveries?limit=500`)).body.data.find(
      (d: any) => d.event_id === eventId,
    )?.id;
  return (await t.org.admin('GET', `/deliveries/${id}`)).body;
}

describe('hookline listen', () => {
  it('relays a published event to the local URL, correctly signed, and records the attempt', async () => {
    const l = await startListen();
    expect(l.ready).toMatchObject({
      webhook_id: expect.stringMatching(/^wh_/),
      events: ['dev.*'],
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(JSON.parse(readFileSync(join(configDir, 'listen.json'), 'utf8'))[server].secret).toBe(
      l.ready.secret,
    );

    const published = await t.org.publisher('POST', '/events', {
      event_type: 'dev.pinged',
      payload: { hello: 'local' },
    });
    expect(published.body.deliveries).toBe(1);
    const [req] = await receiver.waitFor(1, 60_000);
    // The local app verifies it with the SDK and the secret the CLI printed.
    const event = verify(req.body, req.headers, l.ready.secret);
    expect(event).toMatchObject({
      id: published.body.id,
      type: 'dev.pinged',
      data: { hello: 'local' },
    });
    expect(req.headers['user-agent']).toMatch(/^Hookline\//);

    await until(
      () => l.lines().some((x) => x.event_id === published.body.id),
      60_000,
      () => 'the forwarded line',
    );
    expect(l.lines().find((x) => x.event_id === published.body.id)).toMatchObject({
      status: 200,
      outcome: 'succeeded',
      attempt: 1,
    });
    const delivery = await deliveryOf(published.body.id);
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      last_status_code: 200,
      webhook_id: l.ready.webhook_id,
    });
    expect(delivery.attempt_log).toHaveLength(1);
    expect(delivery.attempt_log[0]).toMatchObject({
      attempt: 1,
      response_status: 200,
      error: null,
    });
    expect(delivery.attempt_log[0].request_headers['webhook-id']).toBe(published.body.id);

    l.child.kill('SIGTERM');
    expect(await l.exited).toBe(0);
    const hook = await t.org.admin('GET', `/webhooks/${l.ready.webhook_id}`);
    expect(hook.body.is_active).toBe(false); // switched off while nobody listens
  }, 240_000);

  it('keeps the same webhook and secret across restarts, and retries a failed local answer', async () => {
    const before = receiver.requests.length;
    receiver.handle((_req, res, n) => {
      res.writeHead(n === before + 1 ? 500 : 204);
      res.end(n === before + 1 ? 'local app crashed' : undefined);
    });
    const l = await startListen();
    const firstSecret = JSON.parse(readFileSync(join(configDir, 'listen.json'), 'utf8'))[server]
      .secret;
    expect(l.ready.secret).toBe(firstSecret);
    const published = await t.org.publisher('POST', '/events', {
      event_type: 'dev.pinged',
      payload: { n: 2 },
    });
    await receiver.waitFor(before + 2, 60_000);
    const [failed, retried] = receiver.requests.slice(before);
    expect(retried.headers['webhook-id']).toBe(failed.headers['webhook-id']);
    expect(verify(retried.body, retried.headers, firstSecret).id).toBe(published.body.id);
    await until(
      async () => (await deliveryOf(published.body.id)).status === 'succeeded',
      60_000,
      () => 'success on the retry',
    );
    const delivery = await deliveryOf(published.body.id);
    expect(delivery.attempts).toBe(2);
    const outcomes = () => l.lines().filter((x) => x.event_id === published.body.id);
    await until(
      () => outcomes().length >= 2,
      60_000,
      () => 'both forwarded lines',
    );
    expect(outcomes().map((x) => [x.status, x.outcome])).toEqual([
      [500, 'retrying'],
      [204, 'succeeded'],
    ]);
    l.child.kill('SIGTERM');
    expect(await l.exited).toBe(0);
  }, 240_000);
});
