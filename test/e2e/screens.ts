import type { Page } from 'playwright-core';
import { ADMIN_KEY, callApi, until } from './support.js';

// Every screen of the admin UI and of the customer portal, each with what shows it is loaded, on
// an organization seeded so that no screen is empty: a healthy and a failing webhook, deliveries
// of both, a viewer key, audit entries, a tenant with its own webhook. The accessibility and the
// phone tests walk this one list, so a new screen added here is checked by both.

export interface Seeded {
  healthyId: string;
  deliveryId: string;
  eventId: string;
  tenantHookId: string;
  tenantDeliveryId: string;
  portalUrl: string;
}

/** Fills the organization of `base` through its API; `receiverUrl` answers 200. */
export async function seed(base: string, receiverUrl: string): Promise<Seeded> {
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await callApi(base, ADMIN_KEY, method, path, body);
    if (r.status >= 300)
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await api('POST', '/event-types', { name: 'ticket.created', description: 'A ticket was opened' });
  await api('POST', '/event-types', { name: 'ticket.closed' });
  const healthy = await api('POST', '/webhooks', {
    name: 'Healthy',
    url: receiverUrl,
    events: ['ticket.*'],
    custom_headers: { 'X-Team': 'support' },
  });
  // Nobody listens on port 9 of this host: every attempt is a connection refused.
  await api('POST', '/webhooks', {
    name: 'Failing',
    url: 'http://127.0.0.1:9/hook',
    events: ['ticket.created'],
    retry_attempts: 0,
  });
  const event = await api('POST', '/events', {
    event_type: 'ticket.created',
    payload: { id: 'T-1', subject: 'Printer on fire' },
  });
  await api('POST', '/events', { event_type: 'ticket.closed', payload: { id: 'T-1' } });
  await api('POST', '/api-keys', { name: 'support desk', role: 'viewer' });
  await api('PUT', '/tenants/acme', { name: 'Acme Inc.' });
  const tenantHook = await api('POST', '/webhooks', {
    name: 'Acme receiver',
    url: receiverUrl,
    events: ['ticket.created'],
    tenant_id: 'acme',
  });
  await api('POST', '/events', {
    event_type: 'ticket.created',
    payload: { id: 'A-1' },
    tenant_id: 'acme',
  });
  // Every delivery finished, so no screen changes under the checks.
  const deliveries = await until('every delivery to finish', async () => {
    const list = (await api('GET', '/deliveries?limit=50')).data as {
      id: string;
      status: string;
      webhook_id: string;
    }[];
    return list.length === 4 && list.every((d) => d.status === 'succeeded' || d.status === 'failed')
      ? list
      : undefined;
  });
  const session = await api('POST', '/tenants/acme/portal-sessions', { expires_in: 3600 });
  return {
    healthyId: healthy.id,
    deliveryId: deliveries.find((d) => d.webhook_id === healthy.id)!.id,
    eventId: event.id,
    tenantHookId: tenantHook.id,
    tenantDeliveryId: deliveries.find((d) => d.webhook_id === tenantHook.id)!.id,
    // The minted URL names the configured port (0 in tests): the token is in its fragment.
    portalUrl: `${base}/portal${new URL(session.url).hash}`,
  };
}

export interface Screen {
  name: string;
  path: string;
  /** Resolves once the screen shows its data. */
  ready: (p: Page) => Promise<unknown>;
}

const heading = (name: string | RegExp) => (p: Page) =>
  p
    .getByRole('heading', { name, exact: typeof name === 'string' })
    .first()
    .waitFor();
const text = (t: string | RegExp) => (p: Page) => p.getByText(t).first().waitFor();
const openDelivery = (p: Page) =>
  p
    .getByRole('button', { name: /Open delivery/ })
    .first()
    .waitFor();
const inDialog = (t: string | RegExp) => (p: Page) =>
  p.getByRole('dialog').getByText(t).first().waitFor();

/** The admin UI's screens, signed in as an admin. */
export function adminScreens(s: Seeded): Screen[] {
  const hook = `/webhooks/${s.healthyId}`;
  return [
    { name: 'dashboard', path: '/', ready: text('Deliveries over time') },
    { name: 'webhooks', path: '/webhooks', ready: text('Failing') },
    { name: 'webhook-overview', path: hook, ready: heading('Configuration') },
    {
      name: 'webhook-deliveries',
      path: `${hook}?tab=deliveries`,
      ready: openDelivery,
    },
    { name: 'webhook-testing', path: `${hook}?tab=testing`, ready: heading('Replay deliveries') },
    {
      name: 'webhook-settings',
      path: `${hook}?tab=settings`,
      ready: (p) => p.getByTestId('secret').waitFor(),
    },
    { name: 'webhook-new', path: '/webhooks/new', ready: heading('New webhook') },
    { name: 'webhook-edit', path: `${hook}/edit`, ready: heading('Edit Healthy') },
    { name: 'deliveries', path: '/deliveries', ready: openDelivery },
    {
      name: 'delivery-drawer',
      path: `/deliveries?delivery=${s.deliveryId}`,
      ready: inDialog('Attempt 1'),
    },
    {
      name: 'events',
      path: '/events',
      ready: (p) => p.getByRole('button', { name: /Open event .*ticket\.closed/ }).waitFor(),
    },
    {
      name: 'event-drawer',
      path: `/events?event=${s.eventId}`,
      ready: inDialog('Printer on fire'),
    },
    {
      name: 'publish-event',
      path: '/events?publish=ticket.created',
      ready: (p) => p.getByRole('dialog').getByLabel('Payload (JSON)').waitFor(),
    },
    { name: 'event-types', path: '/event-types', ready: text('A ticket was opened') },
    { name: 'api-keys', path: '/api-keys', ready: text('support desk') },
    { name: 'audit-log', path: '/audit-log', ready: text('api_key.created') },
    { name: 'tenants', path: '/tenants', ready: text('Acme Inc.') },
    { name: 'tenant-detail', path: '/tenants/acme', ready: text('Acme receiver') },
  ];
}

/** The portal's screens, in a page that opened `Seeded.portalUrl` once. */
export function portalScreens(s: Seeded): Screen[] {
  const hook = `/portal/webhooks/${s.tenantHookId}`;
  return [
    { name: 'portal-webhooks', path: '/portal/webhooks', ready: text('Acme receiver') },
    { name: 'portal-webhook', path: hook, ready: heading('Configuration') },
    {
      name: 'portal-webhook-deliveries',
      path: `${hook}?tab=deliveries`,
      ready: openDelivery,
    },
    {
      name: 'portal-webhook-settings',
      path: `${hook}?tab=settings`,
      ready: (p) => p.getByTestId('secret').waitFor(),
    },
    { name: 'portal-webhook-new', path: '/portal/webhooks/new', ready: heading('New webhook') },
    { name: 'portal-deliveries', path: '/portal/deliveries', ready: openDelivery },
    {
      name: 'portal-delivery-drawer',
      path: `/portal/deliveries?delivery=${s.tenantDeliveryId}`,
      ready: inDialog('Attempt 1'),
    },
    { name: 'portal-event-types', path: '/portal/event-types', ready: text('ticket.created') },
  ];
}

/** Opens a screen and waits for its data, then for every spinner to go. */
export async function visit(p: Page, base: string, screen: Screen): Promise<void> {
  await p.goto(`${base}${screen.path}`);
  await screen.ready(p);
  await p.locator('.spinner, .loading').first().waitFor({ state: 'detached' });
}
