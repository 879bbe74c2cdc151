/**
 * Tenants: the organization's own customers, named by the application's id
 * (docs/tenants.md). Deleting one answers at once: its row and portal sessions
 * go, its webhooks are marked deleted (hidden from the API, no new deliveries)
 * and the worker removes them with their deliveries in bounded batches
 * (purgeDeletedWebhooks).
 */
import type { Queryable } from './db.js';

/** A tenant id: the application's own, so it never stores a Hookline id. */
export const TENANT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';
/** The largest `metadata`, serialized. */
export const MAX_TENANT_METADATA_BYTES = 4096;

export interface TenantRow {
  org_id: string;
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface TenantFields {
  name?: string;
  metadata?: Record<string, unknown>;
  is_active?: boolean;
}

/** The API shape of a tenant. */
export function toTenantJson(row: TenantRow) {
  return {
    id: row.id,
    name: row.name,
    metadata: row.metadata ?? {},
    is_active: row.is_active,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function getTenant(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<TenantRow | undefined> {
  const { rows } = await q.query<TenantRow>('SELECT * FROM tenants WHERE org_id = $1 AND id = $2', [
    orgId,
    id,
  ]);
  return rows[0];
}

/**
 * Creates the tenant or updates the fields given; `created` tells which. An insert that
 * loses a race to another one becomes the update (ON CONFLICT).
 */
export async function upsertTenant(
  q: Queryable,
  orgId: string,
  id: string,
  f: TenantFields,
): Promise<{ row: TenantRow; created: boolean }> {
  const { rows } = await q.query<TenantRow & { created: boolean }>(
    `INSERT INTO tenants (org_id, id, name, metadata, is_active)
     VALUES ($1, $2, coalesce($3, ''), coalesce($4::jsonb, '{}'), coalesce($5, true))
     ON CONFLICT (org_id, id) DO UPDATE SET
       name = coalesce($3, tenants.name),
       metadata = coalesce($4::jsonb, tenants.metadata),
       is_active = coalesce($5, tenants.is_active),
       updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [
      orgId,
      id,
      f.name ?? null,
      f.metadata === undefined ? null : JSON.stringify(f.metadata),
      f.is_active ?? null,
    ],
  );
  const { created, ...row } = rows[0];
  return { row, created };
}

/** Makes the tenant exist (with defaults) when it does not; leaves an existing one as it is. */
export async function ensureTenant(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await q.query(
    'INSERT INTO tenants (org_id, id) VALUES ($1, $2) ON CONFLICT (org_id, id) DO NOTHING',
    [orgId, id],
  );
  return rowCount > 0;
}

/** Updates the fields given of an existing tenant; undefined when there is none. */
export async function updateTenant(
  q: Queryable,
  orgId: string,
  id: string,
  f: TenantFields,
): Promise<TenantRow | undefined> {
  const { rows } = await q.query<TenantRow>(
    `UPDATE tenants SET name = coalesce($3, name), metadata = coalesce($4::jsonb, metadata),
            is_active = coalesce($5, is_active), updated_at = now()
      WHERE org_id = $1 AND id = $2 RETURNING *`,
    [
      orgId,
      id,
      f.name ?? null,
      f.metadata === undefined ? null : JSON.stringify(f.metadata),
      f.is_active ?? null,
    ],
  );
  return rows[0];
}

/** A page of tenants by id; `q` is a prefix of the id or (case-insensitive) of the name. */
export async function listTenants(
  q: Queryable,
  orgId: string,
  opts: { after?: string; limit: number; q?: string; isActive?: boolean },
): Promise<TenantRow[]> {
  const prefix = opts.q === undefined ? null : opts.q.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
  const { rows } = await q.query<TenantRow>(
    `SELECT * FROM tenants
      WHERE org_id = $1 AND ($2::text IS NULL OR id > $2)
        AND ($3::text IS NULL OR id LIKE $3 OR lower(name) LIKE lower($3))
        AND ($4::boolean IS NULL OR is_active = $4)
      ORDER BY id LIMIT $5`,
    [orgId, opts.after ?? null, prefix, opts.isActive ?? null, opts.limit + 1],
  );
  return rows;
}

/** Revokes every live portal session of the tenant (deactivation and deletion). */
export async function revokeTenantSessions(
  q: Queryable,
  orgId: string,
  tenantId: string,
): Promise<number> {
  const { rowCount } = await q.query(
    `UPDATE portal_sessions SET revoked_at = now()
      WHERE org_id = $1 AND tenant_id = $2 AND revoked_at IS NULL`,
    [orgId, tenantId],
  );
  return rowCount;
}

/**
 * Deletes the tenant at once, in the caller's transaction: the row and its portal sessions
 * go; its webhooks are switched off and marked deleted, so they vanish from the API, get no
 * new deliveries, and a tenant later created with the same id starts without them. The worker
 * removes them and their deliveries in batches. Returns the number of webhooks marked, or
 * undefined when there was no such tenant.
 */
export async function deleteTenant(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<number | undefined> {
  const { rowCount } = await q.query('DELETE FROM tenants WHERE org_id = $1 AND id = $2', [
    orgId,
    id,
  ]);
  if (rowCount === 0) return undefined;
  await q.query('DELETE FROM portal_sessions WHERE org_id = $1 AND tenant_id = $2', [orgId, id]);
  const marked = await q.query(
    `UPDATE webhooks SET is_active = false, deleted_at = now(), updated_at = now()
      WHERE org_id = $1 AND tenant_id = $2 AND deleted_at IS NULL`,
    [orgId, id],
  );
  return marked.rowCount;
}

/** Webhooks of the tenant that count against --tenant-webhook-limit (not deleted). */
export async function countTenantWebhooks(
  q: Queryable,
  orgId: string,
  tenantId: string,
): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1 AND tenant_id = $2 AND deleted_at IS NULL',
    [orgId, tenantId],
  );
  return rows[0].n;
}
