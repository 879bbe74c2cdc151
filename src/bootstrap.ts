import type { Db } from './store/db.js';
import { createApiKey, createOrganization } from './store/organizations.js';
import { ensureBuiltinEventTypes, loadDemoCatalog } from './store/event-types.js';
import { recordAudit } from './store/audit.js';

// Serialises bootstrap between processes starting at once on one database.
const BOOTSTRAP_LOCK = 72_411_908;

export interface BootstrapResult {
  /** Set only when this call created the default organization. */
  created?: { orgId: string; keyId: string; key: string; keyWasGiven: boolean };
}

/**
 * On an empty database: creates the organization `default` and its first admin
 * key (HOOKLINE_ADMIN_KEY, or a random one the caller prints once). Always makes
 * sure every organization has the built-in `hookline.*` event types, and with
 * `demo` the demo catalogs.
 */
export async function bootstrap(
  db: Db,
  opts: { adminKey?: string; demo?: boolean },
): Promise<BootstrapResult> {
  const result: BootstrapResult = {};
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    const { rows } = await tx.query('SELECT 1 FROM organizations LIMIT 1');
    if (rows.length === 0) {
      const org = await createOrganization(tx, 'default');
      const key = await createApiKey(tx, {
        orgId: org.id,
        role: 'admin',
        name: 'bootstrap',
        plainKey: opts.adminKey,
      });
      await recordAudit(tx, {
        orgId: org.id,
        keyId: null,
        action: 'organization.created',
        targetType: 'organization',
        targetId: org.id,
        changes: { name: 'default', via: 'bootstrap' },
      });
      await recordAudit(tx, {
        orgId: org.id,
        keyId: null,
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: key.id,
        changes: { role: 'admin', name: 'bootstrap', via: 'bootstrap' },
      });
      result.created = {
        orgId: org.id,
        keyId: key.id,
        key: key.key,
        keyWasGiven: opts.adminKey !== undefined,
      };
    }
    const orgs = await tx.query<{ id: string }>('SELECT id FROM organizations');
    for (const org of orgs.rows) {
      await ensureBuiltinEventTypes(tx, org.id);
      if (opts.demo) await loadDemoCatalog(tx, org.id);
    }
  });
  return result;
}
