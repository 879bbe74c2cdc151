/**
 * What a portal session token may do (docs/tenants.md, "Portal scope"), in one place.
 *
 * A route opens itself to portal tokens by declaring `config.portal`:
 * - `read`: a GET a read-only session may make too;
 * - `write`: a change (refused to read-only sessions);
 * - `secret`: reveals a webhook secret (refused to read-only sessions).
 * A route without a declaration is 403 for every portal token, so a route added later is
 * closed until someone decides otherwise. A route that opens itself must also scope what it
 * reads to the caller's tenant, with the helpers below: another tenant's or the organization's
 * own things are 404, exactly like a missing id.
 */
import type { FastifyRequest } from 'fastify';
import { HooklineError, fieldError, notFound } from '../errors.js';
import { OPERATIONAL_PREFIX } from '../core/matching.js';

export type PortalAccess = 'read' | 'write' | 'secret';

/** A portal session calling (set by the auth plugin beside AuthContext). */
export interface PortalCaller {
  sessionId: string;
  tenantId: string;
  readOnly: boolean;
  expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Whether and how portal session tokens may call this route (see portal-scope.ts). */
    portal?: PortalAccess;
  }
}

/** Throws 403 unless the route is open to this portal session. */
export function assertPortalAllowed(request: FastifyRequest, caller: PortalCaller): void {
  const access = request.routeOptions.config.portal;
  if (access === undefined)
    throw new HooklineError('FORBIDDEN', 'A portal session cannot do this.');
  if (access !== 'read' && caller.readOnly)
    throw new HooklineError('FORBIDDEN', 'This portal session is read-only.');
}

/** The portal session calling, if the caller is one. */
export function portalOf(request: FastifyRequest): PortalCaller | undefined {
  return request.auth.portal;
}

/**
 * The tenant a request is about: a portal session's own, whatever was asked; for an API
 * key the one asked for (undefined: no tenant filter).
 */
export function scopedTenant(request: FastifyRequest, asked?: string): string | undefined {
  return request.auth.portal?.tenantId ?? asked;
}

/** 404 when a portal session reaches for something that is not its tenant's. */
export function assertInScope(
  request: FastifyRequest,
  tenantId: string | null | undefined,
  what = 'Resource',
): void {
  const portal = request.auth.portal;
  if (portal && tenantId !== portal.tenantId) throw notFound(what);
}

/** For a body's tenant_id from a portal session: absent or its own (else 422). */
export function portalBodyTenant(
  request: FastifyRequest,
  given: string | undefined,
): string | undefined {
  const portal = request.auth.portal;
  if (!portal) return given;
  if (given !== undefined && given !== portal.tenantId)
    throw fieldError('tenant_id', 'a portal session creates webhooks for its own tenant only');
  return portal.tenantId;
}

/** The event catalog a portal shows: no archived types, none of Hookline's own. */
export function portalSeesEventType(
  request: FastifyRequest,
  t: { name: string; archived_at: Date | null },
): boolean {
  if (!request.auth.portal) return true;
  return t.archived_at === null && !t.name.startsWith(OPERATIONAL_PREFIX);
}

/** Webhook fields that are the organization's to set and see, never a portal session's. */
const ADMIN_ONLY_WEBHOOK_FIELDS = ['proxy_url'] as const;

/**
 * 403 when a portal session's webhook body sets an admin-only field (the proxy a tenant's
 * deliveries leave through is the organization's network, not the tenant's to choose).
 */
export function assertPortalMaySet(request: FastifyRequest, body: object): void {
  if (!request.auth.portal) return;
  const field = ADMIN_ONLY_WEBHOOK_FIELDS.find((f) => f in body);
  if (field)
    throw new HooklineError('FORBIDDEN', `A portal session cannot set ${field}.`, {
      details: [{ field, message: 'only an API key of the organization may set it' }],
    });
}

/** A webhook as a portal session sees it: without the admin-only fields. */
export function portalWebhookView<T extends { proxy_url?: unknown; proxy_has_password?: unknown }>(
  request: FastifyRequest,
  webhook: T,
): T {
  if (!request.auth.portal) return webhook;
  const { proxy_url: _url, proxy_has_password: _password, ...rest } = webhook;
  // The organization's keys (their ids and names) are its own business, not its customers'.
  if ('created_by_name' in rest)
    Object.assign(rest, { created_by_name: null, updated_by_name: null });
  const actors = rest as { created_by?: unknown; updated_by?: unknown };
  for (const field of ['created_by', 'updated_by'] as const) {
    if (typeof actors[field] === 'string' && actors[field].startsWith('key_')) actors[field] = null;
  }
  return rest as T;
}
