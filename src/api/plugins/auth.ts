import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HooklineError } from '../../errors.js';
import { hashApiKey, hasValidChecksum, type Role } from '../../core/api-keys.js';
import type { Access, AuthContext } from '../context.js';

const allowed: Record<Access, readonly Role[]> = {
  read: ['admin', 'viewer'],
  catalog: ['admin', 'viewer', 'publisher'],
  publish: ['admin', 'publisher'],
  admin: ['admin'],
};

// last_used_at is written at most once a minute per key and process: a write per request would
// put an UPDATE on the publish hot path for a value nobody needs to the second.
const LAST_USED_EVERY_MS = 60_000;

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The access a route needs: declared in its config, else every GET is `read` and the rest `admin`. */
export function accessOf(request: FastifyRequest): Access {
  return request.routeOptions.config.access ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin');
}

/**
 * Authenticates every request of the encapsulating plugin (the /api/v1 routes):
 * 401 without a valid key, 403 when the key's role may not do this.
 */
export function registerAuth(app: FastifyInstance): void {
  const lastUsedWritten = new Map<string, number>();
  app.decorateRequest('auth', null as unknown as AuthContext);
  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    if (!token) throw new HooklineError('UNAUTHORIZED');
    // A key with our prefix but a wrong checksum is a typo or a forgery: no need to ask the database.
    if (token.startsWith('hk_') && !hasValidChecksum(token)) {
      throw new HooklineError('UNAUTHORIZED', 'This API key is not valid.');
    }
    const { rows } = await app.deps.db.query<{ id: string; org_id: string; role: Role }>(
      'SELECT id, org_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hashApiKey(token)],
    );
    const key = rows[0];
    if (!key) throw new HooklineError('UNAUTHORIZED', 'This API key is not valid or was revoked.');
    request.auth = { orgId: key.org_id, keyId: key.id, role: key.role };
    const access = accessOf(request);
    if (!allowed[access].includes(key.role)) {
      throw new HooklineError('FORBIDDEN', `A ${key.role} key cannot do this; it needs one of: ${allowed[access].join(', ')}.`);
    }
    const now = Date.now();
    if ((lastUsedWritten.get(key.id) ?? 0) + LAST_USED_EVERY_MS < now) {
      lastUsedWritten.set(key.id, now);
      app.deps.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [key.id]).catch((err) => {
        request.log.warn({ err }, 'could not record last_used_at');
      });
    }
  });
}
