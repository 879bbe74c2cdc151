import type { FastifyBaseLogger, FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config.js';
import { testConfig, type TestConfig } from './config.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { bootstrap } from '../../src/bootstrap.js';
import { newOrganization } from '../../src/new-organization.js';
import { createApiKey } from '../../src/store/organizations.js';
import type { Role } from '../../src/core/api-keys.js';
import type { Db } from '../../src/store/db.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/** A client for one API key: `call('POST', '/webhooks', body)`; paths are relative to /api/v1. */
export type ApiCall = <T = any>(
  method: InjectOptions['method'],
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiResponse<T>>;

export interface OrgFixture {
  orgId: string;
  admin: ApiCall;
  viewer: ApiCall;
  publisher: ApiCall;
  keys: Record<Role, string>;
}

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  database: TestDatabase;
  config: Config;
  metrics: Metrics;
  /** The bootstrap organization `default`, with a key of each role. */
  org: OrgFixture;
  /** Calls with any key, or none. */
  as(key: string | undefined): ApiCall;
  /** Another organization, with a key of each role: for isolation tests. */
  newOrg(name?: string): Promise<OrgFixture>;
  close(): Promise<void>;
}

export function caller(app: FastifyInstance, key: string | undefined): ApiCall {
  return async (method, path, body, headers = {}) => {
    const h: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}) };
    let payload: string | Buffer | undefined;
    if (body !== undefined) {
      // Strings and buffers go as they are, so tests can send malformed JSON or bad bytes.
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await app.inject({
      method,
      url: `/api/v1${path}`,
      headers: { ...h, ...headers },
      payload,
    });
    const isJson = String(res.headers['content-type'] ?? '').includes('application/json');
    return {
      status: res.statusCode,
      body: (isJson && res.body ? res.json() : res.body) as any,
      headers: res.headers,
    };
  };
}

let orgCounter = 0;

/**
 * An app on a fresh database of the store under test, bootstrapped like a first
 * start (organization `default` with an admin key), plus viewer and publisher keys.
 */
export async function createTestApp(
  overrides: Partial<TestConfig> = {},
  opts: { logger?: FastifyBaseLogger } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const { db } = database;
  const config = testConfig(overrides);
  const boot = await bootstrap(db, { demo: config.demo });
  const metrics = createMetrics();
  const app = await buildApp({ db, config, metrics, wake: () => {} }, { logger: opts.logger });
  await app.ready();

  async function fixture(orgId: string, adminKey: string): Promise<OrgFixture> {
    const viewer = await createApiKey(db, { orgId, role: 'viewer', name: 'test viewer' });
    const publisher = await createApiKey(db, { orgId, role: 'publisher', name: 'test publisher' });
    return {
      orgId,
      admin: caller(app, adminKey),
      viewer: caller(app, viewer.key),
      publisher: caller(app, publisher.key),
      keys: { admin: adminKey, viewer: viewer.key, publisher: publisher.key },
    };
  }

  const org = await fixture(boot.created!.orgId, boot.created!.key);
  return {
    app,
    db,
    database,
    config,
    metrics,
    org,
    as: (key) => caller(app, key),
    async newOrg(name = `org${++orgCounter}_${Date.now()}`) {
      const created = await newOrganization(db, name);
      const admin = await createApiKey(db, {
        orgId: created.id,
        role: 'admin',
        name: 'test admin',
      });
      return fixture(created.id, admin.key);
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
