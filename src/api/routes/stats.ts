import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { fieldError, notFound } from '../../errors.js';
import { ErrorResponses, TenantId } from '../schemas.js';
import { getWebhookRow } from '../../store/webhooks.js';
import { assertInScope, scopedTenant } from '../portal-scope.js';
import { computeStats, failingWebhooks, type StatsWindow } from '../../store/stats.js';
import { webhookTotals } from '../../store/webhook-totals.js';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const WindowName = Type.Union([
  Type.Literal('1h'),
  Type.Literal('24h'),
  Type.Literal('7d'),
  Type.Literal('30d'),
]);

const statsFields = {
  window: WindowName,
  since: DateTime,
  until: DateTime,
  bucket_seconds: Type.Integer({ description: 'Width of each series bucket.' }),
  total: Type.Integer({ description: 'Deliveries created in the window (test sends excepted).' }),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  pending: Type.Integer({ description: 'Not finished yet: pending, retrying or sending.' }),
  success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: 'succeeded / (succeeded + failed), 0 to 1; null when none finished.',
  }),
  avg_attempts: NullableNumber,
  latency_ms: Type.Object(
    { p50: NullableNumber, p95: NullableNumber, p99: NullableNumber },
    { description: 'Response time of the attempts that got an answer.' },
  ),
  series: Type.Array(
    Type.Object({
      start: DateTime,
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      total: Type.Integer(),
    }),
  ),
};
const WebhookStats = Type.Object(statsFields);
const OrgStats = Type.Object({
  ...statsFields,
  failing_webhooks: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      url: Type.String(),
      is_active: Type.Boolean(),
      failure_count: Type.Integer({ description: 'Failed attempts in a row (not deliveries).' }),
      first_failure_at: Type.Union([DateTime, Type.Null()]),
      last_success_at: Type.Union([DateTime, Type.Null()]),
      disabled_reason: Type.Union([Type.String(), Type.Null()]),
    }),
    { description: 'Webhooks failing now or disabled by Hookline, worst first (at most 20).' },
  ),
});
const StatsQuery = Type.Object(
  { window: Type.Optional(Type.Union([WindowName], { default: '24h' })) },
  { additionalProperties: false },
);
const OrgStatsQuery = Type.Object(
  {
    window: Type.Optional(Type.Union([WindowName], { default: '24h' })),
    tenant_id: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
/** At most a list page of ids (500), comma-separated. */
const MAX_TOTALS_IDS = 500;
const TotalsQuery = Type.Object(
  {
    window: Type.Optional(Type.Union([WindowName], { default: '24h' })),
    ids: Type.String({
      maxLength: MAX_TOTALS_IDS * 65,
      pattern: '^[A-Za-z0-9_]{1,64}(,[A-Za-z0-9_]{1,64})*$',
      description: `Comma-separated webhook ids, at most ${MAX_TOTALS_IDS}.`,
    }),
  },
  { additionalProperties: false },
);
const Counts = Type.Array(Type.Integer());
const WebhookTotalsList = Type.Object({
  since: DateTime,
  until: DateTime,
  bucket_seconds: Type.Integer({ description: 'Width of each series bucket.' }),
  buckets: Type.Array(DateTime, { description: 'Start of each bucket, oldest first.' }),
  data: Type.Array(
    Type.Object({
      webhook_id: Type.String(),
      total: Type.Integer(),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      pending: Type.Integer(),
      success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
      series: Type.Object(
        { total: Counts, succeeded: Counts, failed: Counts },
        { description: 'Counts per bucket, aligned with `buckets`.' },
      ),
    }),
  ),
});

/** Delivery statistics for dashboards: of the whole organization, and of one webhook. */
export async function statsRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;
  const tags = ['Stats'];

  app.get<{ Querystring: Static<typeof OrgStatsQuery> }>(
    '/stats',
    {
      // A portal session gets its tenant's statistics only (portal-scope.ts).
      config: { portal: 'read' },
      schema: { tags, querystring: OrgStatsQuery, response: { 200: OrgStats, ...ErrorResponses } },
    },
    async (request) => {
      const { orgId } = request.auth;
      const window = (request.query.window ?? '24h') as StatsWindow;
      const tenantId = scopedTenant(request, request.query.tenant_id) ?? null;
      const [stats, failing] = await Promise.all([
        computeStats(db, orgId, window, null, new Date(), tenantId),
        failingWebhooks(db, orgId, 20, tenantId),
      ]);
      return { ...stats, failing_webhooks: failing };
    },
  );

  app.get<{ Querystring: Static<typeof TotalsQuery> }>(
    '/stats/webhooks',
    {
      // A portal session gets its own tenant's webhooks only; other ids are left out.
      config: { portal: 'read' },
      schema: {
        tags,
        summary: "Many webhooks' delivery counts at once",
        description:
          'The counts and success rate of GET /webhooks/{id}/stats for each of the given webhooks, in one call (for lists). Ids of unknown or out-of-scope webhooks are left out of `data`.',
        querystring: TotalsQuery,
        response: { 200: WebhookTotalsList, ...ErrorResponses },
      },
    },
    async (request) => {
      const ids = [...new Set(request.query.ids.split(','))];
      if (ids.length > MAX_TOTALS_IDS) throw fieldError('ids', `at most ${MAX_TOTALS_IDS} ids`);
      const window = (request.query.window ?? '24h') as StatsWindow;
      const tenantId = scopedTenant(request, undefined) ?? null;
      return webhookTotals(db, request.auth.orgId, window, ids, tenantId);
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof StatsQuery> }>(
    '/webhooks/:id/stats',
    {
      config: { portal: 'read' },
      schema: {
        tags,
        params: IdParams,
        querystring: StatsQuery,
        response: { 200: WebhookStats, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId } = request.auth;
      const row = await getWebhookRow(db, orgId, request.params.id);
      if (!row) throw notFound('Webhook');
      assertInScope(request, row.tenant_id, 'Webhook');
      return computeStats(db, orgId, (request.query.window ?? '24h') as StatsWindow, row.id);
    },
  );
}
