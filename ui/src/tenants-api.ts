// The tenant and portal calls of the UI: the admin's Tenants pages and the customer portal.
// Kept apart from api.ts so the admin's core client stays as it is.

import type { Operations } from '../../src/client/api-types';
import { qs, request, type Me, type Page, type Query } from './api';

/** One customer of the organization, named by the application's own id. */
export type Tenant = Operations['GET /tenants/{tenant_id}']['response'];
export type TenantInput = Operations['PUT /tenants/{tenant_id}']['request']['body'];

/** A minted portal link: the token is shown once, inside `url`'s fragment. */
export type PortalSession = Operations['POST /tenants/{tenant_id}/portal-sessions']['response'];

/** The organization's branding of the portal. */
export type PortalSettings = Operations['GET /portal-settings']['response'];

/** What GET /me tells a portal token of itself: its tenant, its limits and the branding. */
export type PortalInfo = NonNullable<Me['portal']>;

const enc = encodeURIComponent;

export const tenantsApi = {
  list: (q?: Query) => request<Page<Tenant>>('GET', `/tenants${qs(q)}`),
  get: (id: string) => request<Tenant>('GET', `/tenants/${enc(id)}`),
  /** Creates the tenant with this id, or updates it. */
  put: (id: string, body: TenantInput) => request<Tenant>('PUT', `/tenants/${enc(id)}`, body),
  update: (id: string, body: TenantInput) => request<Tenant>('PATCH', `/tenants/${enc(id)}`, body),
  remove: (id: string) => request<unknown>('DELETE', `/tenants/${enc(id)}`),
  openPortal: (id: string, body: { expires_in?: number; read_only?: boolean }) =>
    request<PortalSession>('POST', `/tenants/${enc(id)}/portal-sessions`, body),
  settings: () => request<PortalSettings>('GET', '/portal-settings'),
  updateSettings: (body: Operations['PATCH /portal-settings']['request']['body']) =>
    request<PortalSettings>('PATCH', '/portal-settings', body),
  /** Who a portal token belongs to (GET /me), while the session is being opened. */
  portalMe: (token: string) => request<Me>('GET', '/me', undefined, { key: token }),
};

/** What the Tenants page shows of one tenant: its webhooks' health and its delivery success. */
export interface TenantSummary {
  webhooks: number;
  /** Webhooks failing in a row, or switched off by Hookline. */
  failing: number;
  disabled: number;
  /** Over the last 24 hours; null without deliveries. */
  successRate: number | null;
  deliveries: number;
}

/** One tenant's summary, from its webhooks (first 100) and its 24-hour stats. */
export async function tenantSummary(id: string): Promise<TenantSummary> {
  const [hooks, stats] = await Promise.all([
    request<Page<{ is_active: boolean; failure_count: number; disabled_reason: string | null }>>(
      'GET',
      `/webhooks${qs({ tenant_id: id, limit: 100 })}`,
    ),
    request<{ total?: number; success_rate?: number | null }>(
      'GET',
      `/stats${qs({ tenant_id: id, window: '24h' })}`,
    ).catch(() => null),
  ]);
  return {
    webhooks: hooks.data.length,
    failing: hooks.data.filter((w) => !w.disabled_reason && w.failure_count > 0).length,
    disabled: hooks.data.filter((w) => w.disabled_reason).length,
    successRate: stats?.total ? (stats.success_rate ?? null) : null,
    deliveries: stats?.total ?? 0,
  };
}
