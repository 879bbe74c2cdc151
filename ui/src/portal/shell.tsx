import { Badge, Empty, Time } from '../components';
import { Link, match, useLocation, usePageGeneration } from '../router';
import { useSession } from '../session';
import type { PortalInfo } from '../tenants-api';
import { WebhookList } from '../pages/webhooks';
import { WebhookForm } from '../pages/webhook-form';
import { WebhookDetail } from '../pages/webhook-detail';
import { DeliveryLog } from '../pages/deliveries';
import { EventTypes } from '../pages/event-types';

const nav = [
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/deliveries', label: 'Deliveries' },
  { to: '/event-types', label: 'Event types' },
];

/** The portal's frame: the organization's brand, three pages, and the session's limits. */
export function PortalShell({ portal }: { portal: PortalInfo }) {
  const { path } = useLocation();
  const generation = usePageGeneration();
  const { settings } = portal;
  const title = settings.title || 'Webhooks';
  const active = (to: string) =>
    path === to || path.startsWith(`${to}/`) || (to === '/webhooks' && path === '/');
  return (
    <div className="portal">
      <header className="portal-bar">
        <Link to="/webhooks" className="portal-brand">
          {settings.logo_url && <img src={settings.logo_url} alt="" />}
          <span>{title}</span>
        </Link>
        <nav className="portal-nav" aria-label="Main">
          {nav.map((n) => (
            <Link
              key={n.to}
              to={n.to}
              className={active(n.to) ? 'active' : undefined}
              aria-current={active(n.to) ? 'page' : undefined}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="portal-meta">
          {portal.read_only && <Badge tone="blue">Read-only</Badge>}
          <span className="muted small">
            Link expires <Time iso={portal.expires_at} />
          </span>
          {settings.support_url && (
            <a href={settings.support_url} target="_blank" rel="noopener noreferrer">
              Help
            </a>
          )}
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Routes key={generation} path={path} />
      </main>
    </div>
  );
}

function Routes({ path }: { path: string }) {
  const { canWrite } = useSession();
  let m: Record<string, string> | null;
  if (path === '/' || path === '/webhooks') return <WebhookList />;
  if (path === '/webhooks/new' && canWrite) return <WebhookForm key="new" />;
  if ((m = match('/webhooks/:id/edit', path)) && canWrite)
    return <WebhookForm key={m.id} id={m.id} />;
  if ((m = match('/webhooks/:id', path)) && path !== '/webhooks/new')
    return <WebhookDetail key={m.id} id={m.id} />;
  if (path === '/deliveries') return <DeliveryLog />;
  if (path === '/event-types') return <EventTypes />;
  return (
    <Empty title="Nothing here" action={<Link to="/webhooks">Go to your webhooks</Link>}>
      There is no page at {path}.
    </Empty>
  );
}
