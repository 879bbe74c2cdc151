import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertInScope, scopedTenant } from '../portal-scope.js';
import { getWebhookRow } from '../../store/webhooks.js';
import { Type, type Static } from '@sinclair/typebox';
import { HooklineError, notFound } from '../../errors.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { ErrorResponses, TenantId } from '../schemas.js';
import { recordAudit } from '../../store/audit.js';
import {
  SHOWN_STATUSES,
  TERMINAL_STATUSES,
  getDelivery,
  listAttempts,
  listDeliveries,
  lockDeliveryForAction,
  toAttemptJson,
  toDeliveryJson,
  type DeliveryFilter,
  type ShownStatus,
} from '../../store/delivery-log.js';
import { markSkipped } from '../../queue/finish.js';
import { requeueDelivery } from '../../queue/retry.js';
import { attemptView } from '../reader-view.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const Delivery = Type.Object({
  id: Type.String(),
  webhook_id: Type.String(),
  tenant_id: Nullable(
    Type.String({ description: 'Its webhook’s tenant; null: the organization’s own.' }),
  ),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Union(
    SHOWN_STATUSES.map((s) => Type.Literal(s)),
    {
      description: '`retrying`: pending again after a failed attempt.',
    },
  ),
  attempts: Type.Integer({ description: 'Attempts made so far.' }),
  next_attempt_at: Nullable(DateTime),
  last_status_code: NullableInt,
  last_error: Nullable(Type.String()),
  last_attempt_at: Nullable(DateTime),
  completed_at: Nullable(DateTime),
  is_test: Type.Boolean(),
  created_at: DateTime,
});

const Attempt = Type.Object({
  id: Type.String(),
  attempt: Type.Integer(),
  started_at: DateTime,
  duration_ms: Type.Integer(),
  request_headers: Type.Record(Type.String(), Type.String()),
  response_status: NullableInt,
  response_headers: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
  response_body: Nullable(Type.String({ description: 'The first 4 KiB.' })),
  error: Nullable(
    Type.String({
      description: 'timeout, connection_refused, dns_failed, tls_error, http_error, …',
    }),
  ),
});

const DeliveryDetail = Type.Composite([
  Delivery,
  Type.Object({
    attempt_log: Type.Array(Attempt, { description: 'Every attempt, first to last.' }),
  }),
]);

const filterFields = {
  status: Type.Optional(
    Type.Union(
      SHOWN_STATUSES.map((s) => Type.Literal(s)),
      {
        description:
          'As shown: `pending` was never tried yet, `retrying` is pending again after a failed attempt.',
      },
    ),
  ),
  event_type: Type.Optional(Type.String({ maxLength: 255 })),
  event_id: Type.Optional(
    Type.String({ maxLength: 64, description: 'The deliveries of one event.' }),
  ),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'created at or after' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'created before' })),
  is_test: Type.Optional(Type.Boolean()),
};
const OrgListQuery = Type.Object(
  {
    ...PageQuery,
    ...filterFields,
    webhook_id: Type.Optional(Type.String({ maxLength: 64 })),
    tenant_id: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);
const WebhookListQuery = Type.Object(
  { ...PageQuery, ...filterFields },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

type ListQuery = Static<typeof OrgListQuery>;

function toFilter(request: FastifyRequest, query: ListQuery, webhookId?: string): DeliveryFilter {
  return {
    webhookId: webhookId ?? query.webhook_id,
    tenantId: scopedTenant(request, query.tenant_id),
    status: query.status as ShownStatus | undefined,
    eventType: query.event_type,
    eventId: query.event_id,
    since: query.since ? new Date(query.since) : undefined,
    until: query.until ? new Date(query.until) : undefined,
    isTest: query.is_test,
    before: decodeCursor(query.cursor),
    limit: query.limit ?? 50,
  };
}

/** The delivery log and the operator's actions on single deliveries. */
export async function deliveryRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['Deliveries'];

  app.get<{ Querystring: ListQuery }>(
    '/deliveries',
    {
      config: { portal: 'read' },
      schema: {
        tags,
        querystring: OrgListQuery,
        response: { 200: PageOf(Delivery), ...ErrorResponses },
      },
    },
    async (request) => {
      const filter = toFilter(request, request.query);
      const rows = await listDeliveries(db, request.auth.orgId, filter);
      return toPage(rows, filter.limit, (r) => r.id, toDeliveryJson);
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof WebhookListQuery> }>(
    '/webhooks/:id/deliveries',
    {
      config: { portal: 'read' },
      schema: {
        tags,
        params: IdParams,
        querystring: WebhookListQuery,
        response: { 200: PageOf(Delivery), ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId } = request.auth;
      const hook = await getWebhookRow(db, orgId, request.params.id);
      if (!hook) throw notFound('Webhook');
      assertInScope(request, hook.tenant_id, 'Webhook');
      const filter = toFilter(request, request.query, request.params.id);
      return toPage(
        await listDeliveries(db, orgId, filter),
        filter.limit,
        (r) => r.id,
        toDeliveryJson,
      );
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/deliveries/:id',
    {
      config: { portal: 'read' },
      schema: { tags, params: IdParams, response: { 200: DeliveryDetail, ...ErrorResponses } },
    },
    async (request) => {
      const row = await getDelivery(db, request.auth.orgId, request.params.id);
      if (!row) throw notFound('Delivery');
      assertInScope(request, row.tenant_id, 'Delivery');
      const attempts = await listAttempts(db, row.id);
      return {
        ...toDeliveryJson(row),
        attempt_log: attempts.map((a) => attemptView(request, toAttemptJson(a))),
      };
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/deliveries/:id/retry',
    {
      config: { portal: 'write' },
      schema: {
        tags,
        params: IdParams,
        response: { 200: Delivery, ...ErrorResponses },
        description:
          'Queues one more attempt now, whatever the status; it does not use up the retry budget.',
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const row = await db.transaction(async (tx) => {
        const current = await lockDeliveryForAction(tx, orgId, request.params.id);
        if (!current) throw notFound('Delivery');
        assertInScope(request, current.tenant_id, 'Delivery');
        // The worker cancels deliveries of a disabled webhook: queueing one would only cancel it.
        if (!current.is_active) {
          throw new HooklineError(
            'CONFLICT',
            'The webhook of this delivery is disabled; enable it, then retry.',
          );
        }
        const updated = await requeueDelivery(tx, orgId, current.id);
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'delivery.retried',
          targetType: 'delivery',
          targetId: current.id,
          tenantId: current.tenant_id,
          changes: { previous_status: current.status, attempts: current.attempts },
        });
        return { ...updated!, tenant_id: current.tenant_id };
      });
      app.deps.wake();
      return toDeliveryJson(row);
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/deliveries/:id/skip',
    {
      schema: {
        tags,
        params: IdParams,
        response: { 200: Delivery, ...ErrorResponses },
        description:
          'Gives up on an unfinished delivery of a fifo webhook, so the ones behind it go out.',
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const row = await db.transaction(async (tx) => {
        const current = await lockDeliveryForAction(tx, orgId, request.params.id);
        if (!current) throw notFound('Delivery');
        if (current.ordering !== 'fifo') {
          throw new HooklineError(
            'CONFLICT',
            'Only deliveries of a fifo webhook can be skipped; nothing waits behind this one.',
          );
        }
        if (TERMINAL_STATUSES.includes(current.status)) {
          throw new HooklineError('CONFLICT', `This delivery is already ${current.status}.`);
        }
        const updated = { ...(await markSkipped(tx, current.id)), tenant_id: current.tenant_id };
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'delivery.skipped',
          targetType: 'delivery',
          targetId: current.id,
          tenantId: current.tenant_id,
          changes: { previous_status: current.status, attempts: current.attempts },
        });
        return updated;
      });
      // The next delivery in the fifo line is due now.
      app.deps.wake();
      return toDeliveryJson(row);
    },
  );
}
