import type { FastifyInstance } from 'fastify';
import { eventTypeRoutes } from './event-types.js';
import { apiKeyRoutes } from './api-keys.js';
import { meRoutes } from './me.js';
import { webhookRoutes } from './webhooks.js';
import { deliveryRoutes } from './deliveries.js';
import { eventRoutes } from './events.js';
import { webhookActionRoutes } from './webhook-actions.js';
import { auditLogRoutes } from './audit-log.js';
import { statsRoutes } from './stats.js';
import { relayRoutes } from './relay.js';
import { tenantRoutes } from './tenants.js';
import { portalSessionRoutes } from './portal-sessions.js';
import { portalSettingsRoutes } from './portal-settings.js';
import { routingRoutes } from './routing.js';
import { circuitRoutes } from './circuit.js';

/** Every /api/v1 route group. Each file owns one resource. */
export async function apiRoutes(api: FastifyInstance): Promise<void> {
  await api.register(eventTypeRoutes);
  await api.register(apiKeyRoutes);
  await api.register(meRoutes);
  await api.register(webhookRoutes);
  await api.register(deliveryRoutes);
  await api.register(eventRoutes);
  await api.register(webhookActionRoutes);
  await api.register(auditLogRoutes);
  await api.register(statsRoutes);
  await api.register(relayRoutes);
  await api.register(tenantRoutes);
  await api.register(portalSessionRoutes);
  await api.register(portalSettingsRoutes);
  await api.register(routingRoutes);
  await api.register(circuitRoutes);
}
