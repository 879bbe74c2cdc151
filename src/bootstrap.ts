import type { Db, Queryable } from './store/db.js';
import {
  createApiKey,
  createOrganization,
  findOrganizationByName,
  type Organization,
} from './store/organizations.js';
import { ensureBuiltinEventTypes, loadDemoCatalog } from './store/event-types.js';
import { recordAudit } from './store/audit.js';
import { hashApiKey } from './core/api-keys.js';

// Serialises bootstrap between processes starting at once on one database.
const BOOTSTRAP_LOCK = 72_411_908;

export interface BootstrapResult {
  /** Set only when this call created the default organization on an empty database. */
  created?: { orgId: string; keyId: string; key: string; keyWasGiven: boolean };
  /**
   * What start-up did with what it was told beyond the first start, one sentence each, for the
   * log: a HOOKLINE_ADMIN_KEY added to `default`, `default` created, the demo catalogs loaded.
   * Start-up never drops a setting without a line here.
   */
  notices: Array<{ level: 'info' | 'warn'; message: string }>;
}

/**
 * On an empty database: creates the organization `default` and its first admin
 * key (HOOKLINE_ADMIN_KEY, or a random one the caller prints once). On a
 * database that has organizations, a HOOKLINE_ADMIN_KEY it does not know
 * becomes an admin key of `default` (created when missing), and `demo` creates
 * `default` when missing too. Always makes sure every organization has the
 * built-in `hookline.*` event types, and with `demo` the demo catalogs.
 */
export async function bootstrap(
  db: Db,
  opts: { adminKey?: string; demo?: boolean },
): Promise<BootstrapResult> {
  const result: BootstrapResult = { notices: [] };
  const info = (message: string) => result.notices.push({ level: 'info', message });
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    const { rows } = await tx.query('SELECT 1 FROM organizations LIMIT 1');
    if (rows.length === 0) {
      const org = await createDefault(tx);
      const key = await addAdminKey(tx, org.id, opts.adminKey);
      result.created = {
        orgId: org.id,
        keyId: key.id,
        key: key.key,
        keyWasGiven: opts.adminKey !== undefined,
      };
    } else {
      if (opts.adminKey !== undefined) {
        const known = await tx.query<{ org_name: string; revoked_at: Date | null }>(
          `SELECT o.name AS org_name, k.revoked_at
             FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.key_hash = $1`,
          [hashApiKey(opts.adminKey)],
        );
        const row = known.rows[0];
        if (!row) {
          const { org, created } = await findOrCreateDefault(tx);
          await addAdminKey(tx, org.id, opts.adminKey);
          info(
            `HOOKLINE_ADMIN_KEY was not a key of this database: added it as an admin key of organization "default"${created ? ' (created)' : ''}`,
          );
        } else if (row.revoked_at) {
          // Un-revoking it would undo what an admin did on purpose: say so instead.
          result.notices.push({
            level: 'warn',
            message: `HOOKLINE_ADMIN_KEY is a revoked key of organization "${row.org_name}": the API refuses it; unset it or set a key that is not revoked`,
          });
        }
      }
      if (opts.demo && !(await findOrganizationByName(tx, 'default'))) {
        await createDefault(tx);
        info('--demo: created organization "default" to load the demo catalogs into');
      }
    }
    const orgs = await tx.query<{ id: string; name: string }>(
      'SELECT id, name FROM organizations ORDER BY name',
    );
    for (const org of orgs.rows) {
      await ensureBuiltinEventTypes(tx, org.id);
      if (opts.demo) await loadDemoCatalog(tx, org.id);
    }
    if (opts.demo) {
      info(
        `--demo: the demo catalogs are loaded into organization${orgs.rows.length > 1 ? 's' : ''} ${orgs.rows.map((o) => `"${o.name}"`).join(', ')}`,
      );
    }
  });
  return result;
}

async function findOrCreateDefault(
  tx: Queryable,
): Promise<{ org: Organization; created: boolean }> {
  const found = await findOrganizationByName(tx, 'default');
  return found ? { org: found, created: false } : { org: await createDefault(tx), created: true };
}

/** The organization `default`, with its audit row (built-in event types come after, for all). */
async function createDefault(tx: Queryable): Promise<Organization> {
  const org = await createOrganization(tx, 'default');
  await recordAudit(tx, {
    orgId: org.id,
    keyId: null,
    action: 'organization.created',
    targetType: 'organization',
    targetId: org.id,
    changes: { name: 'default', via: 'bootstrap' },
  });
  return org;
}

async function addAdminKey(tx: Queryable, orgId: string, plainKey: string | undefined) {
  const key = await createApiKey(tx, { orgId, role: 'admin', name: 'bootstrap', plainKey });
  await recordAudit(tx, {
    orgId,
    keyId: null,
    action: 'api_key.created',
    targetType: 'api_key',
    targetId: key.id,
    changes: { role: 'admin', name: 'bootstrap', via: 'bootstrap' },
  });
  return key;
}
