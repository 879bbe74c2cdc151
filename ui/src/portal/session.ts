import type { Me } from '../api';
import type { Session } from '../session';
import type { PortalInfo } from '../tenants-api';

// What the portal shows is what a portal token may do (docs/portal.md). The admin pages already
// hide what `has()` says the server does not offer, so the portal's session offers only these
// routes; the API enforces the same scope whatever the page shows.
const portalRoutes = [
  'GET /webhooks',
  'POST /webhooks',
  'GET /webhooks/:id',
  'PATCH /webhooks/:id',
  'DELETE /webhooks/:id',
  'GET /webhooks/:id/secret',
  'POST /webhooks/:id/rotate-secret',
  'POST /webhooks/:id/test',
  'POST /webhooks/:id/replay',
  'GET /webhooks/:id/stats',
  'GET /webhooks/:id/deliveries',
  'GET /deliveries',
  'GET /deliveries/:id',
  'POST /deliveries/:id/retry',
  'GET /event-types',
  'GET /event-types/:id',
];

/** The session the shared pages read: read-only links see everything and change nothing. */
export function portalSession(me: Me, portal: PortalInfo, caps: Set<string>): Session {
  const asMe: Me = {
    org_id: me.org_id,
    org_name: me.org_name,
    key_id: portal.session_id,
    role: portal.read_only ? 'viewer' : 'admin',
    portal,
  };
  // Without an OpenAPI document (an old server), assume every portal route exists.
  const offered = new Set(portalRoutes.filter((r) => caps.size === 0 || caps.has(r)));
  return {
    me: asMe,
    canWrite: !portal.read_only,
    has: (route) => offered.has(route),
    // A portal session ends when its link expires; there is nothing to sign out of.
    signOut: () => {},
  };
}
