/**
 * `hookline`: a thin command line over the library. Each command loads the
 * configuration (defaults, HOOKLINE_* environment, flags), does one thing, exits.
 */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, settings, type Config } from '../config.js';
import { openDb } from '../store/open.js';
import { migrate } from '../store/migrate.js';
import { startServer } from '../server.js';
import { startWorkerProcess } from '../worker/standalone.js';
import { createLogger } from '../log.js';
import { redactText, serializeError } from '../log-redact.js';
import { version } from '../version.js';
import { newOrganization } from '../new-organization.js';
import { createApiKey, findOrganizationByName } from '../store/organizations.js';
import { recordAudit } from '../store/audit.js';
import { roles, type Role } from '../core/api-keys.js';
import { HooklineError } from '../errors.js';
import { registerDeveloperCommands } from './developer-commands.js';

type SettingKey = keyof Config;

const camel = (flag: string) =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds the flags of the given settings to a command, with their variables in the help text. */
function withSettings(cmd: Command, keys: SettingKey[]): Command {
  for (const s of settings.filter((x) => keys.includes(x.key))) {
    const def =
      s.default === undefined || s.secret
        ? ''
        : ` (default: ${Array.isArray(s.default) ? s.default.join(',') || 'none' : String(s.default)})`;
    const help = `${s.description}; env ${s.env}${def}`;
    if (s.kind === 'bool') {
      cmd.addOption(new Option(s.default === true ? `--no-${s.flag.slice(2)}` : s.flag, help));
    } else {
      cmd.addOption(new Option(`${s.flag} <value>`, help));
    }
  }
  return cmd;
}

/** Only flags actually typed on the command line override the environment. */
function configFrom(cmd: Command): Config {
  const opts = cmd.opts();
  const flags: Partial<Record<SettingKey, unknown>> = {};
  for (const s of settings) {
    const name = camel(s.flag);
    if (cmd.getOptionValueSource(name) === 'cli') flags[s.key] = opts[name];
  }
  return loadConfig(process.env, flags);
}

const databaseKeys: SettingKey[] = ['dataDir', 'databaseUrl', 'poolSize', 'logLevel', 'logFormat'];
const serveKeys = settings.map((s) => s.key).filter((k) => k !== 'metricsPort');

// What the CLI prints about a failure is a log line like the server's (docs/security.md, "Logs").
function fail(message: string): never {
  process.stderr.write(`hookline: ${redactText(message)}\n`);
  process.exit(2);
}

async function withDb<T>(
  config: Config,
  fn: (db: Awaited<ReturnType<typeof openDb>>) => Promise<T>,
): Promise<T> {
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
  });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const program = new Command('hookline')
  .description('Hookline: self-hosted webhook delivery.')
  .version(version)
  .showHelpAfterError();

withSettings(
  program
    .command('serve')
    .description('Run the HTTP API, the admin UI and the delivery worker in one process.'),
  serveKeys,
).action(async (_opts, cmd: Command) => {
  const config = configFrom(cmd);
  const log = createLogger(config);
  // Signals are handled from the start: a SIGTERM while the database opens still drains and exits 0.
  const server = startServer(config, log);
  stopOnSignals(log, async () => (await server).stop());
  await server;
});

/** SIGTERM/SIGINT: drain, then exit 0; a second signal exits at once. */
function stopOnSignals(log: ReturnType<typeof createLogger>, stop: () => Promise<void>): void {
  let signals = 0;
  const shutdown = (signal: string) => {
    if (signals++ > 0) process.exit(1); // a second signal means "now"
    log.info({ signal }, 'draining and shutting down');
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

// The worker needs the database, sending and retry settings, not the API's (--host only for --metrics-port).
const workerKeys = settings
  .map((s) => s.key)
  .filter(
    (k) =>
      ![
        'port',
        'demo',
        'adminKey',
        'worker',
        'rateLimitPerMinute',
        'publishRateLimitPerMinute',
        'testsPerMinute',
        'portalFrameAncestors',
      ].includes(k),
  );

withSettings(
  program
    .command('worker')
    .description(
      'Run only the delivery worker (no HTTP API): add these to scale delivery on PostgreSQL.',
    ),
  workerKeys,
).action(async (_opts, cmd: Command) => {
  const config = configFrom(cmd);
  const log = createLogger(config);
  const running = startWorkerProcess(config, log);
  stopOnSignals(log, async () => (await running).stop());
  await running;
});

withSettings(
  program.command('migrate').description('Apply pending schema migrations and exit.'),
  databaseKeys,
).action(async (_opts, cmd: Command) => {
  const config = configFrom(cmd);
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    migrate: false,
    poolSize: 2,
  });
  try {
    const applied = await migrate(db);
    process.stdout.write(
      applied.length
        ? `Applied migrations: ${applied.join(', ')}\n`
        : 'The schema is up to date.\n',
    );
  } finally {
    await db.close();
  }
});

const orgs = program.command('orgs').description('Manage organizations.');
withSettings(
  orgs
    .command('create')
    .argument('<name>', 'organization name')
    .description('Create an organization.'),
  databaseKeys,
).action(async (name: string, _opts, cmd: Command) => {
  const config = configFrom(cmd);
  const org = await withDb(config, (db) => newOrganization(db, name));
  process.stdout.write(`Created organization "${org.name}" (${org.id}).\n`);
});

const keys = program.command('keys').description('Manage API keys.');
withSettings(
  keys
    .command('create')
    .description('Create an API key; it is printed once.')
    .requiredOption('--org <name>', 'organization name')
    .addOption(
      new Option('--role <role>', 'admin, publisher or viewer')
        .choices(roles as string[])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'a label for the key'),
  databaseKeys,
).action(async (opts: { org: string; role: Role; name?: string }, cmd: Command) => {
  const config = configFrom(cmd);
  const key = await withDb(config, async (db) => {
    const org = await findOrganizationByName(db, opts.org);
    if (!org)
      fail(
        `no organization named "${opts.org}" (create it with: hookline orgs create ${opts.org})`,
      );
    return db.transaction(async (tx) => {
      const created = await createApiKey(tx, { orgId: org.id, role: opts.role, name: opts.name });
      // key_id null: made from the command line, by whoever holds the database, not by an API key.
      await recordAudit(tx, {
        orgId: org.id,
        keyId: null,
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: created.id,
        changes: { role: created.role, name: created.name, via: 'cli' },
      });
      return created;
    });
  });
  process.stdout.write(
    `Created ${key.role} key ${key.id} for "${opts.org}". It is shown only this once:\n\n  ${key.key}\n\n`,
  );
});

registerDeveloperCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof HooklineError) fail(err.message);
  const shown = serializeError(err) as { stack?: string } | string;
  process.stderr.write(
    `hookline: ${typeof shown === 'object' && shown?.stack ? shown.stack : redactText(String(err))}\n`,
  );
  process.exit(1);
});
