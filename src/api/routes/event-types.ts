import type { FastifyInstance } from 'fastify';
import { portalSeesEventType } from '../portal-scope.js';
import { Type, type Static } from '@sinclair/typebox';
import { HooklineError, fieldError, notFound, validationFailed } from '../../errors.js';
import { schemaProblems } from '../../core/payload-schema.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import {
  categoryOf,
  getEventType,
  isBuiltinEventType,
  type EventTypeRow,
} from '../../store/event-types.js';
import { recordAudit } from '../../store/audit.js';
import { ErrorResponses } from '../schemas.js';

export const EVENT_TYPE_NAME = '^[a-z0-9_]+(\\.[a-z0-9_]+)+$';

const EventType = Type.Object({
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  category: Type.String(),
  schema: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  archived: Type.Boolean(),
  archived_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const Name = Type.String({
  pattern: EVENT_TYPE_NAME,
  minLength: 3,
  maxLength: 255,
  description: 'e.g. ticket.created',
});
const Description = Type.String({ maxLength: 1000 });
const Category = Type.String({ pattern: '^[a-z0-9_]+$', minLength: 1, maxLength: 100 });
const JsonSchema = Type.Object(
  {},
  { additionalProperties: true, description: 'A JSON Schema payloads must satisfy.' },
);

const CreateBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    category: Type.Optional(Category),
    schema: Type.Optional(JsonSchema),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  {
    description: Type.Optional(Type.Union([Description, Type.Null()])),
    category: Type.Optional(Category),
    schema: Type.Optional(Type.Union([JsonSchema, Type.Null()])),
    archived: Type.Optional(Type.Boolean({ description: 'false restores an archived type' })),
  },
  { additionalProperties: false },
);
const NameParams = Type.Object({ name: Type.String({ maxLength: 255 }) });
const ListQuery = Type.Object(
  {
    ...PageQuery,
    category: Type.Optional(Type.String({ maxLength: 100 })),
    include_archived: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export function toEventType(row: EventTypeRow): Static<typeof EventType> {
  return {
    name: row.name,
    description: row.description,
    category: row.category,
    schema: row.schema,
    archived: row.archived_at !== null,
    archived_at: row.archived_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

// A schema is hostile input: bounded, refused when it cannot be run safely, and compiled
// in the schema worker (core/payload-schema.ts); payloads are checked at publish.
async function assertValidSchema(schema: unknown): Promise<void> {
  const problems = await schemaProblems(schema);
  if (problems.length > 0) throw validationFailed(problems);
}

async function loadOwned(app: FastifyInstance, orgId: string, name: string): Promise<EventTypeRow> {
  const row = await getEventType(app.deps.db, orgId, name);
  if (!row) throw notFound('Event type');
  return row;
}

/** The catalog of event types: created by admins, read by every role. */
export async function eventTypeRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['Event types'];

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/event-types',
    {
      config: { access: 'catalog', portal: 'read' },
      schema: { tags, querystring: ListQuery, response: { 200: PageOf(EventType) } },
    },
    async (request) => {
      const { limit = 50, cursor, category, include_archived } = request.query;
      const after = decodeCursor(cursor);
      // A portal session sees the catalog its webhooks may subscribe to (portal-scope.ts).
      const portal = request.auth.portal !== undefined;
      const { rows } = await db.query<EventTypeRow>(
        `SELECT * FROM event_types
          WHERE org_id = $1 AND ($2::text IS NULL OR name > $2) AND ($3::text IS NULL OR category = $3)
            AND ($4 OR archived_at IS NULL) AND NOT ($6 AND name LIKE 'hookline.%')
          ORDER BY name LIMIT $5`,
        [
          request.auth.orgId,
          after ?? null,
          category ?? null,
          (include_archived ?? false) && !portal,
          limit + 1,
          portal,
        ],
      );
      return toPage(rows, limit, (r) => r.name, toEventType);
    },
  );

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/event-types',
    { schema: { tags, body: CreateBody, response: { 201: EventType, ...ErrorResponses } } },
    async (request, reply) => {
      const { name, description, category, schema } = request.body;
      if (isBuiltinEventType(name)) throw fieldError('name', 'the hookline.* names are reserved');
      if (schema !== undefined) await assertValidSchema(schema);
      const { orgId, keyId } = request.auth;
      const row = await db.transaction(async (tx) => {
        const { rows } = await tx.query<EventTypeRow>(
          `INSERT INTO event_types (org_id, name, description, category, schema) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (org_id, name) DO NOTHING RETURNING *`,
          [
            orgId,
            name,
            description ?? null,
            category ?? categoryOf(name),
            schema === undefined ? null : JSON.stringify(schema),
          ],
        );
        if (rows.length === 0) {
          throw new HooklineError(
            'CONFLICT',
            `Event type ${name} already exists (archived ones can be restored with PATCH {"archived": false}).`,
          );
        }
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'event_type.created',
          targetType: 'event_type',
          targetId: name,
          changes: { description, category: rows[0].category, schema },
        });
        return rows[0];
      });
      return reply.code(201).send(toEventType(row));
    },
  );

  app.get<{ Params: Static<typeof NameParams> }>(
    '/event-types/:name',
    {
      config: { access: 'catalog', portal: 'read' },
      schema: { tags, params: NameParams, response: { 200: EventType, ...ErrorResponses } },
    },
    async (request) => {
      const row = await loadOwned(app, request.auth.orgId, request.params.name);
      if (!portalSeesEventType(request, row)) throw notFound('Event type');
      return toEventType(row);
    },
  );

  app.patch<{ Params: Static<typeof NameParams>; Body: Static<typeof PatchBody> }>(
    '/event-types/:name',
    {
      schema: {
        tags,
        params: NameParams,
        body: PatchBody,
        response: { 200: EventType, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const { name } = request.params;
      await loadOwned(app, orgId, name);
      if (isBuiltinEventType(name))
        throw new HooklineError('CONFLICT', 'Built-in hookline.* event types cannot be changed.');
      const body = request.body;
      if (body.schema) await assertValidSchema(body.schema);
      const row = await db.transaction(async (tx) => {
        const { rows } = await tx.query<EventTypeRow>(
          `UPDATE event_types SET
             description = CASE WHEN $3 THEN $4 ELSE description END,
             category = COALESCE($5, category),
             schema = CASE WHEN $6 THEN $7::jsonb ELSE schema END,
             archived_at = CASE WHEN $8::boolean IS NULL THEN archived_at WHEN $8 THEN COALESCE(archived_at, now()) ELSE NULL END,
             updated_at = now()
           WHERE org_id = $1 AND name = $2 RETURNING *`,
          [
            orgId,
            name,
            'description' in body,
            body.description ?? null,
            body.category ?? null,
            'schema' in body,
            body.schema == null ? null : JSON.stringify(body.schema),
            body.archived ?? null,
          ],
        );
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'event_type.updated',
          targetType: 'event_type',
          targetId: name,
          changes: body,
        });
        return rows[0];
      });
      return toEventType(row);
    },
  );

  app.delete<{ Params: Static<typeof NameParams> }>(
    '/event-types/:name',
    { schema: { tags, params: NameParams, response: { 200: EventType, ...ErrorResponses } } },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const { name } = request.params;
      await loadOwned(app, orgId, name);
      if (isBuiltinEventType(name))
        throw new HooklineError('CONFLICT', 'Built-in hookline.* event types cannot be archived.');
      // Archive, not delete: past events keep a type, and webhooks subscribed to it stay valid.
      const row = await db.transaction(async (tx) => {
        const { rows } = await tx.query<EventTypeRow>(
          `UPDATE event_types SET archived_at = COALESCE(archived_at, now()), updated_at = now()
            WHERE org_id = $1 AND name = $2 RETURNING *`,
          [orgId, name],
        );
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'event_type.archived',
          targetType: 'event_type',
          targetId: name,
        });
        return rows[0];
      });
      return toEventType(row);
    },
  );
}
