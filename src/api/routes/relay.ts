/**
 * The relay for `hookline listen`: a developer's CLI opens connections TO the
 * server (long-polls), so the local app it forwards to needs no public address.
 * Works with any number of server processes: deliveries are claimed from the
 * database with the worker's lease semantics, and a publish on any process wakes
 * the long-polls of every process through NOTIFY.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { randomBytes } from 'node:crypto';
import { HooklineError, notFound, validationFailed, type FieldError } from '../../errors.js';
import { ErrorResponses } from '../schemas.js';
import { createSecretBox } from '../../core/secret-box.js';
import { secretProblem } from '../../core/signing.js';
import { parseSubscription } from '../../core/webhook-rules.js';
import { activeSecrets } from '../../store/webhooks.js';
import { WAKE_CHANNEL } from '../../store/events.js';
import { recordAudit } from '../../store/audit.js';
import {
  claimRelayDeliveries,
  completeRelayDelivery,
  getRelayWebhook,
  stopRelayWebhook,
  upsertRelayWebhook,
  type RelayWebhookRow,
} from '../../store/relay.js';
import type { AttemptError } from '../../worker/send.js';

const attemptErrors: AttemptError[] = [
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns_failed',
  'tls_error',
  'redirect_not_followed',
  'blocked_destination',
  'http_error',
  'invalid_response',
  'auth_failed',
  'proxy_error',
  'internal_error',
];

const StartBody = Type.Object(
  {
    session: Type.String({
      pattern: '^[A-Za-z0-9._-]{1,100}$',
      description: 'Stable id of one CLI installation and server.',
    }),
    secret: Type.String({
      description: 'The whsec_… secret the CLI keeps, so it is stable across restarts.',
    }),
    events: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
        minItems: 1,
        maxItems: 100,
        default: ['*'],
      }),
    ),
  },
  { additionalProperties: false },
);
const RelayWebhook = Type.Object({
  id: Type.String(),
  name: Type.String(),
  events: Type.Array(Type.String()),
  is_active: Type.Boolean(),
  relay: Type.Boolean(),
  created: Type.Boolean(),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const NextQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 60,
        default: 25,
        description: 'Seconds to hold the request open when nothing is due.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })),
  },
  { additionalProperties: false },
);
const Headers = Type.Record(Type.String(), Type.String());
const NextReply = Type.Object({
  deliveries: Type.Array(
    Type.Object({
      id: Type.String(),
      lease: Type.String({ description: 'Give it back with the result.' }),
      attempt: Type.Integer(),
      event_id: Type.String(),
      event_type: Type.String(),
      created_at: Type.String({ format: 'date-time' }),
      payload_text: Type.String({
        description: 'The payload exactly as stored: it becomes `data`.',
      }),
    }),
  ),
  target: Type.Union([
    Type.Object({
      timeout_seconds: Type.Integer(),
      custom_headers: Headers,
      secrets: Type.Array(Type.String(), { description: 'Active signing secrets, current first.' }),
    }),
    Type.Null(),
  ]),
});
const ResultParams = Type.Object({
  id: Type.String({ maxLength: 100 }),
  deliveryId: Type.String({ maxLength: 100 }),
});
const ResultBody = Type.Object(
  {
    lease: Type.String({ maxLength: 200 }),
    ok: Type.Boolean(),
    started_at: Type.String({ format: 'date-time' }),
    duration_ms: Type.Integer({ minimum: 0 }),
    request_headers: Headers,
    status: Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.Null()]),
    response_headers: Type.Union([Headers, Type.Null()]),
    response_body: Type.Union([Type.String({ maxLength: 8192 }), Type.Null()]),
    error: Type.Union([Type.Union(attemptErrors.map((e) => Type.Literal(e))), Type.Null()]),
    error_detail: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
    retry_after: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
const ResultReply = Type.Object({
  outcome: Type.Union([
    Type.Literal('succeeded'),
    Type.Literal('retrying'),
    Type.Literal('failed'),
  ]),
  attempt: Type.Integer(),
});

export async function relayRoutes(app: FastifyInstance): Promise<void> {
  const { db, config, wake } = app.deps;
  const box = createSecretBox(config.encryptionKey);
  const tags = ['Relay (hookline listen)'];

  // One LISTEN per process, opened on first use; every waiting long-poll hears it.
  const waiters = new Set<() => void>();
  const wakeWaiters = () => {
    for (const w of [...waiters]) w();
  };
  let listening: Promise<(() => Promise<void>) | undefined> | undefined;
  const ensureListening = () =>
    (listening ??= db
      // Back after a lost LISTEN connection: NOTIFYs may have been missed, so every long-poll looks.
      .listen(WAKE_CHANNEL, wakeWaiters, { onReconnect: wakeWaiters })
      .catch((err) => {
        app.log.warn({ err }, 'relay: LISTEN failed; long-polls fall back to polling');
        listening = undefined;
        return undefined;
      }));
  app.addHook('onClose', async () => {
    const unlisten = await listening;
    await unlisten?.();
  });
  const wakeOrTimeout = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });

  async function loadRelay(orgId: string, id: string): Promise<RelayWebhookRow> {
    const row = await getRelayWebhook(db, orgId, id);
    if (!row) throw notFound('Relay webhook');
    return row;
  }

  app.post<{ Body: Static<typeof StartBody> }>(
    '/relay',
    {
      schema: {
        tags,
        body: StartBody,
        response: { 200: RelayWebhook, ...ErrorResponses },
        description: 'Creates or resumes the relay webhook of a `hookline listen` session.',
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const { session, secret, events = ['*'] } = request.body;
      const problems: FieldError[] = [];
      const secretIssue = secretProblem(secret);
      if (secretIssue) problems.push({ field: 'secret', message: secretIssue });
      events.forEach((e, i) => {
        const sub = parseSubscription(e);
        if (typeof sub === 'string')
          problems.push({ field: `events.${i}`, message: `${e}: ${sub}` });
      });
      if (problems.length) throw validationFailed(problems);
      const { row, created } = await db.transaction(async (tx) => {
        const result = await upsertRelayWebhook(tx, {
          orgId,
          session,
          events,
          sealedSecret: box.seal(secret),
          keyId,
        });
        await recordAudit(tx, {
          orgId,
          keyId,
          action: result.created ? 'webhook.created' : 'webhook.updated',
          targetType: 'webhook',
          targetId: result.row.id,
          changes: { relay: true, name: result.row.name, events, is_active: true },
        });
        return result;
      });
      return {
        id: row.id,
        name: row.name,
        events: row.events,
        is_active: row.is_active,
        relay: true,
        created,
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof NextQuery> }>(
    '/relay/:id/next',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        params: IdParams,
        querystring: NextQuery,
        response: { 200: NextReply, ...ErrorResponses },
        description:
          'Long-poll: claims due deliveries of a relay webhook (leased like the worker’s), waiting up to `wait` seconds for one.',
      },
    },
    async (request, reply) => {
      const { orgId } = request.auth;
      const { wait = 25, limit = 10 } = request.query;
      const row = await loadRelay(orgId, request.params.id);
      if (!row.is_active)
        throw new HooklineError(
          'CONFLICT',
          'This relay webhook is stopped; start `hookline listen` again.',
        );
      await ensureListening();
      let gone = false;
      reply.raw.once('close', () => (gone = true));
      const lease = `relay:${randomBytes(12).toString('base64url')}`;
      const deadline = Date.now() + wait * 1000;
      for (;;) {
        // A client that went away must not be handed deliveries it will never send.
        if (gone) return { deliveries: [], target: null };
        const claims = await claimRelayDeliveries(db, row.id, lease, config.leaseSeconds, limit);
        if (claims.length > 0) {
          return {
            deliveries: claims.map((c) => ({
              id: c.id,
              lease,
              attempt: c.attempt,
              event_id: c.eventId,
              event_type: c.eventType,
              created_at: c.createdAt.toISOString(),
              payload_text: c.payloadText,
            })),
            target: {
              timeout_seconds: row.timeout_seconds,
              custom_headers: row.custom_headers ?? {},
              secrets: activeSecrets(row, box),
            },
          };
        }
        const left = deadline - Date.now();
        if (left <= 0) return { deliveries: [], target: null };
        // NOTIFY wakes us at once for new events; the timeout catches retries falling due.
        await wakeOrTimeout(Math.min(1000, left));
      }
    },
  );

  app.post<{ Params: Static<typeof ResultParams>; Body: Static<typeof ResultBody> }>(
    '/relay/:id/deliveries/:deliveryId/result',
    {
      schema: {
        tags,
        params: ResultParams,
        body: ResultBody,
        response: { 200: ResultReply, ...ErrorResponses },
        description:
          'Records the attempt the CLI made for a claimed delivery and schedules what follows, like the worker.',
      },
    },
    async (request) => {
      const { orgId } = request.auth;
      const webhook = await loadRelay(orgId, request.params.id);
      const b = request.body;
      const done = await completeRelayDelivery(db, {
        log: request.log,
        wake,
        webhookId: webhook.id,
        deliveryId: request.params.deliveryId,
        lease: b.lease,
        retryDelayScale: config.retryDelayScale,
        result: {
          ok: b.ok,
          startedAt: new Date(b.started_at),
          durationMs: b.duration_ms,
          requestHeaders: b.request_headers,
          status: b.status,
          responseHeaders: b.response_headers,
          responseBody: b.response_body?.slice(0, 4096) ?? null,
          error: b.error,
          errorDetail: b.error_detail,
          retryAfter: b.retry_after,
        },
      });
      if (!done)
        throw new HooklineError(
          'CONFLICT',
          'This delivery is not leased to you any more (the lease expired or it was claimed again).',
        );
      return done;
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/relay/:id/stop',
    {
      schema: {
        tags,
        params: IdParams,
        response: { 200: Type.Object({ stopped: Type.Boolean() }), ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      if (!(await stopRelayWebhook(db, orgId, request.params.id))) throw notFound('Relay webhook');
      await recordAudit(db, {
        orgId,
        keyId,
        action: 'webhook.updated',
        targetType: 'webhook',
        targetId: request.params.id,
        changes: { is_active: false, relay: true },
      });
      return { stopped: true };
    },
  );
}
