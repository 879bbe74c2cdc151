import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { fieldError, notFound } from '../../errors.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { ErrorResponses, TenantId } from '../schemas.js';
import { recordAudit } from '../../store/audit.js';
import type { Queryable } from '../../store/db.js';
import {
  MAX_TENANT_METADATA_BYTES,
  deleteTenant,
  getTenant,
  listTenants,
  revokeTenantSessions,
  toTenantJson,
  updateTenant,
  upsertTenant,
  type TenantFields,
} from '../../store/tenants.js';

const Timestamp = Type.String({ format: 'date-time' });

export const TenantParams = Type.Object({ tenant_id: TenantId });

const Tenant = Type.Object({
  id: TenantId,
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  is_active: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const Body = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 255 })),
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Any JSON object, at most 4 KiB serialized.',
      }),
    ),
    is_active: Type.Optional(
      Type.Boolean({ description: 'false: no deliveries, portal sessions revoked' }),
    ),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    ...PageQuery,
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'A prefix of the id or name.' }),
    ),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function assertMetadata(f: TenantFields): void {
  if (f.metadata === undefined) return;
  const size = Buffer.byteLength(JSON.stringify(f.metadata));
  if (size > MAX_TENANT_METADATA_BYTES)
    throw fieldError('metadata', `is ${size} bytes serialized; at most 4096`);
}

/** After a change: a tenant switched off loses its portal sessions in the same transaction. */
async function afterChange(
  tx: Queryable,
  orgId: string,
  id: string,
  f: TenantFields,
): Promise<void> {
  if (f.is_active === false) await revokeTenantSessions(tx, orgId, id);
}

/** Tenants (docs/tenants.md): admins write; viewers and publishers may read. */
export async function tenantRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['Tenants'];

  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof Body> }>(
    '/tenants/:tenant_id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Create or update a tenant (201 created, 200 updated)',
        params: TenantParams,
        body: Body,
        response: { 200: Tenant, 201: Tenant, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      const id = request.params.tenant_id;
      assertMetadata(request.body);
      const { row, created } = await db.transaction(async (tx) => {
        const done = await upsertTenant(tx, orgId, id, request.body);
        await afterChange(tx, orgId, id, request.body);
        await recordAudit(tx, {
          orgId,
          keyId,
          action: done.created ? 'tenant.created' : 'tenant.updated',
          targetType: 'tenant',
          targetId: id,
          tenantId: id,
          changes: { ...request.body },
        });
        return done;
      });
      return reply.code(created ? 201 : 200).send(toTenantJson(row));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/tenants',
    {
      config: { access: 'catalog' },
      schema: {
        tags,
        querystring: ListQuery,
        response: { 200: PageOf(Tenant), ...ErrorResponses },
      },
    },
    async (request) => {
      const { limit = 50, cursor, q, is_active } = request.query;
      const rows = await listTenants(db, request.auth.orgId, {
        after: decodeCursor(cursor),
        limit,
        q,
        isActive: is_active,
      });
      return toPage(rows, limit, (r) => r.id, toTenantJson);
    },
  );

  app.get<{ Params: Static<typeof TenantParams> }>(
    '/tenants/:tenant_id',
    {
      config: { access: 'catalog' },
      schema: { tags, params: TenantParams, response: { 200: Tenant, ...ErrorResponses } },
    },
    async (request) => {
      const row = await getTenant(db, request.auth.orgId, request.params.tenant_id);
      if (!row) throw notFound('Tenant');
      return toTenantJson(row);
    },
  );

  app.patch<{ Params: Static<typeof TenantParams>; Body: Static<typeof Body> }>(
    '/tenants/:tenant_id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        params: TenantParams,
        body: Body,
        response: { 200: Tenant, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const id = request.params.tenant_id;
      assertMetadata(request.body);
      const row = await db.transaction(async (tx) => {
        const updated = await updateTenant(tx, orgId, id, request.body);
        if (!updated) throw notFound('Tenant');
        await afterChange(tx, orgId, id, request.body);
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'tenant.updated',
          targetType: 'tenant',
          targetId: id,
          tenantId: id,
          changes: { ...request.body },
        });
        return updated;
      });
      return toTenantJson(row);
    },
  );

  app.delete<{ Params: Static<typeof TenantParams> }>(
    '/tenants/:tenant_id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Delete a tenant; its webhooks and deliveries are removed in the background',
        params: TenantParams,
        response: { 204: Type.Null(), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      const id = request.params.tenant_id;
      await db.transaction(async (tx) => {
        const webhooks = await deleteTenant(tx, orgId, id);
        if (webhooks === undefined) throw notFound('Tenant');
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'tenant.deleted',
          targetType: 'tenant',
          targetId: id,
          tenantId: id,
          changes: { webhooks },
        });
      });
      return reply.code(204).send();
    },
  );
}
