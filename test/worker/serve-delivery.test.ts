/**
 * `hookline serve` as users run it: the worker inside the server, woken by
 * publishes through the real wake (not the 10 s safety net), draining on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { spawnHookline } from '../support/cli.js';
import { createProcessStore } from '../support/db.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const adminKey = 'serve-delivery-admin-key-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('serve delivers', { timeout: 120_000 }, () => {
  it('publishes through the API and delivers within moments, then exits 0 on SIGTERM', async () => {
    const env: Record<string, string> = {
      HOOKLINE_ADMIN_KEY: adminKey,
      HOOKLINE_DEV: '1',
      HOOKLINE_LOG_LEVEL: 'info',
    };
    const store = await createProcessStore({ empty: true });
    Object.assign(env, store.env);
    cleanups.push(() => store.drop());
    const rx: Receiver = await startReceiver();
    cleanups.push(() => rx.close());
    const child: ChildProcess = spawnHookline(['serve', '--port', '0'], { env });
    cleanups.push(() => void child.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        const m =
          /Hookline is listening[^\n]*"url":"(http:\/\/[^"]+)"|"url":"(http:\/\/[^"]+)"[^\n]*Hookline is listening/.exec(
            stderr,
          );
        if (m) resolve(m[1] ?? m[2]);
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
    });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await call('POST', '/event-types', { name: 'order.paid' })).status).toBe(201);
    expect(
      (await call('POST', '/webhooks', { name: 'r', url: rx.url, events: ['order.*'] })).status,
    ).toBe(201);
    // Let the worker settle into its idle sleep, so only a wake can make it deliver fast.
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    const pub = await call('POST', '/events', { event_type: 'order.paid', payload: { total: 12 } });
    expect(pub.status).toBe(202);
    const [req] = await rx.waitFor(1, 8000);
    expect(req.headers['webhook-id']).toBe(pub.body.id);
    expect(Date.now() - started).toBeLessThan(5000);
    const event = await call('GET', `/events/${pub.body.id}`);
    expect(event.body.deliveries).toHaveLength(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
