import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertInScope } from '../portal-scope.js';
import { Type, type Static } from '@sinclair/typebox';
import { HooklineError, fieldError, notFound } from '../../errors.js';
import { ErrorResponses } from '../schemas.js';
import { recordAudit } from '../../store/audit.js';
import {
  getWebhookRow,
  activeSecrets,
  type PreviousSecret,
  type WebhookRow,
} from '../../store/webhooks.js';
import { countReplay, requeueReplayBatch, type ReplayFilter } from '../../queue/replay.js';
import { insertFinishedTestDelivery } from '../../queue/fan-out.js';
import { insertAttempt } from '../../store/attempts.js';
import { createSecretBox } from '../../core/secret-box.js';
import { generateSecret, secretProblem } from '../../core/signing.js';
import {
  deliveryDispatcher,
  internalFailure,
  type AttemptMessage,
  type AttemptResult,
  type AttemptTarget,
} from '../../worker/send.js';
import { transformAndSend } from '../../worker/executor.js';
import { newId } from '../../ids.js';
import { EVENT_TYPE_NAME } from './event-types.js';
import { createSlidingWindow } from '../sliding-window.js';
import { PublicKeyField } from '../endpoint-security.js';
import { publicKeyOf, rotateSigningKey } from '../../core/endpoint-security.js';
import { attemptEndpoint } from '../../worker/endpoints.js';

/** Deliveries re-queued per transaction by a replay: a big replay never holds one giant transaction. */
export const REPLAY_BATCH = 1000;
const MAX_GRACE_SECONDS = 30 * 24 * 3600;
/**
 * Earlier secrets kept signing at most: every active secret adds a signature to every
 * request, so rotating in a loop must not grow the header without bound. Those whose grace
 * ends soonest are dropped first.
 */
export const MAX_PREVIOUS_SECRETS = 10;

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const RotateBody = Type.Object(
  {
    grace_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_GRACE_SECONDS,
        default: 86400,
        description:
          'How long the old secret keeps signing too (default one day, 0: stop at once).',
      }),
    ),
    secret: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          'The new secret, imported as it is (whsec_ + base64 of 24–64 bytes, or 24–128 printable ASCII characters); generated when absent.',
      }),
    ),
  },
  { additionalProperties: false },
);
const RotateReply = Type.Object({
  secret: Type.String({ description: 'The new secret: whsec_ + base64, or the one imported' }),
  public_key: PublicKeyField,
  previous_secret_expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const ReplayBody = Type.Object(
  {
    since: Type.String({ format: 'date-time', description: 'Deliveries created at or after' }),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'Deliveries created before' }),
    ),
    status: Type.Optional(
      Type.Union([Type.Literal('failed'), Type.Literal('all')], {
        default: 'failed',
        description: '`all`: every finished delivery (succeeded, failed, cancelled, skipped).',
      }),
    ),
    event_type: Type.Optional(Type.String({ maxLength: 255 })),
    dry_run: Type.Optional(Type.Boolean({ description: 'Only count what would be queued.' })),
  },
  { additionalProperties: false },
);
const ReplayReply = Type.Object({
  queued: Type.Optional(Type.Integer()),
  matched: Type.Optional(Type.Integer()),
});
const TestBody = Type.Object(
  {
    event_type: Type.Optional(Type.String({ pattern: EVENT_TYPE_NAME, maxLength: 255 })),
    payload: Type.Optional(Type.Unknown({ description: 'Any JSON; a small sample when absent.' })),
  },
  { additionalProperties: false },
);
const TestReply = Type.Object({
  success: Type.Boolean(),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('skipped')], {
    description: 'How the test delivery ended: `skipped` when the transformation cancelled it.',
  }),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  response_body: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  error_detail: Type.Union([Type.String(), Type.Null()], {
    description: "The error in words, e.g. the transformation's message or cancel reason.",
  }),
  delivery_id: Type.String(),
});

// rotate-secret and test may be called without a body (curl -X POST …): absent means {}, so
// that the body schema, and its defaults, apply as usual.
async function emptyBodyIsObject(request: { body: unknown }): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

/** The type a test sends when none is given: one the webhook subscribes to by name, if any. */
function defaultTestType(row: WebhookRow): string {
  return row.events.find((e) => e !== '*' && !e.endsWith('.*')) ?? 'webhook.test';
}

/** Operator actions on one webhook: rotate its secret, replay its deliveries, send a test. */
export async function webhookActionRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.deps;
  const box = createSecretBox(config.encryptionKey);
  const tags = ['Webhooks'];
  // Per process: with several API processes a webhook may get up to N × the limit. Good
  // enough for its purpose (nobody hammers a receiver through the test button).
  const testWindow = createSlidingWindow(config.testsPerMinute, 60_000);

  /**
   * One attempt shaped like a real delivery's (docs/routing.md): include_fields, then the
   * transformation, which may cancel it (skipped) or fail it (transformation_failed).
   */
  async function attemptLikeADelivery(
    row: WebhookRow,
    message: AttemptMessage,
    target: AttemptTarget,
  ): Promise<{ result: AttemptResult; skipped: boolean }> {
    const send = { dispatcher: deliveryDispatcher(config), timeoutScale: config.timeoutScale };
    try {
      const a = await transformAndSend(row.transformation, target, message, config, send);
      return { result: a.result, skipped: a.kind === 'skip' };
    } catch (err) {
      // As in the worker: Hookline's own problem is a recorded attempt, not a 500.
      return { result: internalFailure(err), skipped: false };
    }
  }

  async function loadOwned(request: FastifyRequest, id: string): Promise<WebhookRow> {
    const row = await getWebhookRow(db, request.auth.orgId, id);
    if (!row) throw notFound('Webhook');
    assertInScope(request, row.tenant_id, 'Webhook');
    return row;
  }

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RotateBody> | undefined }>(
    '/webhooks/:id/rotate-secret',
    {
      // The answer carries the new secret.
      config: { portal: 'secret' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        params: IdParams,
        body: RotateBody,
        response: { 200: RotateReply, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const grace = request.body?.grace_seconds ?? 86400;
      const given = request.body?.secret;
      const problem = given === undefined ? undefined : secretProblem(given);
      if (problem) throw fieldError('secret', problem);
      const secret = given ?? generateSecret();
      const expiresAt = grace > 0 ? new Date(Date.now() + grace * 1000) : null;
      const publicKey = await db.transaction(async (tx) => {
        // Locked, so two rotations at once each keep the other's old secret in the list.
        const { rows } = await tx.query<WebhookRow>(
          'SELECT * FROM webhooks WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE',
          [orgId, request.params.id],
        );
        const row = rows[0];
        if (!row) throw notFound('Webhook');
        assertInScope(request, row.tenant_id, 'Webhook');
        const now = Date.now();
        const previous: PreviousSecret[] = (row.previous_secrets ?? []).filter(
          (p) => new Date(p.expires_at).getTime() > now,
        );
        // Re-sealed: a secret stored before an encryption key was configured gets encrypted now.
        if (expiresAt)
          previous.unshift({
            secret: box.seal(box.open(row.secret)),
            expires_at: expiresAt.toISOString(),
          });
        previous.sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at));
        previous.splice(MAX_PREVIOUS_SECRETS);
        // The ed25519 signing key rotates with the secret, with the same grace.
        const endpoint = rotateSigningKey(
          box,
          row.endpoint_security,
          expiresAt,
          MAX_PREVIOUS_SECRETS,
        );
        await tx.query(
          `UPDATE webhooks SET secret = $3, previous_secrets = $4, updated_at = now(), updated_by = $5,
                  endpoint_security = $6
            WHERE org_id = $1 AND id = $2`,
          [
            orgId,
            row.id,
            box.seal(secret),
            JSON.stringify(previous),
            keyId,
            JSON.stringify(endpoint),
          ],
        );
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'webhook.secret_rotated',
          targetType: 'webhook',
          targetId: row.id,
          tenantId: row.tenant_id,
          changes: {
            grace_seconds: grace,
            secret_imported: given !== undefined,
            previous_secret_expires_at: expiresAt?.toISOString() ?? null,
          },
        });
        return publicKeyOf(box, endpoint);
      });
      return {
        secret,
        public_key: publicKey,
        previous_secret_expires_at: expiresAt?.toISOString() ?? null,
      };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReplayBody> }>(
    '/webhooks/:id/replay',
    {
      config: { portal: 'write' },
      schema: {
        tags,
        params: IdParams,
        body: ReplayBody,
        response: { 200: ReplayReply, ...ErrorResponses },
        description:
          'Queues again every matching finished delivery of this webhook (test sends excepted).',
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const row = await loadOwned(request, request.params.id);
      const { since, until, status = 'failed', event_type, dry_run } = request.body;
      const filter: ReplayFilter = {
        webhookId: row.id,
        since: new Date(since),
        until: until ? new Date(until) : undefined,
        status,
        eventType: event_type,
      };
      if (filter.until && filter.until <= filter.since)
        throw fieldError('until', 'must be after since');
      if (dry_run) return { matched: await countReplay(db, filter) };
      if (!row.is_active)
        throw new HooklineError('CONFLICT', 'This webhook is disabled; enable it, then replay.');
      let queued = 0;
      let after: string | undefined;
      for (;;) {
        const batch = await db.transaction((tx) =>
          requeueReplayBatch(tx, filter, after, REPLAY_BATCH),
        );
        if (batch.count === 0) break;
        queued += batch.count;
        after = batch.lastId;
        // Let the worker start on this batch while the next one is queued.
        app.deps.wake();
        if (batch.count < REPLAY_BATCH) break;
      }
      await recordAudit(db, {
        orgId,
        keyId,
        action: 'webhook.replayed',
        targetType: 'webhook',
        targetId: row.id,
        tenantId: row.tenant_id,
        changes: { since, until: until ?? null, status, event_type: event_type ?? null, queued },
      });
      return { queued };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof TestBody> | undefined }>(
    '/webhooks/:id/test',
    {
      config: { portal: 'write' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        params: IdParams,
        body: TestBody,
        response: { 200: TestReply, ...ErrorResponses },
        description: `Sends one signed request now and waits for it; at most ${config.testsPerMinute} a minute per webhook.`,
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const row = await loadOwned(request, request.params.id);
      const wait = testWindow.take(row.id);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        throw new HooklineError(
          'RATE_LIMITED',
          `At most ${config.testsPerMinute} tests a minute per webhook; retry in ${seconds} s.`,
          {
            headers: { 'retry-after': String(seconds) },
          },
        );
      }
      const eventType = request.body?.event_type ?? defaultTestType(row);
      const payload =
        request.body?.payload !== undefined
          ? request.body.payload
          : { test: true, message: 'A test event sent from Hookline.', webhook_id: row.id };
      const payloadText = JSON.stringify(payload);
      const createdAt = new Date();
      const eventId = newId('evt', createdAt.getTime());
      const deliveryId = newId('dlv', createdAt.getTime());

      const { result, skipped } = await attemptLikeADelivery(
        row,
        { eventId, eventType, createdAt, payloadText, includeFields: row.include_fields },
        {
          url: row.url,
          timeoutSeconds: row.timeout_seconds,
          customHeaders: row.custom_headers,
          secrets: activeSecrets(row, box),
          endpoint: attemptEndpoint(box, config, row.endpoint_security),
        },
      );
      const status = skipped ? 'skipped' : result.ok ? 'succeeded' : 'failed';

      // Written after the send, already finished: the worker never sees it as due, so the
      // test is sent exactly once and never retried. Never claimed, it is not recorded by
      // recordOutcomes, and no follow-up (health, disabling) reads a test.
      await db.transaction(async (tx) => {
        // Locks the webhook against a concurrent DELETE until the test is recorded; deleted
        // during the send, there is nothing to record it under.
        const { rows: still } = await tx.query('SELECT 1 FROM webhooks WHERE id = $1 FOR SHARE', [
          row.id,
        ]);
        if (still.length === 0) throw notFound('Webhook');
        await tx.query(
          // The webhook's tenant owns its test events too: they show in its portal and go with it.
          'INSERT INTO events (id, org_id, event_type, payload, created_at, tenant_id) VALUES ($1, $2, $3, $4, $5, $6)',
          [eventId, orgId, eventType, payloadText, createdAt, row.tenant_id],
        );
        await insertFinishedTestDelivery(tx, {
          id: deliveryId,
          orgId,
          webhookId: row.id,
          eventId,
          eventType,
          status,
          statusCode: result.status,
          error: result.error,
          attemptedAt: result.startedAt,
          createdAt,
        });
        await insertAttempt(tx, {
          orgId,
          deliveryId,
          webhookId: row.id,
          attempt: 1,
          eventId,
          eventType,
          startedAt: result.startedAt,
          durationMs: result.durationMs,
          requestHeaders: result.requestHeaders,
          responseStatus: result.status,
          responseHeaders: result.responseHeaders,
          responseBody: result.responseBody,
          error: result.error,
          errorDetail: result.errorDetail,
        });
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'webhook.tested',
          targetType: 'webhook',
          targetId: row.id,
          tenantId: row.tenant_id,
          changes: {
            delivery_id: deliveryId,
            event_type: eventType,
            success: result.ok,
            status_code: result.status,
          },
        });
      });
      return {
        success: result.ok,
        status,
        status_code: result.status,
        response_body: result.responseBody,
        duration_ms: result.durationMs,
        error: result.error,
        error_detail: result.errorDetail,
        delivery_id: deliveryId,
      };
    },
  );
}
