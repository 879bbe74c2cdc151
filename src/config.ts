/**
 * Hookline's configuration: defaults, then `HOOKLINE_*` environment variables
 * (and DATABASE_URL), then command-line flags. Every setting is declared once
 * here, with its variable and its flag, so `--help` and the README stay true.
 */

import { compileAllowList } from './core/ssrf.js';
import { hasValidChecksum } from './core/api-keys.js';
import { parseFrameAncestors } from './core/frame-ancestors.js';
import { parseProxyUrl } from './net/egress-proxy.js';
import { LOG_FORMATS, type LogFormat } from './log-format.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** Pool size per process on PostgreSQL. */
  poolSize: number;
  /** Allows http:// and private destinations; local development only. */
  dev: boolean;
  /** Loads the demo catalogs of event types. */
  demo: boolean;
  /** The first admin key, when set (≥ 32 characters). */
  adminKey?: string;
  /** Base64 or hex of 32 bytes: encrypts webhook secrets at rest (AES-256-GCM). */
  encryptionKey?: string;
  /** CIDRs exempt from the SSRF guard. */
  allowCidrs: string[];
  /** http://[user:password@]host:port of an HTTP CONNECT proxy every delivery goes through. */
  egressProxy?: string;
  retentionDays: number;
  /** Where people reach this server; the base of portal session URLs (default http://host:port). */
  publicUrl?: string;
  /** At most this many webhooks per tenant (docs/tenants.md). */
  tenantWebhookLimit: number;
  /** Requests per minute per portal session (0: unlimited). */
  portalRateLimitPerMinute: number;
  /** A webhook failing every delivery for this long is disabled. */
  disableAfterDays: number;
  /** Failed attempts in a row that open a webhook's circuit (0: never; docs/delivery-states.md, "Circuit breaker"). */
  circuitFailures: number;
  /** The longest wait between two probes of an open circuit. */
  circuitMaxProbeSeconds: number;
  logLevel: string;
  /** json or pretty; unset: pretty when standard error is a terminal, else json. */
  logFormat?: LogFormat;
  /** Requests per minute per API key on the management API. */
  rateLimitPerMinute: number;
  /** Requests per minute per API key on POST /events and /events/batch. */
  publishRateLimitPerMinute: number;
  /** Synchronous webhook tests per minute per webhook. */
  testsPerMinute: number;
  /** Run the delivery worker inside `serve`. */
  worker: boolean;
  /** `hookline worker`: the port of its /metrics, /healthz and /readyz (0: none). */
  metricsPort: number;
  /** Deliveries claimed per batch by one worker. */
  workerBatchSize: number;
  /** HTTP attempts in flight at once per worker process. */
  workerConcurrency: number;
  /** HTTP attempts in flight at once per webhook per worker; 0: a quarter of workerConcurrency (see webhookCap). */
  workerWebhookConcurrency: number;
  /** How long a claimed delivery stays leased before another worker may take it. */
  leaseSeconds: number;
  /** On SIGTERM, how long in-flight attempts may run before their deliveries are handed back. */
  drainSeconds: number;
  /** Tests only (HOOKLINE_TEST_RETRY_DELAY_SCALE): multiplies retry delays and Retry-After (0.001 turns seconds into ms). */
  retryDelayScale: number;
  /** Tests only (HOOKLINE_TEST_TIMEOUT_SCALE): multiplies webhook timeouts, so a hanging receiver takes less than 5 s. */
  timeoutScale: number;
  /** CSP frame-ancestors of /portal: which sites may embed the customer portal (space-separated). */
  portalFrameAncestors: string;
  /** Memory limit of one transformation run (docs/routing.md, "Transformations"). */
  transformMemoryMb: number;
  /** Time limit of one transformation run. */
  transformTimeoutMs: number;
}

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';

interface Setting {
  key: keyof Config;
  env: string;
  flag: string;
  kind: Kind;
  description: string;
  default?: Config[keyof Config];
  /** Shown in --help, but never printed with its value. */
  secret?: boolean;
}

/** Every setting, in the order `--help` lists them. */
export const settings: Setting[] = [
  {
    key: 'port',
    env: 'HOOKLINE_PORT',
    flag: '--port',
    kind: 'int',
    default: 8080,
    description: 'HTTP port',
  },
  {
    key: 'host',
    env: 'HOOKLINE_HOST',
    flag: '--host',
    kind: 'string',
    default: '127.0.0.1',
    description: 'interface to listen on',
  },
  {
    key: 'dataDir',
    env: 'HOOKLINE_DATA_DIR',
    flag: '--data-dir',
    kind: 'string',
    default: './.hookline',
    description: 'where the embedded database keeps its files',
  },
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    flag: '--database-url',
    kind: 'string',
    description: 'postgres:// URL of a PostgreSQL server (default: embedded database)',
    secret: true,
  },
  {
    key: 'poolSize',
    env: 'HOOKLINE_POOL_SIZE',
    flag: '--pool-size',
    kind: 'int',
    default: 10,
    description: 'PostgreSQL connections per process',
  },
  {
    key: 'dev',
    env: 'HOOKLINE_DEV',
    flag: '--dev',
    kind: 'bool',
    default: false,
    description: 'allow http:// and private addresses (local development only)',
  },
  {
    key: 'demo',
    env: 'HOOKLINE_DEMO',
    flag: '--demo',
    kind: 'bool',
    default: false,
    description: 'load the demo catalogs of event types',
  },
  {
    key: 'adminKey',
    env: 'HOOKLINE_ADMIN_KEY',
    flag: '--admin-key',
    kind: 'string',
    description:
      'an admin key (at least 32 characters): the first one on an empty database; added to `default` when the database does not know it',
    secret: true,
  },
  {
    key: 'encryptionKey',
    env: 'HOOKLINE_ENCRYPTION_KEY',
    flag: '--encryption-key',
    kind: 'string',
    description: '32-byte key (base64 or hex) encrypting webhook secrets at rest',
    secret: true,
  },
  {
    key: 'allowCidrs',
    env: 'HOOKLINE_ALLOW_CIDRS',
    flag: '--allow-cidrs',
    kind: 'list',
    default: [],
    description: 'comma-separated CIDRs exempt from the private-address guard',
  },
  {
    key: 'portalFrameAncestors',
    env: 'HOOKLINE_PORTAL_FRAME_ANCESTORS',
    flag: '--portal-frame-ancestors',
    kind: 'string',
    default: "'self'",
    description:
      "who may embed /portal in an iframe: space-separated 'self', 'none' or http(s) origins",
  },
  {
    key: 'egressProxy',
    env: 'HOOKLINE_EGRESS_PROXY',
    flag: '--egress-proxy',
    kind: 'string',
    description:
      'http://[user:password@]host:port of an HTTP CONNECT proxy for every delivery (static egress IPs)',
    secret: true,
  },
  {
    key: 'retentionDays',
    env: 'HOOKLINE_RETENTION_DAYS',
    flag: '--retention-days',
    kind: 'int',
    default: 30,
    description: 'days to keep events and delivery attempts',
  },
  {
    key: 'publicUrl',
    env: 'HOOKLINE_PUBLIC_URL',
    flag: '--public-url',
    kind: 'string',
    description:
      'the URL people reach this server at, for portal links (default http://<host>:<port>)',
  },
  {
    key: 'tenantWebhookLimit',
    env: 'HOOKLINE_TENANT_WEBHOOK_LIMIT',
    flag: '--tenant-webhook-limit',
    kind: 'int',
    default: 20,
    description: 'webhooks a tenant may have at most',
  },
  {
    key: 'portalRateLimitPerMinute',
    env: 'HOOKLINE_PORTAL_RATE_LIMIT',
    flag: '--portal-rate-limit',
    kind: 'int',
    default: 300,
    description: 'requests per minute per portal session (0: unlimited)',
  },
  {
    key: 'disableAfterDays',
    env: 'HOOKLINE_DISABLE_AFTER_DAYS',
    flag: '--disable-after-days',
    kind: 'int',
    default: 5,
    description: 'disable a webhook whose deliveries all failed for this many days',
  },
  {
    key: 'circuitFailures',
    env: 'HOOKLINE_CIRCUIT_FAILURES',
    flag: '--circuit-failures',
    kind: 'int',
    default: 5,
    description:
      "failed attempts in a row that open a webhook's circuit: its deliveries wait for one probe to succeed (0: never)",
  },
  {
    key: 'circuitMaxProbeSeconds',
    env: 'HOOKLINE_CIRCUIT_MAX_PROBE_SECONDS',
    flag: '--circuit-max-probe-seconds',
    kind: 'int',
    default: 3600,
    description: 'longest wait between two probes of an open circuit, in seconds',
  },
  {
    key: 'logLevel',
    env: 'HOOKLINE_LOG_LEVEL',
    flag: '--log-level',
    kind: 'string',
    default: 'info',
    description: 'fatal, error, warn, info, debug or trace',
  },
  {
    key: 'logFormat',
    env: 'HOOKLINE_LOG_FORMAT',
    flag: '--log-format',
    kind: 'string',
    description:
      'json or pretty (readable lines); default: pretty when standard error is a terminal, else json',
  },
  {
    key: 'rateLimitPerMinute',
    env: 'HOOKLINE_RATE_LIMIT',
    flag: '--rate-limit',
    kind: 'int',
    default: 600,
    description: 'management API requests per minute per key (0: no limit)',
  },
  {
    key: 'publishRateLimitPerMinute',
    env: 'HOOKLINE_PUBLISH_RATE_LIMIT',
    flag: '--publish-rate-limit',
    kind: 'int',
    default: 600_000,
    description: 'publish requests per minute per key (0: no limit)',
  },
  {
    key: 'testsPerMinute',
    env: 'HOOKLINE_TESTS_PER_MINUTE',
    flag: '--tests-per-minute',
    kind: 'int',
    default: 5,
    description: 'webhook test sends per minute per webhook',
  },
  {
    key: 'worker',
    env: 'HOOKLINE_WORKER',
    flag: '--worker',
    kind: 'bool',
    default: true,
    description: 'run the delivery worker in this process (--no-worker to disable)',
  },
  {
    key: 'metricsPort',
    env: 'HOOKLINE_METRICS_PORT',
    flag: '--metrics-port',
    kind: 'int',
    default: 0,
    description:
      'hookline worker: serve /metrics, /healthz and /readyz on this port at --host (0: none)',
  },
  {
    key: 'workerBatchSize',
    env: 'HOOKLINE_WORKER_BATCH',
    flag: '--worker-batch',
    kind: 'int',
    default: 200,
    description: 'deliveries claimed per batch',
  },
  {
    key: 'workerConcurrency',
    env: 'HOOKLINE_WORKER_CONCURRENCY',
    flag: '--worker-concurrency',
    kind: 'int',
    default: 256,
    description: 'HTTP requests in flight per worker',
  },
  {
    key: 'workerWebhookConcurrency',
    env: 'HOOKLINE_WORKER_WEBHOOK_CONCURRENCY',
    flag: '--worker-webhook-concurrency',
    kind: 'int',
    default: 0,
    description:
      'HTTP requests in flight per webhook per worker, so a slow webhook cannot take every slot (0: a quarter of --worker-concurrency)',
  },
  {
    key: 'drainSeconds',
    env: 'HOOKLINE_DRAIN_SECONDS',
    flag: '--drain-seconds',
    kind: 'int',
    default: 10,
    description: 'on shutdown, seconds to let in-flight attempts finish',
  },
  {
    key: 'leaseSeconds',
    env: 'HOOKLINE_LEASE_SECONDS',
    flag: '--lease-seconds',
    kind: 'int',
    default: 150,
    description: 'lease on a claimed delivery before another worker may retry it',
  },
  {
    key: 'transformMemoryMb',
    env: 'HOOKLINE_TRANSFORM_MEMORY_MB',
    flag: '--transform-memory-mb',
    kind: 'int',
    default: 64,
    description: 'memory limit of one webhook transformation run, in MiB',
  },
  {
    key: 'transformTimeoutMs',
    env: 'HOOKLINE_TRANSFORM_TIMEOUT_MS',
    flag: '--transform-timeout-ms',
    kind: 'int',
    default: 100,
    description: 'time limit of one webhook transformation run, in milliseconds',
  },
];

/**
 * Settings for tests only: read from the environment, never flags of the CLI and not in
 * `--help` or the README's table (the README names them under "Testing"). Tests that start
 * `hookline serve` or `hookline worker` processes set these to make retries fast.
 */
export const testOnlySettings: Array<Omit<Setting, 'flag'>> = [
  {
    key: 'retryDelayScale',
    env: 'HOOKLINE_TEST_RETRY_DELAY_SCALE',
    kind: 'number',
    default: 1,
    description: 'factor applied to retry delays and Retry-After',
  },
  {
    key: 'timeoutScale',
    env: 'HOOKLINE_TEST_TIMEOUT_SCALE',
    kind: 'number',
    default: 1,
    description: 'factor applied to webhook timeouts',
  },
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseValue(s: Pick<Setting, 'kind'>, raw: unknown, source: string): unknown {
  if (s.kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    const v = String(raw).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    throw new ConfigError(`${source}: expected true or false, got "${raw}"`);
  }
  if (s.kind === 'int') {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(`${source}: expected a whole number ≥ 0, got "${raw}"`);
    return n;
  }
  if (s.kind === 'number') {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isFinite(n) || n <= 0)
      throw new ConfigError(`${source}: expected a number > 0, got "${raw}"`);
    return n;
  }
  if (s.kind === 'list') {
    if (Array.isArray(raw)) return raw.map(String);
    return String(raw)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  }
  return String(raw);
}

/**
 * Builds the configuration. `flags` holds values given on the command line,
 * keyed by Config field; undefined means "not given".
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<Record<keyof Config, unknown>> = {},
): Config {
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    let value: unknown = s.default;
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') value = parseValue(s, fromEnv, s.env);
    const fromFlag = flags[s.key];
    if (fromFlag !== undefined) value = parseValue(s, fromFlag, s.flag);
    if (value !== undefined) out[s.key] = value;
  }
  for (const s of testOnlySettings) {
    const fromEnv = env[s.env];
    out[s.key] =
      fromEnv !== undefined && fromEnv !== '' ? parseValue(s, fromEnv, s.env) : s.default;
  }
  const config = out as unknown as Config;
  if (config.port > 65535) throw new ConfigError(`--port: ${config.port} is not a TCP port`);
  if (config.metricsPort > 65535)
    throw new ConfigError(`--metrics-port: ${config.metricsPort} is not a TCP port`);
  if (config.adminKey !== undefined && config.adminKey.length < 32) {
    throw new ConfigError('HOOKLINE_ADMIN_KEY must be at least 32 characters');
  }
  // The API refuses an hk_ key whose checksum is wrong without asking the database, so such a
  // first key would be stored and then never accepted: the admin would be locked out.
  if (config.adminKey?.startsWith('hk_') && !hasValidChecksum(config.adminKey)) {
    throw new ConfigError(
      'HOOKLINE_ADMIN_KEY starts with hk_ but is not a key Hookline made (its checksum does not match): ' +
        'use one that `hookline keys create` printed, or any value of 32 characters or more that does not start with hk_',
    );
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new ConfigError(
      `HOOKLINE_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${config.logLevel}"`,
    );
  }
  if (config.logFormat !== undefined && !LOG_FORMATS.includes(config.logFormat)) {
    throw new ConfigError(
      `HOOKLINE_LOG_FORMAT: expected one of ${LOG_FORMATS.join(', ')}, got "${config.logFormat}"`,
    );
  }
  if (config.databaseUrl !== undefined && !/^postgres(ql)?:\/\//i.test(config.databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// (or postgresql://) URL');
  }
  // Checked here, before the database is touched (the secret box would refuse it only later).
  if (config.encryptionKey !== undefined) {
    const k = config.encryptionKey;
    const bytes = /^[0-9a-fA-F]{64}$/.test(k) ? 32 : Buffer.from(k, 'base64').length;
    if (bytes !== 32) {
      throw new ConfigError(
        'HOOKLINE_ENCRYPTION_KEY must be 32 bytes, as base64 or 64 hex characters (e.g. `openssl rand -base64 32`)',
      );
    }
  }
  if (config.egressProxy !== undefined) {
    try {
      parseProxyUrl(config.egressProxy);
    } catch (err) {
      throw new ConfigError(`HOOKLINE_EGRESS_PROXY: ${(err as Error).message}`);
    }
  }
  try {
    compileAllowList(config.allowCidrs);
  } catch (err) {
    throw new ConfigError(`HOOKLINE_ALLOW_CIDRS: ${(err as Error).message}`);
  }
  try {
    config.portalFrameAncestors = parseFrameAncestors(config.portalFrameAncestors);
  } catch (err) {
    throw new ConfigError(`HOOKLINE_PORTAL_FRAME_ANCESTORS: ${(err as Error).message}`);
  }
  if (config.publicUrl !== undefined && !/^https?:\/\/[^/\s]+/i.test(config.publicUrl)) {
    throw new ConfigError('HOOKLINE_PUBLIC_URL must be an http:// or https:// URL');
  }
  if (config.workerBatchSize < 1 || config.workerConcurrency < 1) {
    throw new ConfigError('--worker-batch and --worker-concurrency must be at least 1');
  }
  if (config.circuitMaxProbeSeconds < 1) {
    throw new ConfigError('--circuit-max-probe-seconds must be at least 1');
  }
  if (config.transformMemoryMb < 1 || config.transformTimeoutMs < 1) {
    throw new ConfigError('--transform-memory-mb and --transform-timeout-ms must be at least 1');
  }
  return config;
}
