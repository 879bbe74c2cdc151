import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { createTestApp, type TestApp } from '../support/app.js';
import { runHookline, spawnHookline } from '../support/cli.js';
import { until } from '../support/receiver.js';
import { createClient } from '../../src/client/client.js';

// Each spawn starts a Node process (through tsx when vitest runs alone: test/support/cli.ts):
// seconds alone, far more on a loaded machine.
const SPAWN_TIMEOUT = 180_000;
import { tailDeliveries, type TailChange } from '../../src/cli/tail.js';

let t: TestApp;
let server: string;
let webhookId: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  await t.org.admin('POST', '/event-types', { name: 'cli.poked' });
  await t.org.admin('POST', '/event-types', { name: 'cli.other' });
  // Nothing listens on port 9, and this app runs no worker: deliveries stay pending until a test moves them.
  webhookId = (
    await t.org.admin('POST', '/webhooks', {
      name: 'cli',
      url: 'http://127.0.0.1:9/hook',
      events: ['cli.*'],
    })
  ).body.id;
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await t?.close();
});

const env = () => ({ HOOKLINE_SERVER: server, HOOKLINE_API_KEY: t.org.keys.admin, NO_COLOR: '' });

describe('hookline trigger', () => {
  it(
    'publishes through the API and prints the event, plainly when piped',
    async () => {
      const r = await runHookline(['trigger', 'cli.poked', '--data', '{"n":1,"who":"cli"}'], {
        env: env(),
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Published cli\.poked evt_\w+: 1 delivery queued\.\n$/);
      expect(r.stdout).not.toContain('\x1b[');
      const id = /evt_\w+/.exec(r.stdout)![0];
      const event = await t.org.admin('GET', `/events/${id}`);
      expect(event.body).toMatchObject({
        id,
        event_type: 'cli.poked',
        payload: { n: 1, who: 'cli' },
      });
    },
    SPAWN_TIMEOUT,
  );

  it(
    'takes --server and --key flags and prints JSON with --json; an idempotency key publishes once',
    async () => {
      const args = [
        'trigger',
        'cli.other',
        '--server',
        server,
        '--key',
        t.org.keys.publisher,
        '--idempotency-key',
        'once',
        '--json',
      ];
      const a = await runHookline(args);
      const b = await runHookline([
        ...args.slice(0, 2),
        '--server',
        server,
        '--key',
        t.org.keys.admin,
        ...args.slice(6),
      ]);
      expect([a.code, b.code]).toEqual([0, 0]);
      expect(JSON.parse(b.stdout).id).toBe(JSON.parse(a.stdout).id);
    },
    SPAWN_TIMEOUT,
  );

  it(
    "publishes for a tenant with --tenant: that tenant's webhooks only",
    async () => {
      const r = await runHookline(['trigger', 'cli.poked', '--tenant', 'cli-tenant', '--json'], {
        env: env(),
      });
      expect(r.code).toBe(0);
      const published = JSON.parse(r.stdout);
      expect(published.deliveries).toBe(0);
      const event = await t.org.admin('GET', `/events/${published.id}`);
      expect(event.body).toMatchObject({ tenant_id: 'cli-tenant', deliveries: [] });
    },
    SPAWN_TIMEOUT,
  );

  it(
    'explains what is wrong: bad JSON, an unknown type, a missing key, no server',
    async () => {
      // A port nothing listens on: taken, then released.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const nowhere = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      // Each spawn starts a Node process: run them side by side.
      const [bad, unknown, noKey, noServer] = await Promise.all([
        runHookline(['trigger', 'cli.poked', '--data', '{nope'], { env: env() }),
        runHookline(['trigger', 'cli.unknown'], { env: env() }),
        runHookline(['trigger', 'cli.poked'], {
          env: { HOOKLINE_SERVER: server, HOOKLINE_API_KEY: '' },
        }),
        runHookline(['deliveries', 'tail', '--server', nowhere], { env: env() }),
      ]);
      expect([bad.code, bad.stderr]).toEqual([
        2,
        expect.stringMatching(/--data is not valid JSON/),
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/422 VALIDATION_FAILED[\s\S]*event_type/);
      expect([noKey.code, noKey.stderr]).toEqual([2, expect.stringMatching(/API key is needed/)]);
      expect([noServer.code, noServer.stderr]).toEqual([
        1,
        `hookline: cannot reach ${nowhere} (ECONNREFUSED): is \`hookline serve\` running there? Set --server or HOOKLINE_SERVER otherwise.\n`,
      ]);
    },
    SPAWN_TIMEOUT,
  );
});

describe('hookline deliveries tail', () => {
  it('prints only deliveries that appear or change after it starts, including late commits', async () => {
    const before = await t.org.admin('POST', '/events', {
      event_type: 'cli.poked',
      payload: { phase: 'before' },
    });
    const client = createClient({ baseUrl: server, apiKey: t.org.keys.viewer });
    const changes: TailChange[] = [];
    let polls = 0;
    const controller = new AbortController();
    const tail = tailDeliveries(
      client,
      { intervalMs: 50, webhookId, signal: controller.signal, onPoll: (n) => (polls = n) },
      (c) => changes.push(c),
    );
    try {
      await until(
        () => polls >= 1,
        30_000,
        () => 'the first poll',
      );
      expect(changes).toEqual([]);
      const after = await t.org.admin('POST', '/events', {
        event_type: 'cli.poked',
        payload: { phase: 'after' },
      });
      await until(
        () => changes.length >= 1,
        30_000,
        () => 'the new delivery',
      );
      expect(changes[0].row).toMatchObject({
        event_id: after.body.id,
        status: 'pending',
        webhook_id: webhookId,
      });
      expect(changes[0].previous).toBeUndefined();
      // A worker finishing it shows as a change of the same delivery.
      await t.db.query(
        "UPDATE deliveries SET state = 'succeeded', attempts = 1, last_status_code = 200 WHERE event_id = $1",
        [after.body.id],
      );
      await until(
        () => changes.length >= 2,
        30_000,
        () => 'the status change',
      );
      expect(changes[1]).toMatchObject({
        previous: 'pending',
        row: { status: 'succeeded', attempts: 1, last_status_code: 200 },
      });
      // A delivery committed late with an earlier created_at (another process) is still caught.
      const late = await t.org.admin('POST', '/events', {
        event_type: 'cli.poked',
        payload: { phase: 'late' },
      });
      await t.db.query(
        "UPDATE deliveries SET created_at = now() - interval '20 seconds' WHERE event_id = $1",
        [late.body.id],
      );
      await until(
        () => changes.some((c) => c.row.event_id === late.body.id),
        30_000,
        () => 'the late delivery',
      );
      expect(changes.some((c) => c.row.event_id === before.body.id)).toBe(false);
    } finally {
      controller.abort();
      await tail;
    }
  }, 120_000);

  it(
    'runs as a command, printing one JSON line per change when piped',
    async () => {
      const first = await t.org.admin('POST', '/events', {
        event_type: 'cli.other',
        payload: { k: 1 },
      });
      const child = spawnHookline(
        [
          'deliveries',
          'tail',
          '--history',
          '--json',
          '--interval',
          '100',
          '--event-type',
          'cli.other',
        ],
        { env: env() },
      );
      children.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      const lines = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      // The first line waits for a new process to start and connect: 1.7 s alone, 19 s and once
      // over 20 s on PostgreSQL in a full CI run on two busy cores.
      await until(
        () => lines().some((l) => l.event_id === first.body.id),
        90_000,
        () => `the existing delivery in: ${out}`,
      );
      const second = await t.org.admin('POST', '/events', {
        event_type: 'cli.other',
        payload: { k: 2 },
      });
      await until(
        () => lines().some((l) => l.event_id === second.body.id),
        20_000,
        () => `the new delivery in: ${out}`,
      );
      expect(lines().every((l) => l.event_type === 'cli.other')).toBe(true);
      expect(out).not.toContain('\x1b[');
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('close', r));
      expect(code).toBe(0);
    },
    SPAWN_TIMEOUT,
  );
});
