import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ErrorResponses } from '../schemas.js';
import { getTenant } from '../../store/tenants.js';
import { getPortalSettings } from '../../store/portal-settings.js';
import { PortalSettingsSchema } from './portal-settings.js';

const PortalMe = Type.Object({
  session_id: Type.String(),
  tenant_id: Type.String(),
  tenant_name: Type.String(),
  read_only: Type.Boolean(),
  expires_at: Type.String({ format: 'date-time' }),
  settings: PortalSettingsSchema,
});

const Me = Type.Object({
  org_id: Type.String(),
  org_name: Type.String(),
  key_id: Type.String({ description: 'The key’s id; for a portal session, the session’s id.' }),
  role: Type.Union([Type.Literal('admin'), Type.Literal('publisher'), Type.Literal('viewer')]),
  portal: Type.Union([PortalMe, Type.Null()], {
    description: 'For a portal session token: its tenant, limits and branding; null for a key.',
  }),
});

/** Who the caller is: lets a client (the admin UI, the portal) learn what it may do without trying. */
export async function meRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  app.get(
    '/me',
    {
      config: { access: 'catalog', portal: 'read' },
      schema: {
        tags: ['API keys'],
        summary: 'The organization and role of the calling key (or portal session)',
        response: { 200: Me, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId, role, portal } = request.auth;
      const { rows } = await db.query<{ name: string }>(
        'SELECT name FROM organizations WHERE id = $1',
        [orgId],
      );
      const base = { org_id: orgId, org_name: rows[0]?.name ?? '', key_id: keyId, role };
      if (!portal) return { ...base, portal: null };
      const [tenant, settings] = await Promise.all([
        getTenant(db, orgId, portal.tenantId),
        getPortalSettings(db, orgId),
      ]);
      return {
        ...base,
        portal: {
          session_id: portal.sessionId,
          tenant_id: portal.tenantId,
          tenant_name: tenant?.name ?? '',
          read_only: portal.readOnly,
          expires_at: portal.expiresAt.toISOString(),
          settings,
        },
      };
    },
  );
}
