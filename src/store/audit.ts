import { newId } from '../ids.js';
import type { Queryable } from './db.js';
import { actorName, AUDIT_TARGET_NAME } from './names.js';

export interface AuditEntry {
  orgId: string;
  keyId: string | null;
  /** `<resource>.<verb>`, e.g. `webhook.created`, `delivery.retried`, `api_key.revoked`. */
  action: string;
  targetType: string;
  targetId: string | null;
  /** Changed fields (new values). Never a secret: callers pass redacted values. */
  changes?: Record<string, unknown> | null;
  /** The tenant the change is about (docs/tenants.md); absent: the organization's own. */
  tenantId?: string | null;
}

/** Records one state change. Pass the transaction that made the change, so both commit together. */
export async function recordAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (id, org_id, key_id, action, target_type, target_id, changes, tenant_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      newId('aud'),
      e.orgId,
      e.keyId,
      e.action,
      e.targetType,
      e.targetId,
      e.changes ? JSON.stringify(e.changes) : null,
      e.tenantId ?? null,
    ],
  );
}

export interface AuditRow {
  id: string;
  org_id: string;
  key_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  changes: Record<string, unknown> | null;
  tenant_id: string | null;
  created_at: Date;
  /** The acting key's name (src/store/names.ts); null for Hookline itself or a key without one. */
  actor_name: string | null;
  /** The target's name (webhook, key, tenant…), where it has one. */
  target_name: string | null;
}

export interface AuditFilter {
  /** Exact action, or `<resource>.*` for every action on a resource. */
  action?: string;
  targetType?: string;
  targetId?: string;
  keyId?: string;
  tenantId?: string;
  since?: Date;
  until?: Date;
  /** Id of the last row of the previous page: rows older than it come next. */
  before?: string;
  limit: number;
}

/**
 * One page of an organization's audit log, newest first, `limit + 1` rows (the
 * extra one tells whether there is a next page). Ids start with their time, so
 * `id < before` pages in creation order on the (org_id, id DESC) index.
 */
export async function listAudit(q: Queryable, orgId: string, f: AuditFilter): Promise<AuditRow[]> {
  const prefix = f.action?.endsWith('.*') ? f.action.slice(0, -1) : null;
  const { rows } = await q.query<AuditRow>(
    `SELECT a.id, a.org_id, a.key_id, a.action, a.target_type, a.target_id, a.changes, a.tenant_id, a.created_at,
            ${actorName('a.key_id')} AS actor_name, ${AUDIT_TARGET_NAME} AS target_name
       FROM audit_log a
      WHERE a.org_id = $1
        AND ($2::text IS NULL OR a.id < $2)
        AND ($3::text IS NULL OR a.action = $3)
        AND ($4::text IS NULL OR starts_with(a.action, $4))
        AND ($5::text IS NULL OR a.target_type = $5)
        AND ($6::text IS NULL OR a.target_id = $6)
        AND ($7::text IS NULL OR a.key_id = $7)
        AND ($8::timestamptz IS NULL OR a.created_at >= $8)
        AND ($9::timestamptz IS NULL OR a.created_at < $9)
        AND ($11::text IS NULL OR a.tenant_id = $11)
      ORDER BY a.id DESC LIMIT $10`,
    [
      orgId,
      f.before ?? null,
      prefix === null ? (f.action ?? null) : null,
      prefix,
      f.targetType ?? null,
      f.targetId ?? null,
      f.keyId ?? null,
      f.since?.toISOString() ?? null,
      f.until?.toISOString() ?? null,
      f.limit + 1,
      f.tenantId ?? null,
    ],
  );
  return rows;
}
