/**
 * Portal sessions: short-lived hlp_ tokens scoped to one tenant (docs/tenants.md).
 * Only the token's SHA-256 is stored, like an API key's.
 */
import type { Queryable } from './db.js';

export interface PortalSessionRow {
  id: string;
  org_id: string;
  tenant_id: string;
  read_only: boolean;
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Date;
  created_by: string | null;
}

/** The live session with this token hash: not expired, not revoked, its tenant active. */
export async function findPortalSession(
  q: Queryable,
  tokenHash: string,
): Promise<PortalSessionRow | undefined> {
  const { rows } = await q.query<PortalSessionRow>(
    `SELECT s.id, s.org_id, s.tenant_id, s.read_only, s.expires_at, s.revoked_at, s.created_at, s.created_by
       FROM portal_sessions s JOIN tenants t ON t.org_id = s.org_id AND t.id = s.tenant_id
      WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND t.is_active`,
    [tokenHash],
  );
  return rows[0];
}

export async function insertPortalSession(
  q: Queryable,
  s: {
    id: string;
    orgId: string;
    tenantId: string;
    tokenHash: string;
    readOnly: boolean;
    expiresInSeconds: number;
    keyId: string;
  },
): Promise<PortalSessionRow> {
  const { rows } = await q.query<PortalSessionRow>(
    `INSERT INTO portal_sessions (id, org_id, tenant_id, token_hash, read_only, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7)
     RETURNING id, org_id, tenant_id, read_only, expires_at, revoked_at, created_at, created_by`,
    [s.id, s.orgId, s.tenantId, s.tokenHash, s.readOnly, s.expiresInSeconds, s.keyId],
  );
  return rows[0];
}

/** The tenant's sessions that still work (newest first, `limit + 1` rows). */
export async function listActivePortalSessions(
  q: Queryable,
  orgId: string,
  tenantId: string,
  opts: { before?: string; limit: number },
): Promise<PortalSessionRow[]> {
  const { rows } = await q.query<PortalSessionRow>(
    `SELECT id, org_id, tenant_id, read_only, expires_at, revoked_at, created_at, created_by
       FROM portal_sessions
      WHERE org_id = $1 AND tenant_id = $2 AND revoked_at IS NULL AND expires_at > now()
        AND ($3::text IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [orgId, tenantId, opts.before ?? null, opts.limit + 1],
  );
  return rows;
}

/** Revokes one session of the organization; undefined when there is no live one. */
export async function revokePortalSession(
  q: Queryable,
  orgId: string,
  id: string,
): Promise<PortalSessionRow | undefined> {
  const { rows } = await q.query<PortalSessionRow>(
    `UPDATE portal_sessions SET revoked_at = now()
      WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
      RETURNING id, org_id, tenant_id, read_only, expires_at, revoked_at, created_at, created_by`,
    [orgId, id],
  );
  return rows[0];
}

/** The API shape of a session; the token is shown once, at creation, by the route. */
export function toPortalSessionJson(row: PortalSessionRow) {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    read_only: row.read_only,
    expires_at: row.expires_at.toISOString(),
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
  };
}
