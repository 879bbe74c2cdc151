import type { Db } from './store/db.js';
import { createOrganization, type Organization } from './store/organizations.js';
import { ensureBuiltinEventTypes } from './store/event-types.js';
import { recordAudit } from './store/audit.js';

/** Creates an organization with what every organization has: the built-in hookline.* event types. */
export async function newOrganization(db: Db, name: string): Promise<Organization> {
  return db.transaction(async (tx) => {
    const org = await createOrganization(tx, name);
    await ensureBuiltinEventTypes(tx, org.id);
    await recordAudit(tx, {
      orgId: org.id,
      keyId: null,
      action: 'organization.created',
      targetType: 'organization',
      targetId: org.id,
      changes: { name },
    });
    return org;
  });
}
