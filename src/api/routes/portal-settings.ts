import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { validationFailed, type FieldError } from '../../errors.js';
import { ErrorResponses } from '../schemas.js';
import { recordAudit } from '../../store/audit.js';
import {
  getPortalSettings,
  updatePortalSettings,
  type PortalSettings,
} from '../../store/portal-settings.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** The portal's branding as the API shows it (also inside GET /me for a portal session). */
export const PortalSettingsSchema = Type.Object({
  title: Nullable(Type.String({ description: 'Shown at the top of the portal.' })),
  accent_color: Nullable(Type.String({ description: '#rrggbb' })),
  logo_url: Nullable(Type.String({ description: 'https:// URL of an image' })),
  support_url: Nullable(Type.String({ description: 'https:// URL of the help page' })),
});
const PatchBody = Type.Object(
  {
    title: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    accent_color: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' }))),
    logo_url: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    support_url: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
  },
  { additionalProperties: false },
);

/** 422s for URLs that are not absolute https:// URLs (the portal embeds them in its page). */
function urlErrors(body: Partial<PortalSettings>): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['logo_url', 'support_url'] as const) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      errors.push({ field, message: 'is not a valid absolute URL' });
      continue;
    }
    if (url.protocol !== 'https:') errors.push({ field, message: 'must be an https:// URL' });
  }
  return errors;
}

/** GET|PATCH /portal-settings: the organization's portal branding (admins change it). */
export async function portalSettingsRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['Tenants'];

  app.get(
    '/portal-settings',
    { schema: { tags, response: { 200: PortalSettingsSchema, ...ErrorResponses } } },
    async (request) => getPortalSettings(db, request.auth.orgId),
  );

  app.patch<{ Body: Static<typeof PatchBody> }>(
    '/portal-settings',
    {
      config: { access: 'admin' },
      schema: { tags, body: PatchBody, response: { 200: PortalSettingsSchema, ...ErrorResponses } },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const errors = urlErrors(request.body);
      if (errors.length > 0) throw validationFailed(errors);
      return db.transaction(async (tx) => {
        const settings = await updatePortalSettings(tx, orgId, request.body);
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'portal_settings.updated',
          targetType: 'portal_settings',
          targetId: null,
          changes: { ...request.body },
        });
        return settings;
      });
    },
  );
}
