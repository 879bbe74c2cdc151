import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  HooklineError,
  fieldError,
  notFound,
  validationFailed,
  type FieldError,
} from '../../errors.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { ErrorResponses, TenantId } from '../schemas.js';
import {
  assertInScope,
  assertPortalMaySet,
  portalBodyTenant,
  scopedTenant,
} from '../portal-scope.js';
import { countTenantWebhooks, ensureTenant } from '../../store/tenants.js';
import { OPERATIONAL_PREFIX } from '../../core/matching.js';
import type { FastifyRequest } from 'fastify';
import { recordAudit } from '../../store/audit.js';
import type { Queryable } from '../../store/db.js';
import {
  deleteWebhook,
  getWebhookRow,
  insertWebhook,
  listWebhookRows,
  settableFields,
  toWebhookJson,
  updateWebhook,
  type WebhookRow,
  type WebhookSettings,
} from '../../store/webhooks.js';
import { customHeaderErrors, parseSubscription } from '../../core/webhook-rules.js';
import { maskCredentialHeaders } from '../../core/credential-headers.js';
import { webhookView } from '../reader-view.js';
import { generateSecret, secretProblem } from '../../core/signing.js';
import { createSecretBox } from '../../core/secret-box.js';
import { assertDestinationAllowed } from '../../net/guard.js';
import { newId } from '../../ids.js';
import type { Config } from '../../config.js';
import {
  PublicKeyField,
  endpointErrors,
  endpointFields,
  endpointViewFields,
  splitEndpointInput,
  writeEndpointSecurity,
} from '../endpoint-security.js';
import {
  applyEndpointInput,
  endpointAudit,
  hasEndpointInput,
  publicKeyOf,
  type EndpointInput,
} from '../../core/endpoint-security.js';
import {
  FilterSchema,
  IncludeFieldsSchema,
  routingErrors,
  transformationErrors,
  TransformationSchema,
} from '../routing-schemas.js';
import { CircuitSchema } from '../circuit-schema.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

const Webhook = Type.Object({
  id: Type.String({ description: 'wh_…' }),
  tenant_id: Nullable(
    Type.String({ description: 'The tenant it belongs to; null for the organization’s own.' }),
  ),
  name: Type.String(),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  custom_headers: Type.Record(Type.String(), Type.String()),
  is_active: Type.Boolean(),
  timeout_seconds: Type.Integer(),
  retry_attempts: Type.Integer(),
  retry_delay_seconds: Type.Integer(),
  rate_limit_per_second: Nullable(Type.Integer()),
  ordering: Type.Union([Type.Literal('none'), Type.Literal('fifo')]),
  filter: Nullable(FilterSchema),
  include_fields: Nullable(IncludeFieldsSchema),
  transformation: Nullable(TransformationSchema),
  circuit_failures: Nullable(Type.Integer()),
  failure_count: Type.Integer({
    description:
      'Failed attempts in a row, every retry counted (not deliveries); 0 after a success.',
  }),
  first_failure_at: Nullable(
    Type.String({
      format: 'date-time',
      description: 'When the current run of failed attempts began; null when not failing.',
    }),
  ),
  last_triggered_at: Nullable(Timestamp),
  last_success_at: Nullable(Timestamp),
  disabled_reason: Nullable(
    Type.String({ description: 'Why Hookline switched the webhook off, if it did.' }),
  ),
  circuit: CircuitSchema,
  created_at: Timestamp,
  updated_at: Timestamp,
  created_by: Nullable(Type.String({ description: 'Key id' })),
  updated_by: Nullable(Type.String({ description: 'Key id' })),
  created_by_name: Nullable(
    Type.String({
      description:
        'The name of the key in created_by ("Customer portal (<tenant>)" for a portal session); null when it has none.',
    }),
  ),
  updated_by_name: Nullable(Type.String({ description: 'The name of the key in updated_by.' })),
  ...endpointViewFields,
});
const SecretOnly = Type.Object({
  secret: Type.String({ description: 'whsec_ + base64, or an imported secret as it was given' }),
});
const SecretAnswer = Type.Composite([SecretOnly, Type.Object({ public_key: PublicKeyField })]);
const CreatedWebhook = Type.Composite([Webhook, SecretOnly]);

// The settable fields. Defaults are applied in code, not by ajv, so a PATCH never gains them.
const fields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  url: Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'https:// (http:// only with --dev)',
  }),
  description: Nullable(Type.String({ maxLength: 1000 })),
  events: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
    minItems: 1,
    maxItems: 256,
    description: 'Event type names, "<category>.*" or "*".',
  }),
  custom_headers: Type.Record(Type.String(), Type.String(), {
    description: 'Sent with every request.',
  }),
  is_active: Type.Boolean({ description: 'default true' }),
  timeout_seconds: Type.Integer({ minimum: 5, maximum: 120, description: 'default 30' }),
  retry_attempts: Type.Integer({
    minimum: 0,
    maximum: 10,
    description: 'Retries after the first attempt; default 5',
  }),
  retry_delay_seconds: Type.Integer({
    minimum: 10,
    maximum: 3600,
    description: 'Base of the backoff; default 60',
  }),
  rate_limit_per_second: Nullable(
    Type.Integer({ minimum: 1, maximum: 100_000, description: 'null: unlimited' }),
  ),
  ordering: Type.Union([Type.Literal('none'), Type.Literal('fifo')], {
    description: 'default none',
  }),
  ...endpointFields,
  filter: Nullable(FilterSchema),
  include_fields: Nullable(IncludeFieldsSchema),
  transformation: Nullable(TransformationSchema),
  circuit_failures: Nullable(
    Type.Integer({
      minimum: 0,
      maximum: 1000,
      description:
        'Failed attempts in a row that open the circuit (0: never); null: the server setting (--circuit-failures, default 5)',
    }),
  ),
};
const CreateBody = Type.Object(
  {
    name: fields.name,
    url: fields.url,
    events: fields.events,
    ...Object.fromEntries(
      (
        [
          'description',
          'custom_headers',
          'is_active',
          'timeout_seconds',
          'retry_attempts',
          'retry_delay_seconds',
          'rate_limit_per_second',
          'ordering',
          'signature_scheme',
          'legacy_signature',
          'tls',
          'auth',
          'proxy_url',
          'filter',
          'include_fields',
          'transformation',
          'circuit_failures',
        ] as const
      ).map((k) => [k, Type.Optional(fields[k])]),
    ),
    secret: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          'whsec_ + base64 of 24–64 bytes (keyed by the decoded bytes), or an imported secret of 24–128 printable ASCII characters (keyed by its UTF-8 bytes); generated when absent',
      }),
    ),
    tenant_id: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ListQuery = Type.Object(
  { ...PageQuery, is_active: Type.Optional(Type.Boolean()), tenant_id: Type.Optional(TenantId) },
  { additionalProperties: false },
);

type CreateInput = Partial<WebhookSettings> &
  Pick<WebhookSettings, 'name' | 'url' | 'events'> & {
    secret?: string;
    tenant_id?: string;
  } & EndpointInput;

const defaults: Omit<WebhookSettings, 'name' | 'url' | 'events'> = {
  description: null,
  custom_headers: {},
  is_active: true,
  timeout_seconds: 30,
  retry_attempts: 5,
  retry_delay_seconds: 60,
  rate_limit_per_second: null,
  ordering: 'none',
  filter: null,
  include_fields: null,
  transformation: null,
  circuit_failures: null,
};

/** Errors in the given subscriptions: malformed patterns, and types or categories this organization lacks. */
async function eventErrors(q: Queryable, orgId: string, events: string[]): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const names: Array<[number, string]> = [];
  const categories: Array<[number, string]> = [];
  events.forEach((entry, i) => {
    const sub = parseSubscription(entry);
    if (typeof sub === 'string') errors.push({ field: `events.${i}`, message: `${entry}: ${sub}` });
    else if (sub.kind === 'type') names.push([i, sub.name]);
    else if (sub.kind === 'category') categories.push([i, sub.category]);
  });
  if (names.length > 0) {
    const { rows } = await q.query<{ name: string }>(
      'SELECT name FROM event_types WHERE org_id = $1 AND name = ANY($2::text[]) AND archived_at IS NULL',
      [orgId, names.map(([, n]) => n)],
    );
    const known = new Set(rows.map((r) => r.name));
    for (const [i, n] of names) {
      if (!known.has(n))
        errors.push({
          field: `events.${i}`,
          message: `${n} is not a registered (non-archived) event type`,
        });
    }
  }
  if (categories.length > 0) {
    // A category is known when some type has it as its category or as its name's first part.
    const { rows } = await q.query<{ c: string }>(
      `SELECT c FROM unnest($2::text[]) AS c WHERE EXISTS (
         SELECT 1 FROM event_types WHERE org_id = $1 AND (category = c OR split_part(name, '.', 1) = c))`,
      [orgId, categories.map(([, c]) => c)],
    );
    const known = new Set(rows.map((r) => r.c));
    for (const [i, c] of categories) {
      if (!known.has(c))
        errors.push({
          field: `events.${i}`,
          message: `${c}.*: no event type has the category ${c}`,
        });
    }
  }
  return errors;
}

/** Checks every rule the schema cannot; throws one 422 naming every bad field. */
async function assertValid(
  q: Queryable,
  config: Config,
  orgId: string,
  body: Partial<CreateInput>,
  current?: WebhookRow,
): Promise<void> {
  const errors: FieldError[] = [];
  if (body.name !== undefined && body.name.trim() === '')
    errors.push({ field: 'name', message: 'must not be blank' });
  if (body.url !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(body.url);
    } catch {
      errors.push({ field: 'url', message: 'is not a valid absolute URL' });
    }
    if (url) {
      try {
        await assertDestinationAllowed(url, config);
      } catch (err) {
        if (!(err instanceof HooklineError) || err.code !== 'VALIDATION_FAILED') throw err;
        errors.push(...(err.details as FieldError[]));
      }
    }
  }
  if (body.events !== undefined) errors.push(...(await eventErrors(q, orgId, body.events)));
  if (body.custom_headers !== undefined) errors.push(...customHeaderErrors(body.custom_headers));
  errors.push(
    ...(await endpointErrors(
      config,
      body,
      body.custom_headers ?? current?.custom_headers,
      current,
    )),
  );
  errors.push(...routingErrors(body));
  if (body.transformation)
    errors.push(...(await transformationErrors(body.transformation, config)));
  if (body.secret !== undefined) {
    const problem = secretProblem(body.secret);
    if (problem) errors.push({ field: 'secret', message: problem });
  }
  if (errors.length > 0) throw validationFailed(errors);
}

/**
 * What the audit log keeps of some settings: credential header values masked, by the predicate
 * that masks them for viewers (docs/security.md, "Header values").
 */
function auditView(settings: Partial<WebhookSettings>): Record<string, unknown> {
  const view: Record<string, unknown> = { ...settings };
  if (settings.custom_headers) view.custom_headers = maskCredentialHeaders(settings.custom_headers);
  return view;
}

/** The given settings whose value differs from the row's. */
function changedSettings(
  row: WebhookRow,
  patch: Partial<WebhookSettings>,
): Partial<WebhookSettings> {
  const out: Record<string, unknown> = {};
  for (const field of settableFields) {
    if (field in patch && JSON.stringify(patch[field]) !== JSON.stringify(row[field]))
      out[field] = patch[field];
  }
  return out as Partial<WebhookSettings>;
}

/**
 * A webhook for a tenant: the tenant is made when it is not registered yet (like Svix's
 * implicit application), and may have at most --tenant-webhook-limit webhooks. The tenant's
 * row is locked so that two creations at once cannot both take the last place.
 */
async function assertTenantRoom(
  tx: Queryable,
  orgId: string,
  tenantId: string,
  limit: number,
): Promise<void> {
  await ensureTenant(tx, orgId, tenantId);
  await tx.query('SELECT 1 FROM tenants WHERE org_id = $1 AND id = $2 FOR UPDATE', [
    orgId,
    tenantId,
  ]);
  const n = await countTenantWebhooks(tx, orgId, tenantId);
  if (n >= limit)
    throw fieldError(
      'tenant_id',
      `tenant ${tenantId} has ${n} webhooks; the limit is ${limit} (--tenant-webhook-limit)`,
    );
}

/** Webhooks CRUD: admins change them, viewers read them; only admins see the secret. */
export async function webhookRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.deps;
  const box = createSecretBox(config.encryptionKey);
  const tags = ['Webhooks'];

  async function loadOwned(request: FastifyRequest, id: string): Promise<WebhookRow> {
    const row = await getWebhookRow(db, request.auth.orgId, id);
    if (!row) throw notFound('Webhook');
    assertInScope(request, row.tenant_id, 'Webhook');
    return row;
  }

  // Hookline's own events go to the organization's webhooks only (docs/tenants.md).
  function assertTenantEvents(tenantId: string | undefined, events: string[] | undefined): void {
    if (tenantId === undefined || events === undefined) return;
    const i = events.findIndex((e) => e.startsWith(OPERATIONAL_PREFIX));
    if (i >= 0)
      throw fieldError(
        `events.${i}`,
        'hookline.* events go to the organization’s own webhooks only',
      );
  }

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/webhooks',
    {
      config: { portal: 'read' },
      schema: {
        tags,
        querystring: ListQuery,
        response: { 200: PageOf(Webhook), ...ErrorResponses },
      },
    },
    async (request) => {
      const { limit = 50, cursor, is_active, tenant_id } = request.query;
      const rows = await listWebhookRows(db, request.auth.orgId, {
        before: decodeCursor(cursor),
        limit,
        isActive: is_active,
        tenantId: scopedTenant(request, tenant_id),
      });
      return toPage(
        rows,
        limit,
        (r) => r.id,
        (r) => webhookView(request, toWebhookJson(r)),
      );
    },
  );

  app.post<{ Body: CreateInput }>(
    '/webhooks',
    {
      config: { portal: 'write' },
      schema: { tags, body: CreateBody, response: { 201: CreatedWebhook, ...ErrorResponses } },
    },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      const [endpoint, { secret: givenSecret, tenant_id: givenTenant, ...given }] =
        splitEndpointInput(request.body);
      const tenantId = portalBodyTenant(request, givenTenant);
      assertPortalMaySet(request, request.body);
      assertTenantEvents(tenantId, given.events);
      await assertValid(db, config, orgId, request.body);
      const settings: WebhookSettings = { ...defaults, ...given };
      const secret = givenSecret ?? generateSecret();
      const row = await db.transaction(async (tx) => {
        if (tenantId !== undefined)
          await assertTenantRoom(tx, orgId, tenantId, config.tenantWebhookLimit);
        const inserted = await insertWebhook(tx, {
          ...settings,
          id: newId('wh'),
          orgId,
          keyId,
          sealedSecret: box.seal(secret),
          tenantId: tenantId ?? null,
        });
        const created = await writeEndpointSecurity(
          tx,
          inserted,
          applyEndpointInput(box, {}, endpoint),
        );
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'webhook.created',
          targetType: 'webhook',
          targetId: created.id,
          changes: {
            ...auditView(settings),
            tenant_id: tenantId ?? null,
            ...endpointAudit(endpoint),
          },
          tenantId,
        });
        return created;
      });
      return reply.code(201).send({ ...webhookView(request, toWebhookJson(row)), secret });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/webhooks/:id',
    {
      config: { portal: 'read' },
      schema: { tags, params: IdParams, response: { 200: Webhook, ...ErrorResponses } },
    },
    async (request) =>
      webhookView(request, toWebhookJson(await loadOwned(request, request.params.id))),
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Partial<WebhookSettings> & EndpointInput }>(
    '/webhooks/:id',
    {
      config: { portal: 'write' },
      schema: {
        tags,
        params: IdParams,
        body: PatchBody,
        response: { 200: Webhook, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const current = await loadOwned(request, request.params.id);
      assertPortalMaySet(request, request.body);
      assertTenantEvents(current.tenant_id ?? undefined, request.body.events);
      await assertValid(db, config, orgId, request.body, current);
      const [endpoint, settings] = splitEndpointInput(request.body);
      const changes = changedSettings(current, settings);
      if (Object.keys(changes).length === 0 && !hasEndpointInput(endpoint))
        return webhookView(request, toWebhookJson(current));
      const row = await db.transaction(async (tx) => {
        let updated = await updateWebhook(tx, orgId, current.id, changes, keyId);
        if (!updated) throw notFound('Webhook');
        if (hasEndpointInput(endpoint))
          updated = await writeEndpointSecurity(
            tx,
            updated,
            applyEndpointInput(box, updated.endpoint_security, endpoint),
          );
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'webhook.updated',
          targetType: 'webhook',
          targetId: current.id,
          changes: { ...auditView(changes), ...endpointAudit(endpoint) },
          tenantId: current.tenant_id,
        });
        return updated;
      });
      return webhookView(request, toWebhookJson(row));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/webhooks/:id',
    {
      config: { portal: 'write' },
      schema: { tags, params: IdParams, response: { 204: Type.Null(), ...ErrorResponses } },
    },
    async (request, reply) => {
      const { orgId, keyId } = request.auth;
      await db.transaction(async (tx) => {
        const row = await getWebhookRow(tx, orgId, request.params.id);
        if (row) assertInScope(request, row.tenant_id, 'Webhook');
        if (!row || !(await deleteWebhook(tx, orgId, row.id))) throw notFound('Webhook');
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'webhook.deleted',
          targetType: 'webhook',
          targetId: row.id,
          changes: { name: row.name, url: row.url },
          tenantId: row.tenant_id,
        });
      });
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/webhooks/:id/secret',
    {
      config: { access: 'admin', portal: 'secret' },
      schema: { tags, params: IdParams, response: { 200: SecretAnswer, ...ErrorResponses } },
    },
    async (request) => {
      const row = await loadOwned(request, request.params.id);
      return { secret: box.open(row.secret), public_key: publicKeyOf(box, row.endpoint_security) };
    },
  );
}
