/** The portal's branding, one row per organization (docs/tenants.md, "Portal settings"). */
import type { Queryable } from './db.js';

export interface PortalSettings {
  title: string | null;
  accent_color: string | null;
  logo_url: string | null;
  support_url: string | null;
}

export const portalSettingFields = ['title', 'accent_color', 'logo_url', 'support_url'] as const;

/** The organization's settings; every field null when none were ever set. */
export async function getPortalSettings(q: Queryable, orgId: string): Promise<PortalSettings> {
  const { rows } = await q.query<PortalSettings>(
    'SELECT title, accent_color, logo_url, support_url FROM portal_settings WHERE org_id = $1',
    [orgId],
  );
  return rows[0] ?? { title: null, accent_color: null, logo_url: null, support_url: null };
}

/** Writes the fields given (null clears one) and returns the whole settings. */
export async function updatePortalSettings(
  q: Queryable,
  orgId: string,
  patch: Partial<PortalSettings>,
): Promise<PortalSettings> {
  const current = await getPortalSettings(q, orgId);
  const next = { ...current, ...patch };
  const { rows } = await q.query<PortalSettings>(
    `INSERT INTO portal_settings (org_id, title, accent_color, logo_url, support_url)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (org_id) DO UPDATE SET title = $2, accent_color = $3, logo_url = $4,
       support_url = $5, updated_at = now()
     RETURNING title, accent_color, logo_url, support_url`,
    [orgId, next.title, next.accent_color, next.logo_url, next.support_url],
  );
  return rows[0];
}
