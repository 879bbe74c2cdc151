import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { fieldError } from '../../errors.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { listAudit, type AuditRow } from '../../store/audit.js';
import { ErrorResponses, TenantId } from '../schemas.js';

const AuditEntry = Type.Object({
  id: Type.String(),
  key_id: Type.Union([Type.String(), Type.Null()], {
    description: 'The API key that made the change; null for Hookline itself.',
  }),
  action: Type.String({ description: 'e.g. webhook.created, delivery.retried, api_key.revoked' }),
  target_type: Type.String(),
  target_id: Type.Union([Type.String(), Type.Null()]),
  tenant_id: Type.Union([Type.String(), Type.Null()], {
    description: 'The tenant the change is about; null: the organization’s own.',
  }),
  changes: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
    description:
      'The fields changed and their new values; secrets and header values are never recorded.',
  }),
  created_at: Type.String({ format: 'date-time' }),
  actor_name: Type.Union([Type.String(), Type.Null()], {
    description:
      'The name of the key that made the change ("Customer portal (<tenant>)" for a portal session); null for Hookline itself or a key without a name.',
  }),
  target_name: Type.Union([Type.String(), Type.Null()], {
    description:
      'The name of the target: webhook, API key, tenant, organization or event type; for one deleted since, the name the entry recorded. Null for deliveries.',
  }),
});

const ListQuery = Type.Object(
  {
    ...PageQuery,
    action: Type.Optional(
      Type.String({
        maxLength: 100,
        description: 'An action, or `webhook.*` for every action on a resource type.',
      }),
    ),
    target_type: Type.Optional(Type.String({ maxLength: 100 })),
    target_id: Type.Optional(Type.String({ maxLength: 255 })),
    key_id: Type.Optional(Type.String({ maxLength: 64 })),
    tenant_id: Type.Optional(TenantId),
    since: Type.Optional(
      Type.String({ format: 'date-time', description: 'Entries at or after this time.' }),
    ),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'Entries before this time.' }),
    ),
  },
  { additionalProperties: false },
);

function toEntry(row: AuditRow): Static<typeof AuditEntry> {
  return {
    id: row.id,
    key_id: row.key_id,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    tenant_id: row.tenant_id,
    changes: row.changes,
    created_at: row.created_at.toISOString(),
    actor_name: row.actor_name,
    target_name: row.target_name,
  };
}

/** GET /audit-log: who changed what in the organization, newest first. Admins only. */
export async function auditLogRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/audit-log',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Audit log'],
        description:
          'Every state change of the organization, newest first: key, action, target and changed fields.',
        querystring: ListQuery,
        response: { 200: PageOf(AuditEntry), ...ErrorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const since = q.since ? new Date(q.since) : undefined;
      const until = q.until ? new Date(q.until) : undefined;
      if (since && until && since > until) throw fieldError('until', 'must not be before since');
      const rows = await listAudit(db, request.auth.orgId, {
        action: q.action,
        targetType: q.target_type,
        targetId: q.target_id,
        keyId: q.key_id,
        tenantId: q.tenant_id,
        since,
        until,
        before: decodeCursor(q.cursor),
        limit,
      });
      return toPage(rows, limit, (r) => r.id, toEntry);
    },
  );
}
