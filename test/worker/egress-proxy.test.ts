import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type OrgFixture, type TestApp } from '../support/app.js';
import { until } from '../support/receiver.js';
import { startTestWorker } from '../support/worker.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import {
  startConnectProxy,
  startTlsReceiver,
  type ConnectProxy,
  type TlsReceiver,
} from '../support/tls-servers.js';
import type { Worker } from '../../src/worker/loop.js';
import type { ResolveHost } from '../../src/net/resolve.js';
import { loadConfig, ConfigError } from '../../src/config.js';

// receiver.test resolves to loopback (allowed); rebind.test does so once, at save, and then
// to the metadata address: the guard must refuse it before the proxy is asked for anything.
// proxy.test names a webhook's own proxy; proxy-rebind.test does so at save, then names a
// private address that is not allowed.
let rebound = false;
let proxyRebound = false;
const resolveHost: ResolveHost = async (host) => {
  if (host === 'receiver.test' || host === 'proxy.test')
    return [{ address: '127.0.0.1', family: 4 }];
  if (host === 'rebind.test')
    return [{ address: rebound ? '169.254.169.254' : '127.0.0.1', family: 4 }];
  if (host === 'proxy-rebind.test')
    return [{ address: proxyRebound ? '10.9.9.9' : '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
};

let t: TestApp;
let worker: Worker;
let pki: TestPki;
let proxy: ConnectProxy;
let rx: TlsReceiver;

beforeAll(async () => {
  pki = createTestPki();
  const server = pki.server(['receiver.test', 'rebind.test']);
  rx = await startTlsReceiver({
    ...server,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: true,
  });
  proxy = await startConnectProxy({ user: 'egress', password: 's3cret' });
  t = await createTestApp({
    dev: false,
    allowCidrs: ['127.0.0.1/32'],
    resolveHost,
    egressProxy: proxy.url,
    retryDelayScale: 0.001,
    timeoutScale: 0.1,
  });
  worker = await startTestWorker(t, { random: () => 0.5 });
});
afterAll(async () => {
  await worker?.stop({ drainMs: 1000 });
  await rx?.close();
  await proxy?.close();
  await t?.close();
  pki?.cleanup();
});

async function setup(url: string, extra: Record<string, unknown> = {}): Promise<OrgFixture> {
  const o = await t.newOrg();
  expect((await o.admin('POST', '/event-types', { name: 'thing.happened' })).status).toBe(201);
  const client = pki.client('via-proxy');
  const res = await o.admin('POST', '/webhooks', {
    name: 'hook',
    url,
    events: ['thing.happened'],
    retry_attempts: 0,
    timeout_seconds: 120, // 12 s at the test scale: a TLS handshake on a busy machine fits
    tls: { client_cert: client.cert, client_key: client.key, ca: pki.ca.cert },
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return o;
}

async function deliver(o: OrgFixture) {
  const pub = await o.publisher('POST', '/events', { event_type: 'thing.happened', payload: {} });
  expect(pub.status).toBe(202);
  const row = async () =>
    (await t.db.query('SELECT * FROM deliveries WHERE event_id = $1', [pub.body.id])).rows[0];
  await until(async () => ['succeeded', 'failed'].includes((await row())?.status), 15_000);
  const d = await row();
  const attempts = (
    await t.db.query('SELECT * FROM delivery_attempts WHERE delivery_id = $1', [d.id])
  ).rows;
  return { status: d.status as string, attempt: attempts[0] };
}

describe('egress proxy', () => {
  it('tunnels deliveries to the checked address, with TLS (and the client certificate) inside', async () => {
    const o = await setup(rx.url('receiver.test'));
    const r = await deliver(o);
    expect(r.status, JSON.stringify(r.attempt)).toBe('succeeded');
    // The proxy was asked for the address the guard checked, never for the name.
    expect(proxy.targets).toEqual([`127.0.0.1:${rx.port}`]);
    expect(proxy.tunnels).toBe(1);
    expect(rx.requests[0].clientCn).toBe('via-proxy');
    expect(rx.requests[0].headers.host).toBe(`receiver.test:${rx.port}`);
  });

  it('refuses a destination that now resolves to a blocked address without asking the proxy', async () => {
    const o = await setup(rx.url('rebind.test'));
    rebound = true;
    const before = proxy.targets.length;
    const r = await deliver(o);
    expect(r.status).toBe('failed');
    expect(r.attempt.error).toBe('blocked_destination');
    expect(proxy.targets.length).toBe(before);
  });

  it('a proxy refusing the tunnel is a proxy_error attempt', async () => {
    const strict = await startConnectProxy({ user: 'egress', password: 'other' });
    const other = await startTestWorker(t, {
      config: { egressProxy: strict.url.replace('other@', 'wrong@') },
    });
    await worker.stop({ drainMs: 1000 });
    try {
      const o = await setup(rx.url('receiver.test'));
      const r = await deliver(o);
      expect(r.attempt.error).toBe('proxy_error');
      expect(r.attempt.error_detail).toMatch(/407/);
      expect(strict.targets).toEqual([`127.0.0.1:${rx.port}`]);
      expect(strict.tunnels).toBe(0);
    } finally {
      await other.stop({ drainMs: 1000 });
      worker = await startTestWorker(t, { random: () => 0.5 });
      await strict.close();
    }
  });

  it('a webhook’s proxy_url replaces --egress-proxy for it, with its own credentials', async () => {
    const own = await startConnectProxy({ user: 'tenant-egress', password: 'p@ss:word' });
    try {
      const port = own.url.split(':').pop();
      const withOwn = await setup(rx.url('receiver.test'), {
        proxy_url: `http://tenant-egress:${encodeURIComponent('p@ss:word')}@proxy.test:${port}`,
      });
      const sharedBefore = proxy.tunnels;
      const r = await deliver(withOwn);
      expect(r.status, JSON.stringify(r.attempt)).toBe('succeeded');
      expect(own.targets).toEqual([`127.0.0.1:${rx.port}`]);
      expect(own.tunnels).toBe(1);
      expect(proxy.tunnels).toBe(sharedBefore);
      // Without one, the next webhook still leaves through --egress-proxy.
      const shared = await deliver(await setup(rx.url('receiver.test')));
      expect(shared.status).toBe('succeeded');
      expect(proxy.tunnels).toBe(sharedBefore + 1);
      expect(own.tunnels).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('through a webhook’s proxy the destination check still holds, and the proxy’s own host is checked', async () => {
    const own = await startConnectProxy();
    try {
      const port = own.url.split(':').pop();
      rebound = false;
      const o = await setup(rx.url('rebind.test'), { proxy_url: `http://proxy.test:${port}` });
      rebound = true;
      const blocked = await deliver(o);
      expect(blocked.attempt.error).toBe('blocked_destination');
      expect(own.targets).toEqual([]);

      const viaRebound = await setup(rx.url('receiver.test'), {
        proxy_url: `http://proxy-rebind.test:${port}`,
      });
      proxyRebound = true;
      const r = await deliver(viaRebound);
      expect(r.attempt.error).toBe('blocked_destination');
      expect(r.attempt.error_detail).toMatch(/proxy-rebind\.test/);
      expect(own.targets).toEqual([]);
    } finally {
      rebound = false;
      proxyRebound = false;
      await own.close();
    }
  });

  it('the setting must be http://host:port', () => {
    expect(loadConfig({ HOOKLINE_EGRESS_PROXY: 'http://proxy.internal:3128' }).egressProxy).toBe(
      'http://proxy.internal:3128',
    );
    for (const bad of ['https://p:3128', 'http://p', 'socks5://p:1080', 'http://p:3128/x'])
      expect(() => loadConfig({ HOOKLINE_EGRESS_PROXY: bad })).toThrow(ConfigError);
  });
});
