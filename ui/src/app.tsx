import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, loadCapabilities, setApiKey, setUnauthorizedHandler, type Me } from './api';
import { Link, match, navigate, useLocation, usePageGeneration } from './router';
import { SessionProvider, useSession, type Session } from './session';
import { Button, Empty, ErrorBox, Loading, ToastProvider } from './components';
import { SignIn } from './pages/sign-in';
import { Dashboard } from './pages/dashboard';
import { WebhookList } from './pages/webhooks';
import { WebhookForm } from './pages/webhook-form';
import { WebhookDetail } from './pages/webhook-detail';
import { DeliveryLog } from './pages/deliveries';
import { EventTypes } from './pages/event-types';
import { Events } from './pages/events';
import { ApiKeys } from './pages/api-keys';
import { AuditLog } from './pages/audit-log';
import { Tenants } from './pages/tenants';
import { TenantDetail } from './pages/tenant-detail';
import { DisplayPrefs, useThemeAttribute } from './display-prefs';
import { usePrefs } from './prefs';
import { GlobalSearch } from './search';

const STORAGE_KEY = 'hookline.apiKey';
const CAPS_KEY = 'hookline.capabilities';

interface Signed {
  key: string;
  me: Me;
  caps: Set<string>;
}

export function App() {
  const [signed, setSigned] = useState<Signed | null>(null);
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(STORAGE_KEY) !== null);
  const [notice, setNotice] = useState<string>();

  const signOut = useCallback((message?: string) => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiKey(null);
    setSigned(null);
    setNotice(message);
  }, []);

  const signIn = useCallback(async (key: string, me: Me) => {
    sessionStorage.setItem(STORAGE_KEY, key);
    setApiKey(key);
    // The routes this server offers come from its 128 KB OpenAPI document: read once per tab
    // session, after the first screen's data, never in front of it on every page load.
    const cached = sessionStorage.getItem(CAPS_KEY);
    setSigned({ key, me, caps: new Set(cached ? (JSON.parse(cached) as string[]) : []) });
    setNotice(undefined);
    if (!cached)
      void loadCapabilities().then((caps) => {
        if (caps.size > 0) sessionStorage.setItem(CAPS_KEY, JSON.stringify([...caps]));
        setSigned((s) => (s && s.key === key ? { ...s, caps } : s));
      });
  }, []);

  // Restoring a saved key after a reload: only a 401 means the key is gone. Anything else (429
  // rate limited, the server down) keeps the key and offers to try again.
  const [restoreError, setRestoreError] = useState<unknown>();
  const restore = useCallback(() => {
    const saved = sessionStorage.getItem(STORAGE_KEY);
    if (!saved) return;
    setRestoring(true);
    setRestoreError(undefined);
    api.me(saved).then(
      (me) => signIn(saved, me).finally(() => setRestoring(false)),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401)
          signOut('Your saved key is no longer valid; sign in again.');
        else setRestoreError(err);
        setRestoring(false);
      },
    );
  }, [signIn, signOut]);

  useEffect(() => {
    setUnauthorizedHandler((message) => signOut(`Signed out: ${message}`));
    restore();
  }, [restore, signOut]);

  let content: ReactNode;
  if (restoring) content = <Loading />;
  else if (restoreError !== undefined && !signed) {
    content = (
      <div className="signin">
        <div className="signin-card">
          <h1>Could not open your session</h1>
          <ErrorBox error={restoreError} onRetry={restore} />
          <Button variant="ghost" onClick={() => (setRestoreError(undefined), signOut())}>
            Sign out
          </Button>
        </div>
      </div>
    );
  } else if (!signed) content = <SignIn onSignedIn={signIn} notice={notice} />;
  else {
    const session: Session = {
      me: signed.me,
      canWrite: signed.me.role === 'admin',
      // Without an OpenAPI document (an old server), assume every route exists.
      has: (route) => signed.caps.size === 0 || signed.caps.has(route),
      signOut: () => signOut(),
    };
    content = (
      <SessionProvider value={session}>
        <Shell />
      </SessionProvider>
    );
  }
  useThemeAttribute();
  return <ToastProvider>{content}</ToastProvider>;
}

interface NavItem {
  to: string;
  label: string;
  icon: ReactNode;
  adminOnly?: boolean;
  /** Shown only when the server offers this route. */
  route?: string;
}

const icon = (d: string) => (
  <svg
    viewBox="0 0 24 24"
    width="18"
    height="18"
    fill="none"
    stroke="currentColor"
    strokeWidth="1.8"
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden
  >
    <path d={d} />
  </svg>
);

const nav: NavItem[] = [
  { to: '/', label: 'Dashboard', icon: icon('M4 13h4v7H4zM10 4h4v16h-4zM16 9h4v11h-4z') },
  {
    to: '/webhooks',
    label: 'Webhooks',
    icon: icon('M9 8v6a3 3 0 0 0 6 0v-1M15 6.5a2 2 0 1 1 0 .01M4 12a8 8 0 0 0 16 0'),
  },
  { to: '/deliveries', label: 'Deliveries', icon: icon('M4 6h16M4 12h16M4 18h10') },
  { to: '/events', label: 'Events', icon: icon('M13 3 5 13h6l-1 8 8-10h-6z') },
  {
    to: '/tenants',
    label: 'Tenants',
    icon: icon(
      'M16 19v-1a4 4 0 0 0-8 0v1M12 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM20 19v-1a3 3 0 0 0-2-2.8M4 19v-1a3 3 0 0 1 2-2.8',
    ),
    route: 'GET /tenants',
  },
  {
    to: '/event-types',
    label: 'Event types',
    icon: icon('M5 5h6v6H5zM13 5h6v6h-6zM5 13h6v6H5zM13 13h6v6h-6z'),
  },
  {
    to: '/api-keys',
    label: 'API keys',
    icon: icon('M14 10a4 4 0 1 0-3.5 3.96L10 14v3h3v3h3v-4l-2.04-2.04A4 4 0 0 0 14 10z'),
    adminOnly: true,
  },
  {
    to: '/audit-log',
    label: 'Audit log',
    icon: icon('M7 4h10v16H7zM10 8h4M10 12h4M10 16h2'),
    adminOnly: true,
  },
];

function Shell() {
  const { me, signOut, canWrite, has } = useSession();
  const { path } = useLocation();
  const generation = usePageGeneration();
  const { zone } = usePrefs();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path, generation]);
  const items = nav.filter((n) => (!n.adminOnly || canWrite) && (!n.route || has(n.route)));
  const active = (to: string) =>
    to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          className="icon-btn menu-btn"
          aria-label="Menu"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((o) => !o)}
        >
          {icon('M4 7h16M4 12h16M4 17h16')}
        </button>
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden />
          Hookline
        </Link>
      </header>
      <nav className={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
        <Link to="/" className="brand brand-side">
          <span className="brand-mark" aria-hidden />
          Hookline
        </Link>
        <ul>
          {items.map((n) => (
            <li key={n.to}>
              <Link
                to={n.to}
                className={active(n.to) ? 'active' : undefined}
                aria-current={active(n.to) ? 'page' : undefined}
              >
                {n.icon}
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <div className="who">
            <span className="org">{me.org_name || me.org_id}</span>
            <span className={`role role-${me.role}`}>{me.role}</span>
          </div>
          {!canWrite && <p className="readonly-note">Read-only: this key can look, not change.</p>}
          <DisplayPrefs />
          <button className="btn btn-ghost btn-sm signout" onClick={signOut}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <GlobalSearch />
        {/* A new time zone remounts the page, so every time on it is drawn again in that zone. */}
        <Routes key={`${generation}:${zone}`} path={path} />
      </main>
    </div>
  );
}

function Routes({ path }: { path: string }) {
  const { canWrite } = useSession();
  let m: Record<string, string> | null;
  if (path === '/') return <Dashboard />;
  if (path === '/webhooks') return <WebhookList />;
  if (path === '/webhooks/new') return canWrite ? <WebhookForm key="new" /> : <ReadOnly />;
  if ((m = match('/webhooks/:id/edit', path)))
    return canWrite ? <WebhookForm key={m.id} id={m.id} /> : <ReadOnly />;
  if ((m = match('/webhooks/:id', path))) return <WebhookDetail key={m.id} id={m.id} />;
  if (path === '/deliveries') return <DeliveryLog />;
  if (path === '/events') return <Events />;
  if (path === '/event-types') return <EventTypes />;
  if (path === '/tenants') return <Tenants />;
  if ((m = match('/tenants/:id', path))) return <TenantDetail key={m.id} id={m.id} />;
  if (path === '/api-keys') return canWrite ? <ApiKeys /> : <ReadOnly />;
  if (path === '/audit-log') return canWrite ? <AuditLog /> : <ReadOnly />;
  if (path === '/sign-in') {
    navigate('/', { replace: true });
    return null;
  }
  return (
    <Empty title="Nothing here" action={<Link to="/">Go to the dashboard</Link>}>
      There is no page at {path}.
    </Empty>
  );
}

function ReadOnly() {
  return (
    <Empty title="Read-only key" action={<Link to="/">Go to the dashboard</Link>}>
      This screen changes things or shows secrets; it needs an admin key.
    </Empty>
  );
}
