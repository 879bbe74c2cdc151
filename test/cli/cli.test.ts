import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runHookline } from '../support/cli.js';
import {
  createProcessStore,
  createTestDatabase,
  testStore,
  type ProcessStore,
} from '../support/db.js';
import { settings } from '../../src/config.js';
import { hashApiKey } from '../../src/core/api-keys.js';
import { loadMigrations } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';

let store: ProcessStore;
/** Points a CLI run at this file's own, empty database, whichever store is under test. */
let storeEnv: Record<string, string>;
/** The embedded store's data directory (PGlite allows one process per directory: the CLI owns it, the test opens it only between runs). */
let dataDir: string | undefined;

beforeAll(async () => {
  store = await createProcessStore({ empty: true });
  storeEnv = store.env;
  dataDir = store.dataDir;
});
afterAll(() => store?.drop());

/** The commands a help text lists (commander's "Commands:" section), without `help`. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
    .filter((name): name is string => !!name && name !== 'help');
}

// Each run starts a Node process (the built CLI under npm test, the sources through tsx under
// vitest alone: test/support/cli.ts): seconds each on a loaded machine.
describe('hookline CLI', { timeout: 240_000 }, () => {
  it('migrate applies the schema once; a second run says it is up to date', async () => {
    const first = await runHookline(['migrate'], { env: storeEnv });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `Applied migrations: ${loadMigrations()
        .map((m) => m.version)
        .join(', ')}`,
    );
    const second = await runHookline(['migrate'], { env: storeEnv });
    expect(second).toMatchObject({ code: 0, stdout: 'The schema is up to date.\n' });
  });

  it.runIf(testStore === 'postgres')(
    'two `hookline migrate` processes at once on one PostgreSQL both succeed',
    async () => {
      const fresh = await createTestDatabase({ empty: true });
      try {
        const runs = await Promise.all(
          [1, 2].map(() => runHookline(['migrate'], { env: { DATABASE_URL: fresh.url! } })),
        );
        for (const r of runs) expect(r.code, r.stderr).toBe(0);
        const { rows } = await fresh.db.query<{ n: number; d: number }>(
          'SELECT count(*)::int AS n, count(DISTINCT version)::int AS d FROM schema_migrations',
        );
        expect(rows[0]).toEqual({ n: loadMigrations().length, d: loadMigrations().length });
      } finally {
        await fresh.drop();
      }
    },
  );

  it('orgs create and keys create make an organization and a working key, shown once', async () => {
    const org = await runHookline(['orgs', 'create', 'acme'], { env: storeEnv });
    expect(org.code, org.stderr).toBe(0);
    expect(org.stdout).toMatch(/^Created organization "acme" \(org_\w+\)\.\n$/);
    const again = await runHookline(['orgs', 'create', 'acme'], { env: storeEnv });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already exists');

    const key = await runHookline(
      ['keys', 'create', '--org', 'acme', '--role', 'publisher', '--name', 'app server'],
      { env: storeEnv },
    );
    expect(key.code, key.stderr).toBe(0);
    const plain = /\b(hk_\w+)\b/.exec(key.stdout)?.[1];
    expect(plain).toBeDefined();
    const check = dataDir
      ? await openPglite(join(dataDir, 'db'))
      : await openPostgres(storeEnv.DATABASE_URL, { max: 1 });
    try {
      const { rows } = await check.query<{ role: string; name: string; org: string }>(
        'SELECT k.role, k.name, o.name AS org FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.key_hash = $1',
        [hashApiKey(plain!)],
      );
      expect(rows).toEqual([{ role: 'publisher', name: 'app server', org: 'acme' }]);
      // Stored only as a hash: the plain key is nowhere in the table.
      const { rows: leaked } = await check.query(
        'SELECT 1 FROM api_keys WHERE key_hash = $1 OR key_prefix = $1',
        [plain],
      );
      expect(leaked).toEqual([]);
    } finally {
      await check.close();
    }
  });

  it('refuses bad flags and arguments with a clear message and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['keys', 'create', '--org', 'nope', '--role', 'admin'], /no organization named "nope"/],
      [
        ['keys', 'create', '--org', 'acme', '--role', 'root'],
        /Allowed choices are admin, publisher, viewer/,
      ],
      [['keys', 'create', '--org', 'acme'], /required option '--role <role>' not specified/],
      [['keys', 'create', '--role', 'admin'], /required option '--org <name>' not specified/],
      [['orgs', 'create'], /missing required argument 'name'/],
      [['serve', '--bogus'], /unknown option '--bogus'/],
      [['serve', '--port', 'abc'], /--port: expected a whole number/],
      [['serve', '--port', '70000'], /70000 is not a TCP port/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['migrate', '--pool-size', 'x'], /--pool-size: expected a whole number/],
    ];
    const results = await Promise.all(cases.map(([args]) => runHookline(args, { env: storeEnv })));
    results.forEach((r, i) => {
      const [args, message] = cases[i];
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
      // A usage error is a message, not a stack trace.
      expect(r.stderr, args.join(' ')).not.toMatch(/^\s+at /m);
    });
  });

  it.runIf(testStore === 'pglite')(
    'refuses to open an embedded database another live process has open',
    async () => {
      // This test process stands in for a running `hookline serve`: alive, and not the CLI.
      const pidFile = join(dataDir!, 'hookline.pid');
      writeFileSync(pidFile, String(process.pid));
      try {
        const r = await runHookline(['orgs', 'create', 'second'], { env: storeEnv });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`in use by process ${process.pid}`);
      } finally {
        rmSync(pidFile, { force: true });
      }
      // A pid file left by a process that is gone is taken over, and removed on exit.
      writeFileSync(pidFile, '2147483646');
      const ok = await runHookline(['orgs', 'create', 'second'], { env: storeEnv });
      expect(ok.code, ok.stderr).toBe(0);
      expect(existsSync(pidFile)).toBe(false);
    },
  );

  it.runIf(testStore === 'pglite')(
    '--help works on every command and lists every setting of serve (and worker) with its variable',
    async () => {
      const top = await runHookline(['--help']);
      expect(top.code).toBe(0);
      const commands = commandsIn(top.stdout);
      expect(commands).toEqual(expect.arrayContaining(['serve', 'migrate', 'orgs', 'keys']));
      const helps = await Promise.all(
        commands.map((c) => runHookline([c, '--help']).then((r) => [c, r] as const)),
      );
      const nested: string[][] = [];
      for (const [c, r] of helps) {
        expect(r.code, c).toBe(0);
        expect(r.stdout, c).toMatch(/^Usage: hookline /);
        for (const sub of commandsIn(r.stdout)) nested.push([c, sub]);
      }
      expect(nested).toEqual(
        expect.arrayContaining([
          ['orgs', 'create'],
          ['keys', 'create'],
        ]),
      );
      for (const args of nested) {
        const r = await runHookline([...args, '--help']);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.stdout).toContain(`Usage: hookline ${args.join(' ')}`);
      }
      const helpOf = (c: string) => helps.find(([name]) => name === c)![1].stdout;
      // Every setting is on serve but the worker's own --metrics-port (serve answers /metrics on --port).
      for (const s of settings) {
        const help = s.key === 'metricsPort' ? helpOf('worker') : helpOf('serve');
        const flag = s.kind === 'bool' && s.default === true ? `--no-${s.flag.slice(2)}` : s.flag;
        expect(help, s.key).toContain(flag);
        expect(help, s.key).toContain(s.env);
      }
    },
  );
});
