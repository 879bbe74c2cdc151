import { newId } from '../ids.js';
import type { Queryable } from './db.js';

export interface AuditEntry {
  orgId: string;
  keyId: string | null;
  /** `<resource>.<verb>`, e.g. `webhook.created`, `delivery.retried`, `api_key.revoked`. */
  action: string;
  targetType: string;
  targetId: string | null;
  /** Changed fields (new values). Never a secret: callers pass redacted values. */
  changes?: Record<string, unknown> | null;
}

/** Records one state change. Pass the transaction that made the change, so both commit together. */
export async function recordAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (id, org_id, key_id, action, target_type, target_id, changes)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [newId('aud'), e.orgId, e.keyId, e.action, e.targetType, e.targetId, e.changes ? JSON.stringify(e.changes) : null],
  );
}
