/**
 * POST /webhooks/{id}/circuit/reset: an admin (or the tenant's portal) closes a webhook's
 * circuit by hand, so its held deliveries go now (docs/delivery-states.md, "Circuit breaker").
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { notFound } from '../../errors.js';
import { ErrorResponses } from '../schemas.js';
import { assertInScope } from '../portal-scope.js';
import { recordAudit } from '../../store/audit.js';
import { resetCircuit } from '../../store/circuit.js';
import { publishEvents } from '../../store/events.js';
import { circuitView } from '../../core/circuit.js';
import { circuitClosedEvent } from '../../worker/disable-and-announce.js';
import { CircuitSchema } from '../circuit-schema.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const ResetReply = Type.Object({ circuit: CircuitSchema });

/** The circuit-breaker routes of a webhook. */
export async function circuitRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.deps;

  app.post<{ Params: Static<typeof IdParams> }>(
    '/webhooks/:id/circuit/reset',
    {
      // A tenant that fixed its endpoint may release its own queue, as it may replay it.
      config: { portal: 'write' },
      schema: {
        tags: ['Webhooks'],
        summary: 'Close the webhook’s circuit: its held deliveries go now',
        params: IdParams,
        response: { 200: ResetReply, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId } = request.auth;
      const reset = await db.transaction(async (tx) => {
        const r = await resetCircuit(tx, orgId, request.params.id);
        if (!r) throw notFound('Webhook');
        // Thrown inside the transaction: another tenant's webhook is left as it was.
        assertInScope(request, r.row.tenant_id, 'Webhook');
        await recordAudit(tx, {
          orgId,
          keyId,
          action: 'webhook.circuit_reset',
          targetType: 'webhook',
          targetId: r.row.id,
          tenantId: r.row.tenant_id,
          changes: { circuit_state: 'closed', previous_state: r.old_state },
        });
        if (r.old_state !== 'closed') {
          const webhook = {
            webhook_id: r.row.id,
            webhook_name: r.row.name,
            tenant_id: r.row.tenant_id,
            url: r.row.url,
          };
          await publishEvents(tx, orgId, [circuitClosedEvent(webhook, r.old_since, 'reset')]);
        }
        return r;
      });
      // The held deliveries (and any circuit_closed delivery) are due now.
      if (reset.old_state !== 'closed') app.deps.wake();
      return { circuit: circuitView(reset.row) };
    },
  );
}
