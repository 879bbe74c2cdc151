import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Metrics } from '../metrics.js';
import type { Role } from '../core/api-keys.js';
import type { PortalCaller } from './portal-scope.js';

/** Everything a route needs, built once per process (or per test) and handed to buildApp. */
export interface AppDeps {
  db: Db;
  config: Config;
  metrics: Metrics;
  /** Tells the delivery worker that new work is due (in-process signal or NOTIFY). */
  wake: () => void;
}

/** Who is calling: set by the auth plugin on every /api/v1 request. */
export interface AuthContext {
  orgId: string;
  /** The API key's id; for a portal session, the session's id (audit entries name it). */
  keyId: string;
  /** A portal session is given `viewer` here; what it may do is decided by portal-scope.ts. */
  role: Role;
  /** Set when the caller is a portal session token (hlp_…), not an API key. */
  portal?: PortalCaller;
}

/**
 * What a route requires of the caller's role:
 * - `read`: admin and viewer (every GET);
 * - `catalog`: admin, viewer and publisher (reading event types);
 * - `publish`: admin and publisher (POST /events);
 * - `admin`: admin only (every change, and reading secrets or the audit log).
 */
export type Access = 'read' | 'catalog' | 'publish' | 'admin';

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
  }
  interface FastifyRequest {
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}
