import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HooklineError, notFound } from '../../errors.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { ErrorResponses, TenantId } from '../schemas.js';
import { recordAudit } from '../../store/audit.js';
import { generatePortalToken, hashApiKey } from '../../core/api-keys.js';
import { newId } from '../../ids.js';
import { ensureTenant, getTenant } from '../../store/tenants.js';
import {
  insertPortalSession,
  listActivePortalSessions,
  revokePortalSession,
  toPortalSessionJson,
} from '../../store/portal-sessions.js';
import type { Config } from '../../config.js';

const Timestamp = Type.String({ format: 'date-time' });
const TenantParams = Type.Object({ tenant_id: TenantId });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Session = Type.Object({
  id: Type.String({ description: 'ps_…' }),
  tenant_id: Type.String(),
  read_only: Type.Boolean(),
  expires_at: Timestamp,
  created_at: Timestamp,
  created_by: Type.Union([Type.String(), Type.Null()], { description: 'Key id' }),
});
const CreatedSession = Type.Composite([
  Session,
  Type.Object({
    token: Type.String({ description: 'hlp_…: shown once; a bearer credential on /api/v1' }),
    url: Type.String({ description: '<public URL>/portal#token=<token>' }),
  }),
]);
const CreateBody = Type.Object(
  {
    expires_in: Type.Optional(
      Type.Integer({ minimum: 60, maximum: 86_400, description: 'Seconds; default 3600.' }),
    ),
    read_only: Type.Optional(Type.Boolean({ description: 'default false' })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

/** Where people reach this server: --public-url, else the address it listens on. */
export function publicUrl(config: Config): string {
  const base = config.publicUrl ?? `http://${config.host}:${config.port}`;
  return base.replace(/\/+$/, '');
}

/**
 * Portal sessions (docs/tenants.md): an admin mints a short-lived token for one tenant. The
 * token goes in the URL's fragment, which browsers never send, so it stays out of server logs
 * and Referer headers.
 */
export async function portalSessionRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.deps;
  const tags = ['Tenants'];

  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CreateBody> | undefined }>(
    '/tenants/:tenant_id/portal-sessions',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Mint a portal session for a tenant (made implicitly when unknown)',
        params: TenantParams,
        body: CreateBody,
        response: { 201: CreatedSession, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      const tenantId = request.params.tenant_id;
      const { expires_in = 3600, read_only = false } = request.body ?? {};
      const token = generatePortalToken();
      const row = await db.transaction(async (tx) => {
        await ensureTenant(tx, orgId, tenantId);
        const tenant = await getTenant(tx, orgId, tenantId);
        if (!tenant?.is_active)
          throw new HooklineError('CONFLICT', `Tenant ${tenantId} is not active.`);
        const created = await insertPortalSession(tx, {
          id: newId('ps'),
          orgId,
          tenantId,
          tokenHash: hashApiKey(token),
          readOnly: read_only,
          expiresInSeconds: expires_in,
          keyId,
        });
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'portal_session.created',
          targetType: 'portal_session',
          targetId: created.id,
          changes: { tenant_id: tenantId, read_only, expires_in },
          tenantId,
        });
        return created;
      });
      return reply.code(201).send({
        ...toPortalSessionJson(row),
        token,
        url: `${publicUrl(config)}/portal#token=${token}`,
      });
    },
  );

  app.get<{ Params: Static<typeof TenantParams>; Querystring: Static<typeof ListQuery> }>(
    '/tenants/:tenant_id/portal-sessions',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'The tenant’s sessions that still work (never their tokens)',
        params: TenantParams,
        querystring: ListQuery,
        response: { 200: PageOf(Session), ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId } = request.auth;
      if (!(await getTenant(db, orgId, request.params.tenant_id))) throw notFound('Tenant');
      const { limit = 50, cursor } = request.query;
      const rows = await listActivePortalSessions(db, orgId, request.params.tenant_id, {
        before: decodeCursor(cursor),
        limit,
      });
      return toPage(rows, limit, (r) => r.id, toPortalSessionJson);
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/portal-sessions/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Revoke a portal session',
        params: IdParams,
        response: { 204: Type.Null(), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      await db.transaction(async (tx) => {
        const row = await revokePortalSession(tx, orgId, request.params.id);
        if (!row) throw notFound('Portal session');
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'portal_session.revoked',
          targetType: 'portal_session',
          targetId: row.id,
          changes: { tenant_id: row.tenant_id },
          tenantId: row.tenant_id,
        });
      });
      return reply.code(204).send();
    },
  );
}
