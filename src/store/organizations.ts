import { newId } from '../ids.js';
import { generateApiKey, hashApiKey, keyPrefix, type Role } from '../core/api-keys.js';
import { PgCode, pgErrorCode, type Queryable } from './db.js';
import { HooklineError } from '../errors.js';

export interface Organization {
  id: string;
  name: string;
  created_at: Date;
}

export async function createOrganization(q: Queryable, name: string): Promise<Organization> {
  try {
    const { rows } = await q.query<Organization>(
      'INSERT INTO organizations (id, name) VALUES ($1, $2) RETURNING id, name, created_at',
      [newId('org'), name],
    );
    return rows[0];
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) {
      throw new HooklineError('CONFLICT', `An organization named "${name}" already exists.`, {
        cause: err,
      });
    }
    throw err;
  }
}

export async function findOrganizationByName(
  q: Queryable,
  name: string,
): Promise<Organization | undefined> {
  const { rows } = await q.query<Organization>(
    'SELECT id, name, created_at FROM organizations WHERE name = $1',
    [name],
  );
  return rows[0];
}

export interface ApiKeyRow {
  id: string;
  org_id: string;
  name: string;
  role: Role;
  key_prefix: string;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export const apiKeyColumns =
  'id, org_id, name, role, key_prefix, created_at, created_by, last_used_at, revoked_at';

/**
 * Creates an API key and returns it with its plain value, which exists only in
 * this return value: the database keeps the hash.
 */
export async function createApiKey(
  q: Queryable,
  opts: { orgId: string; role: Role; name?: string; createdBy?: string | null; plainKey?: string },
): Promise<ApiKeyRow & { key: string }> {
  const key = opts.plainKey ?? generateApiKey();
  const { rows } = await q.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, org_id, name, role, key_hash, key_prefix, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${apiKeyColumns}`,
    [
      newId('key'),
      opts.orgId,
      opts.name ?? '',
      opts.role,
      hashApiKey(key),
      keyPrefix(key),
      opts.createdBy ?? null,
    ],
  );
  return { ...rows[0], key };
}
