import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { fieldError, notFound, validationFailed } from '../../errors.js';
import { OPERATIONAL_PREFIX } from '../../core/matching.js';
import { PageOf, PageQuery, decodeCursor, toPage } from '../pagination.js';
import { ErrorResponses, ErrorBody, TenantId } from '../schemas.js';
import {
  publishEvents,
  publishSimple,
  type PublishedEvent,
  type PublishInput,
} from '../../store/events.js';
import { listEvents, type EventListRow, type EventRow } from '../../store/event-list.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });
const MAX_BATCH = 500;
// After a type takes the transactional path (it has a schema, or is unknown or archived), single
// publishes of it skip the one-statement attempt for this long instead of paying a round trip for nothing.
const NOT_SIMPLE_FOR_MS = 10_000;
const NOT_SIMPLE_MAX = 10_000;

const IdempotencyKey = Type.String({
  minLength: 1,
  maxLength: 255,
  description: 'Same key within 24 h: the first event is returned.',
});
const EventInput = Type.Object(
  {
    event_type: Type.String({ minLength: 1, maxLength: 255 }),
    payload: Type.Unknown({
      description: 'Any JSON value, at most 256 KiB serialized; becomes `data` in the request.',
    }),
    idempotency_key: Type.Optional(IdempotencyKey),
    tenant_id: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);
const BatchBody = Type.Object(
  { events: Type.Array(EventInput, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);
const Accepted = Type.Object({
  id: Type.String({ description: 'evt_…' }),
  event_type: Type.String(),
  created_at: Timestamp,
  deliveries: Type.Integer({
    description: 'Deliveries created (for a repeated idempotency key: those of the first publish).',
  }),
});
const BatchAccepted = Type.Object({
  data: Type.Array(
    Type.Composite([
      Accepted,
      Type.Object({
        duplicate: Type.Boolean({ description: 'The idempotency key matched an earlier event.' }),
      }),
    ]),
  ),
});
const Delivery = Type.Object({
  id: Type.String(),
  webhook_id: Type.String(),
  status: Type.String({
    description: 'pending, retrying, sending, succeeded, failed, cancelled or skipped',
  }),
  attempts: Type.Integer(),
  next_attempt_at: Nullable(Timestamp),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  last_attempt_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
  created_at: Timestamp,
});
const Event = Type.Object({
  id: Type.String(),
  tenant_id: Nullable(
    Type.String({ description: 'null: published for the organization’s own webhooks' }),
  ),
  event_type: Type.String(),
  payload: Type.Unknown(),
  idempotency_key: Nullable(Type.String()),
  created_at: Timestamp,
});
const Count = Type.Integer({ minimum: 0 });
const DeliveriesSummary = Type.Object(
  {
    total: Count,
    succeeded: Count,
    failed: Count,
    pending: Type.Integer({ minimum: 0, description: 'Queued, no attempt made yet.' }),
    retrying: Type.Integer({ minimum: 0, description: 'Queued again after a failed attempt.' }),
    sending: Count,
    cancelled: Count,
    skipped: Count,
  },
  { description: "The event's deliveries counted by status (docs/delivery-states.md)." },
);
const ListedEvent = Type.Composite([Event, Type.Object({ deliveries_summary: DeliveriesSummary })]);
const EventWithDeliveries = Type.Composite([
  Event,
  Type.Object({ deliveries: Type.Array(Delivery) }),
]);
const ListQuery = Type.Object(
  {
    ...PageQuery,
    event_type: Type.Optional(Type.String({ maxLength: 255 })),
    tenant_id: Type.Optional(TenantId),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
    operational: Type.Optional(
      Type.Union([Type.Literal('false'), Type.Literal('true'), Type.Literal('all')], {
        default: 'all',
        description:
          "`false`: the application's events only; `true`: Hookline's own `hookline.*` events only; `all` (default): both.",
      }),
    ),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const IdempotencyHeader = Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) });

const toAccepted = (e: PublishedEvent) => ({
  id: e.id,
  event_type: e.eventType,
  created_at: e.createdAt.toISOString(),
  deliveries: e.deliveries,
});
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const toEvent = (r: EventRow) => ({
  id: r.id,
  tenant_id: r.tenant_id,
  event_type: r.event_type,
  payload: r.payload,
  idempotency_key: r.idempotency_key,
  created_at: r.created_at.toISOString(),
});

/** One idempotency key per event: from the body or the header, and they must agree. */
function keyOf(bodyKey: string | undefined, headerKey: string | undefined): string | undefined {
  if (bodyKey !== undefined && headerKey !== undefined && bodyKey !== headerKey) {
    throw fieldError(
      'idempotency_key',
      'differs from the Idempotency-Key header; send one or make them equal',
    );
  }
  return bodyKey ?? headerKey;
}

/**
 * Hookline's own events (hookline.webhook.disabled, …) come from Hookline alone: a receiver
 * must be able to trust one, so no API key may publish one.
 */
function refuseOperational(types: string[], field: (i: number) => string): void {
  const problems = types.flatMap((type, i) =>
    type.startsWith(OPERATIONAL_PREFIX)
      ? [
          {
            field: field(i),
            message: `"${type}" is published by Hookline itself, not through the API`,
          },
        ]
      : [],
  );
  if (problems.length > 0) throw validationFailed(problems);
}

/** Publishing events (publisher and admin keys) and reading them back. */
export async function eventRoutes(app: FastifyInstance): Promise<void> {
  const { db, metrics } = app.deps;
  const tags = ['Events'];

  function accepted(published: PublishedEvent[]): void {
    const fresh = published.filter((e) => !e.duplicate);
    if (fresh.length > 0) metrics.eventsAccepted.inc(fresh.length);
    // The route wakes the worker itself after commit (deps.wake coalesces NOTIFYs), so no NOTIFY per publish.
    if (fresh.some((e) => e.deliveries > 0)) app.deps.wake();
  }

  async function publish(
    orgId: string,
    inputs: PublishInput[],
    batch: boolean,
  ): Promise<PublishedEvent[]> {
    const published = await db.transaction((tx) =>
      publishEvents(tx, orgId, inputs, {
        notify: false,
        fieldPrefix: batch ? (i) => `events.${i}.` : undefined,
      }),
    );
    accepted(published);
    return published;
  }

  // Keyed by org and type: when the one-statement path last found the type not plain.
  const notSimple = new Map<string, number>();

  /** One event: one statement in the common case, else the transactional path (every check, exact errors). */
  async function publishOne(orgId: string, input: PublishInput): Promise<PublishedEvent> {
    const hint = `${orgId}\n${input.eventType}`;
    if ((notSimple.get(hint) ?? 0) <= Date.now()) {
      const result = await publishSimple(db, orgId, input);
      if (typeof result !== 'string') {
        accepted([result]);
        return result;
      }
      if (result === 'type') {
        if (notSimple.size >= NOT_SIMPLE_MAX) notSimple.clear();
        notSimple.set(hint, Date.now() + NOT_SIMPLE_FOR_MS);
      }
    }
    const [event] = await publish(orgId, [input], false);
    return event;
  }

  app.post<{ Body: Static<typeof EventInput>; Headers: Static<typeof IdempotencyHeader> }>(
    '/events',
    {
      config: { access: 'publish' },
      // Room for a 256 KiB payload however it is escaped; the payload's own size is checked after parsing (413).
      bodyLimit: 2 * 1024 * 1024,
      schema: {
        tags,
        body: EventInput,
        headers: IdempotencyHeader,
        response: { 200: Accepted, 202: Accepted, 413: ErrorBody, ...ErrorResponses },
      },
    },
    async (request, reply: FastifyReply) => {
      const { event_type, payload, idempotency_key, tenant_id } = request.body;
      refuseOperational([event_type], () => 'event_type');
      const key = keyOf(idempotency_key, request.headers['idempotency-key']);
      const event = await publishOne(request.auth.orgId, {
        eventType: event_type,
        payload,
        idempotencyKey: key,
        tenantId: tenant_id,
      });
      return reply.code(event.duplicate ? 200 : 202).send(toAccepted(event));
    },
  );

  app.post<{ Body: Static<typeof BatchBody> }>(
    '/events/batch',
    {
      config: { access: 'publish' },
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        tags,
        body: BatchBody,
        response: { 202: BatchAccepted, 413: ErrorBody, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const inputs = request.body.events.map((e) => ({
        eventType: e.event_type,
        payload: e.payload,
        idempotencyKey: e.idempotency_key,
        tenantId: e.tenant_id,
      }));
      refuseOperational(
        inputs.map((e) => e.eventType),
        (i) => `events.${i}.event_type`,
      );
      // All or nothing: one bad event fails the batch with its index in the field name.
      const published = await publish(request.auth.orgId, inputs, true);
      return reply
        .code(202)
        .send({ data: published.map((e) => ({ ...toAccepted(e), duplicate: e.duplicate })) });
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/events',
    {
      schema: {
        tags,
        querystring: ListQuery,
        response: { 200: PageOf(ListedEvent), ...ErrorResponses },
      },
    },
    async (request) => {
      const {
        limit = 50,
        cursor,
        event_type,
        since,
        until,
        tenant_id,
        operational,
      } = request.query;
      const rows = await listEvents(db, request.auth.orgId, {
        before: decodeCursor(cursor),
        eventType: event_type,
        tenantId: tenant_id,
        since,
        until,
        operational:
          operational === undefined || operational === 'all' ? undefined : operational === 'true',
        limit,
      });
      return toPage(
        rows,
        limit,
        (r) => r.id,
        (r: EventListRow) => ({
          ...toEvent(r),
          deliveries_summary: r.deliveries_summary,
        }),
      );
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/events/:id',
    {
      schema: { tags, params: IdParams, response: { 200: EventWithDeliveries, ...ErrorResponses } },
    },
    async (request) => {
      const { orgId } = request.auth;
      const { rows } = await db.query<EventRow>(
        'SELECT id, tenant_id, event_type, payload, idempotency_key, created_at FROM events WHERE org_id = $1 AND id = $2',
        [orgId, request.params.id],
      );
      if (!rows[0]) throw notFound('Event');
      const deliveries = await db.query<any>(
        `SELECT id, webhook_id, status, attempts, next_attempt_at, last_status_code, last_error, last_attempt_at, completed_at, created_at
           FROM deliveries WHERE org_id = $1 AND event_id = $2 ORDER BY id`,
        [orgId, request.params.id],
      );
      return {
        ...toEvent(rows[0]),
        deliveries: deliveries.rows.map((d) => ({
          id: d.id,
          webhook_id: d.webhook_id,
          status: d.status === 'pending' && d.attempts > 0 ? 'retrying' : d.status,
          attempts: d.attempts,
          next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
          last_status_code: d.last_status_code,
          last_error: d.last_error,
          last_attempt_at: iso(d.last_attempt_at),
          completed_at: iso(d.completed_at),
          created_at: d.created_at.toISOString(),
        })),
      };
    },
  );
}
