import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HooklineError } from '../../errors.js';
import {
  PORTAL_TOKEN_PREFIX,
  hashApiKey,
  hasValidChecksum,
  type Role,
} from '../../core/api-keys.js';
import type { Access, AuthContext } from '../context.js';
import { assertPortalAllowed } from '../portal-scope.js';
import { findPortalSession } from '../../store/portal-sessions.js';

const allowed: Record<Access, readonly Role[]> = {
  read: ['admin', 'viewer'],
  catalog: ['admin', 'viewer', 'publisher'],
  publish: ['admin', 'publisher'],
  admin: ['admin'],
};

// last_used_at is written at most once a minute per key and process: a write per request would
// put an UPDATE on the publish hot path for a value nobody needs to the second.
const LAST_USED_EVERY_MS = 60_000;

/**
 * Known keys are remembered for this long per process, by hash, so a request does not cost a
 * database round trip before its own work (the publish hot path). Revocation: the process that
 * revokes forgets the key at once, and on PostgreSQL every other process hears it by NOTIFY on
 * API_KEY_CHANNEL and forgets it too; a process whose LISTEN connection was down (and missed
 * NOTIFYs) forgets every key when it is back. This time bounds what is left: a revocation
 * written behind the API (SQL) or a LISTEN that could not be opened at all. Unknown keys are
 * never remembered.
 */
export const KEY_CACHE_MS = 5_000;
const KEY_CACHE_MAX = 10_000;
/** NOTIFYed with a key's id when it is revoked (src/api/routes/api-keys.ts). */
export const API_KEY_CHANNEL = 'hookline_api_key_revoked';

interface CachedKey {
  id: string;
  org_id: string;
  role: Role;
  until: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Forgets a key this process may have remembered (call after its revocation commits). */
    forgetApiKey(keyId: string): void;
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The access a route needs: declared in its config, else every GET is `read` and the rest `admin`. */
export function accessOf(request: FastifyRequest): Access {
  return (
    request.routeOptions.config.access ??
    (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin')
  );
}

/**
 * Authenticates every request of the encapsulating plugin (the /api/v1 routes):
 * 401 without a valid key, 403 when the key's role may not do this.
 */
export function registerAuth(app: FastifyInstance, opts: { cacheMs?: number } = {}): void {
  const { db } = app.deps;
  const cacheMs = opts.cacheMs ?? KEY_CACHE_MS;
  const lastUsedWritten = new Map<string, number>();
  const known = new Map<string, CachedKey>();
  // Bumped by every forget: a lookup that started before a revocation must not remember its answer.
  let generation = 0;
  const forget = (keyId: string) => {
    generation++;
    for (const [hash, key] of known) if (key.id === keyId) known.delete(hash);
  };
  app.decorate('forgetApiKey', forget);
  const forgetAll = () => {
    generation++;
    known.clear();
  };

  // Other processes' revocations (PostgreSQL: the embedded store is one process). A failure to
  // LISTEN does not stop the server: those revocations then take up to KEY_CACHE_MS here.
  let unlisten: (() => Promise<void>) | undefined;
  if (db.kind === 'postgres') {
    app.addHook('onReady', async () => {
      // Revocations NOTIFYed while the LISTEN connection was down were lost: forget every key.
      unlisten = await db
        .listen(API_KEY_CHANNEL, forget, { onReconnect: forgetAll })
        .catch((err) => {
          app.log.warn(
            { err },
            `could not LISTEN for API key revocations; those made by other processes apply here within ${cacheMs} ms`,
          );
          return undefined;
        });
    });
    app.addHook('onClose', async () => {
      await unlisten?.();
    });
  }

  async function lookUp(hash: string): Promise<Omit<CachedKey, 'until'> | undefined> {
    const now = Date.now();
    const cached = known.get(hash);
    if (cached && cached.until > now) return cached;
    const started = generation;
    const { rows } = await db.query<{ id: string; org_id: string; role: Role }>(
      'SELECT id, org_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const key = rows[0];
    if (!key) {
      known.delete(hash);
      return undefined;
    }
    if (generation === started) {
      if (known.size >= KEY_CACHE_MAX) known.clear();
      known.set(hash, { ...key, until: now + cacheMs });
    }
    return key;
  }

  app.decorateRequest('auth', null as unknown as AuthContext);
  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    if (!token) throw new HooklineError('UNAUTHORIZED');
    if (token.startsWith(PORTAL_TOKEN_PREFIX)) {
      // Portal sessions are looked up on every request (no cache): expiry, revocation and a
      // tenant switched off apply at once. Their routes are the portal's few, not the publish path.
      const session = hasValidChecksum(token, PORTAL_TOKEN_PREFIX)
        ? await findPortalSession(db, hashApiKey(token))
        : undefined;
      if (!session)
        throw new HooklineError(
          'UNAUTHORIZED',
          'This portal session is not valid, expired or was revoked.',
        );
      request.auth = {
        orgId: session.org_id,
        keyId: session.id,
        role: 'viewer',
        portal: {
          sessionId: session.id,
          tenantId: session.tenant_id,
          readOnly: session.read_only,
          expiresAt: session.expires_at,
        },
      };
      assertPortalAllowed(request, request.auth.portal!);
      return;
    }
    // A key with our prefix but a wrong checksum is a typo or a forgery: no need to ask the database.
    if (token.startsWith('hk_') && !hasValidChecksum(token)) {
      throw new HooklineError('UNAUTHORIZED', 'This API key is not valid.');
    }
    const key = await lookUp(hashApiKey(token));
    if (!key) throw new HooklineError('UNAUTHORIZED', 'This API key is not valid or was revoked.');
    request.auth = { orgId: key.org_id, keyId: key.id, role: key.role };
    const access = accessOf(request);
    if (!allowed[access].includes(key.role)) {
      throw new HooklineError(
        'FORBIDDEN',
        `A ${key.role} key cannot do this; it needs one of: ${allowed[access].join(', ')}.`,
      );
    }
    const now = Date.now();
    if ((lastUsedWritten.get(key.id) ?? 0) + LAST_USED_EVERY_MS < now) {
      lastUsedWritten.set(key.id, now);
      db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [key.id]).catch((err) => {
        request.log.warn({ err }, 'could not record last_used_at');
      });
    }
  });
}
