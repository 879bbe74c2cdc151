import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { notFound } from '../../errors.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { apiKeyColumns, createApiKey, type ApiKeyRow } from '../../store/organizations.js';
import { recordAudit } from '../../store/audit.js';
import { ErrorResponses } from '../schemas.js';
import { API_KEY_CHANNEL } from '../plugins/auth.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('publisher'), Type.Literal('viewer')]);
const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  key_prefix: Type.String({ description: 'The first characters of the key, to tell keys apart.' }),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const CreatedApiKey = Type.Composite([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'Shown once: store it now.' }) }),
]);
const CreateBody = Type.Object(
  { name: Type.Optional(Type.String({ maxLength: 255 })), role: Role },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ListQuery = Type.Object(
  { ...PageQuery, include_revoked: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);

function toApiKey(row: ApiKeyRow): Static<typeof ApiKey> {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    key_prefix: row.key_prefix,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

/** API keys of the caller's organization: admins only, since a key grants access. */
export async function apiKeyRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['API keys'];

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api-keys',
    {
      config: { access: 'admin' },
      schema: { tags, querystring: ListQuery, response: { 200: PageOf(ApiKey) } },
    },
    async (request) => {
      const { limit = 50, cursor, include_revoked } = request.query;
      const { rows } = await db.query<ApiKeyRow>(
        `SELECT ${apiKeyColumns} FROM api_keys
          WHERE org_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3 OR revoked_at IS NULL)
          ORDER BY id DESC LIMIT $4`,
        [request.auth.orgId, decodeCursor(cursor) ?? null, include_revoked ?? false, limit + 1],
      );
      return toPage(rows, limit, (r) => r.id, toApiKey);
    },
  );

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/api-keys',
    { schema: { tags, body: CreateBody, response: { 201: CreatedApiKey, ...ErrorResponses } } },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      const created = await db.transaction(async (tx) => {
        const key = await createApiKey(tx, {
          orgId,
          role: request.body.role,
          name: request.body.name,
          createdBy: keyId,
        });
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'api_key.created',
          targetType: 'api_key',
          targetId: key.id,
          changes: { role: key.role, name: key.name },
        });
        return key;
      });
      return reply.code(201).send({ ...toApiKey(created), key: created.key });
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api-keys/:id',
    { schema: { tags, params: IdParams, response: { 200: ApiKey, ...ErrorResponses } } },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const row = await db.transaction(async (tx) => {
        const { rows } = await tx.query<ApiKeyRow>(
          `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
            WHERE id = $1 AND org_id = $2 RETURNING ${apiKeyColumns}`,
          [request.params.id, orgId],
        );
        if (!rows[0]) throw notFound('API key');
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'api_key.revoked',
          targetType: 'api_key',
          targetId: rows[0].id,
        });
        // Processes remember keys for a few seconds (plugins/auth.ts): this tells the others, on commit.
        await tx.query('SELECT pg_notify($1, $2)', [API_KEY_CHANNEL, rows[0].id]);
        return rows[0];
      });
      app.forgetApiKey(row.id);
      return toApiKey(row);
    },
  );
}
