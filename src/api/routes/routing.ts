/**
 * Editor helpers for routing (docs/routing.md): try a filter against recent
 * events, or run a transformation without sending, before saving either on
 * a webhook. Nothing here changes state.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HooklineError, validationFailed } from '../../errors.js';
import { prepareTransformed } from '../../worker/transform-step.js';
import { ErrorResponses } from '../schemas.js';
import { matchesFilter, type Filter } from '../../core/filter.js';
import { FilterSchema, routingErrors, TransformationCode } from '../routing-schemas.js';
import { portalOf } from '../portal-scope.js';

/** How many recent events the filter tester looks at. */
export const FILTER_TEST_EVENTS = 20;

const FilterTestBody = Type.Object(
  {
    filter: Type.Union([FilterSchema, Type.Null()]),
    event_types: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
        maxItems: 256,
        description: 'Event type names; empty or absent: every type.',
      }),
    ),
  },
  { additionalProperties: false },
);
const FilterTestResult = Type.Object({
  data: Type.Array(
    Type.Object({
      id: Type.String(),
      event_type: Type.String(),
      created_at: Type.String({ format: 'date-time' }),
      matches: Type.Boolean(),
    }),
    { description: `The last ${FILTER_TEST_EVENTS} events of those types, newest first.` },
  ),
  matched: Type.Integer(),
});

const SimulateBody = Type.Object(
  {
    code: TransformationCode,
    event_type: Type.String({ minLength: 1, maxLength: 255 }),
    payload: Type.Unknown({ description: 'The event payload (`data` of the body).' }),
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
const SimulateResult = Type.Object({
  cancel: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'Why, when cancelled.' }),
  payload: Type.Unknown({ description: 'The body that would be sent (absent when cancelled).' }),
  url: Type.Union([Type.String(), Type.Null()]),
  headers: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
});

/** The URL a simulation uses when none is given. */
const SIMULATED_URL = 'https://example.com/webhook';

/**
 * `POST /filters/test` (which of the latest events of the given types a filter lets through)
 * and `POST /transformations/simulate`. Both are open to portal sessions, read-only ones too
 * (they change nothing); a portal session's filter test sees its own tenant's events only
 * (docs/portal.md, docs/routing.md).
 */
export async function routingRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['Routing'];

  app.post<{ Body: Static<typeof FilterTestBody> }>(
    '/filters/test',
    {
      config: { access: 'read', portal: 'read' },
      schema: {
        tags,
        body: FilterTestBody,
        response: { 200: FilterTestResult, ...ErrorResponses },
      },
    },
    async (request) => {
      const { filter, event_types = [] } = request.body;
      const errors = routingErrors({ filter: filter as Filter | null });
      if (errors.length > 0) throw validationFailed(errors);
      // A portal session's tenant, never the organization's own events or another tenant's
      // (events_org_tenant_idx); an API key sees every event of the organization.
      const tenant = portalOf(request)?.tenantId ?? null;
      const { rows } = await db.query<{
        id: string;
        event_type: string;
        created_at: Date;
        payload: unknown;
      }>(
        `SELECT id, event_type, created_at, payload FROM events
          WHERE org_id = $1 AND (cardinality($2::text[]) = 0 OR event_type = ANY($2::text[]))
            AND ($4::text IS NULL OR tenant_id = $4)
          ORDER BY id DESC LIMIT $3`,
        [request.auth.orgId, event_types, FILTER_TEST_EVENTS, tenant],
      );
      const data = rows.map((r) => ({
        id: r.id,
        event_type: r.event_type,
        created_at: r.created_at.toISOString(),
        matches:
          !filter || matchesFilter(filter as Filter, { type: r.event_type, data: r.payload }),
      }));
      return { data, matched: data.filter((d) => d.matches).length };
    },
  );

  app.post<{ Body: Static<typeof SimulateBody> }>(
    '/transformations/simulate',
    {
      // Pure: it reads nothing stored, so a portal session may run it as is.
      config: { access: 'read', portal: 'read' },
      schema: {
        tags,
        body: SimulateBody,
        response: { 200: SimulateResult, ...ErrorResponses },
      },
    },
    async (request) => {
      const { code, event_type, payload, url = SIMULATED_URL, headers = {} } = request.body;
      const p = await prepareTransformed(
        { code, enabled: true },
        { url, customHeaders: headers },
        {
          eventId: 'evt_simulated',
          eventType: event_type,
          createdAt: new Date(),
          payloadText: JSON.stringify(payload ?? null),
        },
        app.deps.config,
      );
      if (p.kind === 'fail') {
        throw new HooklineError('TRANSFORMATION_FAILED', p.result.errorDetail ?? undefined, {
          details: [{ field: 'code', code: p.result.error, message: p.result.errorDetail }],
        });
      }
      if (p.kind === 'skip')
        return {
          cancel: true,
          reason: p.result.errorDetail,
          payload: null,
          url: null,
          headers: null,
        };
      return {
        cancel: false,
        reason: null,
        payload: JSON.parse(p.body) as unknown,
        url: p.url,
        headers: p.headers,
      };
    },
  );
}
