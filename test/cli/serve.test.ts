import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { runHookline, spawnHookline } from '../support/cli.js';
import { createProcessStore, testStore } from '../support/db.js';
import { demoCatalog } from '../../src/store/event-types.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Environment pointing `hookline` at a new, empty database of the store under test. */
async function emptyStore(): Promise<Record<string, string>> {
  const store = await createProcessStore({ empty: true });
  cleanups.push(() => store.drop());
  return store.env;
}

/** Environment for a first start as a user makes it: on the embedded store, a data directory that does not exist yet. */
async function firstStart(): Promise<Record<string, string>> {
  if (testStore === 'postgres') return emptyStore();
  const parent = mkdtempSync(join(tmpdir(), 'hookline-serve-'));
  cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
  return { HOOKLINE_DATA_DIR: join(parent, '.hookline') };
}

interface Served {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `hookline serve` on a free port and waits until it logs where it listens. */
async function serve(env: Record<string, string>, args: string[] = []): Promise<Served> {
  const child = spawnHookline(['serve', '--port', '0', ...args], {
    env: { ...env, HOOKLINE_LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  cleanups.push(() => void child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m =
        /"url":"(http:\/\/[^"]+)"[^\n]*Hookline is listening|Hookline is listening[^\n]*"url":"(http:\/\/[^"]+)"/.exec(
          stderr,
        );
      if (m) resolve(m[1] ?? m[2]);
    });
    void exited.then((code) =>
      reject(new Error(`serve exited with ${code} before listening:\n${stderr}`)),
    );
  });
  return {
    url,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function api(url: string, key: string, path: string) {
  const res = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as any };
}

const keyIn = (text: string) => /\b(hk_[A-Za-z0-9]+)\b/.exec(text)?.[1];

// Each start boots a database in a new Node process (test/support/cli.ts): slow on a loaded machine.
describe('first start and bootstrap', { timeout: 300_000 }, () => {
  it('prints a random admin key once; a restart prints none, and --demo loads the catalog', async () => {
    const env = await firstStart();
    const first = await serve(env);
    const key = keyIn(first.stdout());
    expect(key).toBeDefined();
    expect(first.stdout()).toContain('shown only this once');
    expect(await api(first.url, key!, '/me')).toMatchObject({
      status: 200,
      body: { role: 'admin', org_name: 'default' },
    });
    expect(await first.stop()).toBe(0);

    const second = await serve(env, ['--demo']);
    expect(keyIn(second.stdout())).toBeUndefined();
    expect(await api(second.url, key!, '/me')).toMatchObject({
      status: 200,
      body: { role: 'admin' },
    });
    const types = await api(second.url, key!, '/event-types?limit=500');
    const names: string[] = types.body.data.map((t: { name: string }) => t.name);
    const demo = Object.entries(demoCatalog).flatMap(([category, verbs]) =>
      verbs.map((v) => `${category}.${v}`),
    );
    expect(demo).toHaveLength(26);
    expect(names).toEqual(
      expect.arrayContaining([...demo, 'hookline.webhook.disabled', 'hookline.delivery.exhausted']),
    );
    // Only one organization was ever created.
    expect((await api(second.url, key!, '/api-keys')).body.data).toHaveLength(1);
    expect(await second.stop()).toBe(0);
  });

  it('uses HOOKLINE_ADMIN_KEY as the first key and never prints it', async () => {
    const env = await emptyStore();
    const given = 'my-own-admin-key-' + 'x'.repeat(20);
    const served = await serve({ ...env, HOOKLINE_ADMIN_KEY: given });
    expect(served.stdout()).not.toContain(given);
    expect(keyIn(served.stdout())).toBeUndefined();
    expect(await api(served.url, given, '/me')).toMatchObject({
      status: 200,
      body: { role: 'admin', org_name: 'default' },
    });
    expect((await api(served.url, given + 'x', '/me')).status).toBe(401);
    expect(await served.stop()).toBe(0);
  });

  it('a HOOKLINE_ADMIN_KEY unknown to a database that has organizations opens `default`, and the log says so', async () => {
    const env = await emptyStore();
    const made = await runHookline(['orgs', 'create', 'acme'], { env });
    expect(made.code, made.stderr).toBe(0);
    const given = 'set-after-orgs-create-' + 'x'.repeat(20);
    const served = await serve({ ...env, HOOKLINE_ADMIN_KEY: given });
    expect(await api(served.url, given, '/me')).toMatchObject({
      status: 200,
      body: { role: 'admin', org_name: 'default' },
    });
    expect(served.stderr()).toContain(
      'HOOKLINE_ADMIN_KEY was not a key of this database: added it as an admin key of organization \\"default\\" (created)',
    );
    expect(await served.stop()).toBe(0);
  });

  it('refuses a HOOKLINE_ADMIN_KEY shorter than 32 characters before touching the database', async () => {
    const r = await runHookline(['serve', '--port', '0'], {
      env: { HOOKLINE_ADMIN_KEY: 'x'.repeat(31), HOOKLINE_DATA_DIR: '/nonexistent/never-created' },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('HOOKLINE_ADMIN_KEY must be at least 32 characters');
    expect(r.stdout).toBe('');
  });

  it('says in one line that the port is taken, frees the database and exits 2', async () => {
    const env = await emptyStore();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as AddressInfo).port;
    const r = await runHookline(['serve', '--port', String(port)], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`hookline: 127.0.0.1:${port} is already in use`);
    expect(r.stderr).not.toContain('    at '); // no stack trace
    // The database was closed (the embedded one unlocked): the next start on a free port works.
    const served = await serve(env);
    expect(await served.stop()).toBe(0);
  });

  it('refuses to start without the HOOKLINE_ENCRYPTION_KEY its webhook secrets were sealed with', async () => {
    const env = { ...(await emptyStore()), HOOKLINE_DEV: '1' };
    const sealedWith = Buffer.alloc(32, 7).toString('base64');
    const first = await serve({ ...env, HOOKLINE_ENCRYPTION_KEY: sealedWith });
    const key = keyIn(first.stdout())!;
    const created = await fetch(`${first.url}/api/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sealed', url: 'http://127.0.0.1:9/hooks', events: ['*'] }),
    });
    expect(created.status).toBe(201);
    expect(await first.stop()).toBe(0);

    const unset = await runHookline(['serve', '--port', '0'], { env });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      'webhook secrets in this database are encrypted, but HOOKLINE_ENCRYPTION_KEY is not set',
    );
    const wrong = await runHookline(['worker'], {
      env: { ...env, HOOKLINE_ENCRYPTION_KEY: Buffer.alloc(32, 8).toString('base64') },
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('HOOKLINE_ENCRYPTION_KEY is not the key');
    // With the right key it starts, and the secret reads back.
    const again = await serve({ ...env, HOOKLINE_ENCRYPTION_KEY: sealedWith });
    const id = ((await created.json()) as { id: string }).id;
    expect(await api(again.url, key, `/webhooks/${id}/secret`)).toMatchObject({ status: 200 });
    expect(await again.stop()).toBe(0);
  });

  it('names each misconfiguration in one line (exit 2) before creating anything', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const noDir = { HOOKLINE_DATA_DIR: '/nonexistent/never-created' };
    // Each spawn starts a Node process: run them side by side.
    const [level, encryption, scheme, unreachable] = await Promise.all([
      runHookline(['serve', '--port', '0', '--log-level', 'loud'], { env: noDir }),
      runHookline(['serve', '--port', '0', '--encryption-key', 'short'], { env: noDir }),
      runHookline(['migrate'], { env: { DATABASE_URL: 'mysql://db.example/hookline' } }),
      runHookline(['orgs', 'create', 'acme'], {
        env: { DATABASE_URL: `postgres://someone:s3cret@127.0.0.1:${port}/hookline` },
      }),
    ]);
    const oneLine = (r: { code: number | null; stdout: string; stderr: string }, text: string) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(text);
      expect(r.stderr).not.toContain('    at '); // no stack trace
      expect(r.stdout).toBe(''); // nothing created, no key printed
    };
    oneLine(
      level,
      'HOOKLINE_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
    oneLine(encryption, 'HOOKLINE_ENCRYPTION_KEY must be 32 bytes');
    oneLine(scheme, 'DATABASE_URL must be a postgres://');
    oneLine(unreachable, `cannot connect to PostgreSQL at 127.0.0.1:${port}/hookline`);
    expect(unreachable.stderr).toContain('ECONNREFUSED');
    expect(unreachable.stderr).not.toContain('s3cret');
  });

  it('refuses an hk_ HOOKLINE_ADMIN_KEY with a wrong checksum, which the API would never accept', async () => {
    const r = await runHookline(['serve', '--port', '0'], {
      env: {
        HOOKLINE_ADMIN_KEY: 'hk_' + '0123456789abcdef'.repeat(3),
        HOOKLINE_DATA_DIR: '/nonexistent/never-created',
      },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('HOOKLINE_ADMIN_KEY starts with hk_ but is not a key Hookline made');
    expect(r.stdout).toBe('');
  });
});
