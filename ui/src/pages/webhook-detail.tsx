import { useState } from 'react';
import { api, ApiError, type Webhook } from '../api';
import {
  Badge,
  Button,
  Confirm,
  ErrorBox,
  Loading,
  PageHeader,
  TabPanel,
  Tabs,
  Time,
  useAction,
  useResource,
  useToast,
} from '../components';
import { Link, navigate, useTitle } from '../router';
import { useSession } from '../session';
import { failingText, HealthBanner } from '../health';
import { CircuitBanner } from '../circuit';
import { useUrlQuery } from '../filters';
import { EventList, WebhookStatus } from './webhooks';
import { Deliveries, useUrlLogFilters } from './deliveries';
import { ReplayCard, StatsCard } from './webhook-activity';
import { SecretCard } from './webhook-secret';
import { TestCard } from './webhook-test';

// A webhook's page: its state first (why it fails, the way to its failed deliveries), then tabs
// kept in the URL (?tab=) so a link can open the deliveries or the test sender directly.

type Tab = 'overview' | 'deliveries' | 'testing' | 'settings';

export function WebhookDetail({ id }: { id: string }) {
  const { canWrite, has } = useSession();
  const toast = useToast();
  const hook = useResource(() => api.getWebhook(id), [id], { pollMs: 15_000 });
  useTitle(hook.data?.name ?? 'Webhook');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [query, setQuery] = useUrlQuery();
  const tab = (query.get('tab') ?? 'overview') as Tab;
  const [filters, setFilters, openDelivery, setOpenDelivery] = useUrlLogFilters();

  const [remove, removing] = useAction(
    async () => {
      await api.deleteWebhook(id);
      navigate('/webhooks');
    },
    { success: 'Webhook deleted, with its deliveries.' },
  );
  const [setActive, toggling] = useAction(
    async (on: boolean) => {
      await api.updateWebhook(id, { is_active: on });
      hook.reload();
      return on;
    },
    {
      success: (on) =>
        on
          ? 'Webhook enabled: it gets new deliveries again.'
          : 'Webhook paused: it gets no new deliveries.',
    },
  );

  if (hook.error && !hook.data) {
    return (
      <>
        <PageHeader
          back={
            <Link to="/webhooks" className="back">
              ← Webhooks
            </Link>
          }
          title="Webhook"
        />
        <ErrorBox
          error={hook.error}
          onRetry={
            hook.error instanceof ApiError && hook.error.status === 404 ? undefined : hook.reload
          }
        />
      </>
    );
  }
  if (!hook.data) return <Loading />;
  const w = hook.data;

  const tabs: [Tab, string][] = [
    ['overview', 'Overview'],
    ['deliveries', 'Deliveries'],
    ...(canWrite
      ? ([
          ['testing', 'Testing'],
          ['settings', 'Settings'],
        ] as [Tab, string][])
      : []),
  ];
  const shown = tabs.some(([t]) => t === tab) ? tab : 'overview';
  const resume = canWrite && !w.is_active && (
    <Button size="sm" variant="primary" busy={toggling} onClick={() => setActive(true)}>
      {w.disabled_reason ? 'Re-enable' : 'Resume'}
    </Button>
  );

  return (
    <>
      <PageHeader
        back={
          <Link to="/webhooks" className="back">
            ← Webhooks
          </Link>
        }
        title={
          <span className="title-with-badge">
            {w.name} <WebhookStatus w={w} />
          </span>
        }
        subtitle={<span className="mono break">{w.url}</span>}
        actions={
          canWrite && (
            <>
              <Link className="btn btn-secondary btn-md" to={`/webhooks/${w.id}/edit`}>
                Edit
              </Link>
              <Button busy={toggling} onClick={() => setActive(!w.is_active)}>
                {w.is_active ? 'Pause' : 'Resume'}
              </Button>
            </>
          )
        }
      />
      <HealthBanner w={w} action={resume} />
      <CircuitBanner w={w} onReset={hook.reload} />

      <Tabs
        label="Webhook sections"
        tabs={tabs}
        value={shown}
        onChange={(t) => setQuery({ tab: t === 'overview' ? null : t })}
      />
      <TabPanel id={shown}>
        {shown === 'overview' && (
          <>
            <Configuration w={w} />
            {has('GET /webhooks/:id/stats') && <StatsCard id={w.id} />}
          </>
        )}
        {shown === 'deliveries' &&
          (has('GET /webhooks/:id/deliveries') ? (
            <Deliveries
              webhook={w}
              filters={filters}
              onFilters={setFilters}
              openId={openDelivery}
              onOpen={setOpenDelivery}
            />
          ) : (
            <p className="muted">This server does not list deliveries yet.</p>
          ))}
        {shown === 'testing' && (
          <div className="stack">
            {has('POST /webhooks/:id/test') && <TestCard w={w} onSent={hook.reload} />}
            {has('POST /webhooks/:id/replay') && <ReplayCard w={w} onQueued={hook.reload} />}
          </div>
        )}
        {shown === 'settings' && (
          <div className="stack">
            {has('GET /webhooks/:id/secret') && <SecretCard w={w} />}
            <section className="card">
              <div className="card-head">
                <h2>Settings</h2>
                <Link className="btn btn-secondary btn-md" to={`/webhooks/${w.id}/edit`}>
                  Edit settings
                </Link>
              </div>
              <p className="muted small">
                URL, events, headers, retries, timeout, rate limit and ordering.
              </p>
            </section>
            <section className="card card-danger">
              <div className="card-head">
                <h2>Delete this webhook</h2>
                <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                  Delete
                </Button>
              </div>
              <p className="muted small">
                Its deliveries go with it. To stop deliveries for a while, pause it instead.
              </p>
            </section>
          </div>
        )}
      </TabPanel>

      <Confirm
        open={confirmDelete}
        title={`Delete ${w.name}?`}
        confirmLabel="Delete webhook"
        danger
        busy={removing}
        onConfirm={async () => {
          if ((await remove()) === undefined) toast('info', 'The webhook was not deleted.');
          setConfirmDelete(false);
        }}
        onClose={() => setConfirmDelete(false)}
      >
        <p>
          Its deliveries and their attempts are deleted with it, and pending ones are never sent.
          This cannot be undone. To stop deliveries for a while, pause it instead.
        </p>
      </Confirm>
    </>
  );
}

function Configuration({ w }: { w: Webhook }) {
  const { has } = useSession();
  return (
    <section className="card">
      <div className="card-head">
        <h2>Configuration</h2>
      </div>
      <dl className="props">
        <dt>Events</dt>
        <dd>
          <EventList events={w.events} max={12} />
        </dd>
        {w.tenant_id && has('GET /tenants/:id') && (
          <>
            <dt>Tenant</dt>
            <dd>
              <Link to={`/tenants/${encodeURIComponent(w.tenant_id)}`} className="mono">
                {w.tenant_id}
              </Link>
            </dd>
          </>
        )}
        {w.description && (
          <>
            <dt>Description</dt>
            <dd>{w.description}</dd>
          </>
        )}
        <dt>Retries</dt>
        <dd>
          {w.retry_attempts} after the first attempt, from {w.retry_delay_seconds}s, doubling
        </dd>
        <dt>Timeout</dt>
        <dd>{w.timeout_seconds}s</dd>
        <dt>Rate limit</dt>
        <dd>{w.rate_limit_per_second ? `${w.rate_limit_per_second} requests/s` : 'Unlimited'}</dd>
        <dt>Circuit breaker</dt>
        <dd>
          {w.circuit_failures === null
            ? 'Server default'
            : w.circuit_failures === 0
              ? 'Off'
              : `Opens after ${w.circuit_failures} failed attempts in a row`}
        </dd>
        <dt>Ordering</dt>
        <dd>{w.ordering === 'fifo' ? <Badge tone="purple">FIFO</Badge> : 'Unordered'}</dd>
        <dt>Headers</dt>
        <dd>
          {Object.keys(w.custom_headers ?? {}).length === 0 ? (
            <span className="muted">None</span>
          ) : (
            <ul className="plain mono small">
              {Object.entries(w.custom_headers).map(([k, v]) => (
                <li key={k}>
                  {k}: {v}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Last delivery</dt>
        <dd>
          <Time iso={w.last_triggered_at} />
          {w.failure_count > 0 && <span className="text-bad"> · {failingText(w)}</span>}
        </dd>
        <dt>Last success</dt>
        <dd>
          <Time iso={w.last_success_at} />
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={w.created_at} />{' '}
          {w.created_by &&
            (w.created_by_name ? (
              // The key's name; its id on hover, to tell two keys of one name apart.
              <span className="muted small" title={w.created_by}>
                by {w.created_by_name}
              </span>
            ) : (
              <span className="muted mono small">by {w.created_by}</span>
            ))}
        </dd>
        <dt>ID</dt>
        <dd className="mono small">{w.id}</dd>
      </dl>
    </section>
  );
}
