/**
 * SQL expressions that put names beside the ids a list carries (an API key's name beside
 * `created_by`, a webhook's beside an audit entry's target), so the UI shows "by Deploy bot"
 * rather than "by key_01m8…" (docs/api.md, "Audit log"). They are sub-selects on primary keys,
 * read in the list's own statement: no query per row.
 */

/**
 * Who acted, for a column holding an API key id or a portal session id (the portal acts with
 * its session, docs/portal.md): the key's name, or "Customer portal (<tenant>)"; null for
 * Hookline itself, a key without a name, or one deleted with its organization.
 */
export function actorName(column: string): string {
  return `coalesce(
    (SELECT nullif(k.name, '') FROM api_keys k WHERE k.id = ${column}),
    (SELECT 'Customer portal (' || s.tenant_id || ')' FROM portal_sessions s WHERE s.id = ${column}))`;
}

/**
 * The name of an audit entry's target (alias `a`), by its type: webhook, API key, tenant (its
 * name, else its id) and organization names; an event type's id is its name. A target deleted
 * since falls back to the name recorded in the entry's changes. Null where there is no name
 * (deliveries are known by id).
 */
export const AUDIT_TARGET_NAME = `CASE a.target_type
    WHEN 'webhook' THEN coalesce(
      (SELECT w.name FROM webhooks w WHERE w.org_id = a.org_id AND w.id = a.target_id), a.changes->>'name')
    WHEN 'api_key' THEN coalesce(
      (SELECT nullif(k.name, '') FROM api_keys k WHERE k.org_id = a.org_id AND k.id = a.target_id),
      nullif(a.changes->>'name', ''))
    WHEN 'tenant' THEN coalesce(
      (SELECT nullif(t.name, '') FROM tenants t WHERE t.org_id = a.org_id AND t.id = a.target_id), a.target_id)
    WHEN 'organization' THEN (SELECT o.name FROM organizations o WHERE o.id = a.target_id)
    WHEN 'event_type' THEN a.target_id
    WHEN 'portal_session' THEN
      (SELECT 'Customer portal (' || s.tenant_id || ')' FROM portal_sessions s
        WHERE s.org_id = a.org_id AND s.id = a.target_id)
  END`;

/** created_by_name and updated_by_name of a statement on `webhooks` (unaliased, RETURNING too). */
export const WEBHOOK_KEY_NAMES = `${actorName('webhooks.created_by')} AS created_by_name,
  ${actorName('webhooks.updated_by')} AS updated_by_name`;
