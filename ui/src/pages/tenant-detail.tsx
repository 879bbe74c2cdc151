import { useState } from 'react';
import { api, ApiError } from '../api';
import {
  Badge,
  Button,
  Check,
  Confirm,
  Empty,
  ErrorBox,
  Loading,
  PageHeader,
  Time,
  useAction,
  useResource,
  useToast,
} from '../components';
import { ListTable, usePaged } from '../lists';
import { Link, navigate, useTitle } from '../router';
import { useSession } from '../session';
import { tenantsApi, tenantSummary } from '../tenants-api';
import { EventList, WebhookStatus } from './webhooks';
import { TenantDialog, TenantHealth } from './tenants';

/** How long a session minted from the admin UI lasts: enough to look, short enough to forget. */
const ADMIN_PORTAL_SECONDS = 15 * 60;

/** One tenant: its webhooks, and the portal its customer sees. */
export function TenantDetail({ id }: { id: string }) {
  const { canWrite, has } = useSession();
  const toast = useToast();
  const tenant = useResource(() => tenantsApi.get(id), [id]);
  useTitle(tenant.data?.name || id);
  const summary = useResource(() => tenantSummary(id), [id]);
  const hooks = usePaged((cursor) => api.listWebhooks({ tenant_id: id, cursor, limit: 50 }), [id]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [readOnly, setReadOnly] = useState(false);

  const [openPortal, opening] = useAction(async () => {
    // Opened before the call, while the click still counts as the user's: a window opened
    // after an await is a popup the browser may block.
    const tab = window.open('about:blank', '_blank');
    if (tab) tab.opener = null;
    try {
      const s = await tenantsApi.openPortal(id, {
        expires_in: ADMIN_PORTAL_SECONDS,
        read_only: readOnly,
      });
      if (tab) tab.location.href = s.url;
      else window.open(s.url, '_blank', 'noopener');
      toast('success', 'Portal opened in a new tab; the link works for 15 minutes.');
    } catch (e) {
      tab?.close();
      throw e;
    }
  });
  const [remove, removing] = useAction(
    async () => {
      await tenantsApi.remove(id);
      navigate('/tenants');
    },
    { success: 'Tenant deleted; its webhooks and deliveries are being removed.' },
  );

  const back = (
    <Link to="/tenants" className="back">
      ← Tenants
    </Link>
  );
  if (tenant.error && !tenant.data)
    return (
      <>
        <PageHeader back={back} title="Tenant" />
        <ErrorBox
          error={tenant.error}
          onRetry={
            tenant.error instanceof ApiError && tenant.error.status === 404
              ? undefined
              : tenant.reload
          }
        />
      </>
    );
  if (!tenant.data) return <Loading />;
  const t = tenant.data;

  return (
    <>
      <PageHeader
        back={back}
        title={
          <span className="title-with-badge">
            {t.name || t.id}{' '}
            {t.is_active ? (
              <TenantHealth s={summary.data} />
            ) : (
              <Badge tone="neutral">Inactive</Badge>
            )}
          </span>
        }
        subtitle={<span className="mono">{t.id}</span>}
        actions={
          canWrite && (
            <>
              {has('POST /tenants/:id/portal-sessions') && t.is_active && (
                <>
                  <Check checked={readOnly} onChange={setReadOnly}>
                    Read-only
                  </Check>
                  <Button variant="primary" busy={opening} onClick={() => openPortal()}>
                    Open portal as this tenant
                  </Button>
                </>
              )}
              <Button onClick={() => setEditing(true)}>Edit</Button>
              <Button variant="danger" onClick={() => setDeleting(true)}>
                Delete
              </Button>
            </>
          )
        }
      />
      <section className="card">
        <dl className="props">
          <dt>Webhooks</dt>
          <dd>{summary.data ? summary.data.webhooks : '—'}</dd>
          <dt>Deliveries (24h)</dt>
          <dd>{summary.data ? summary.data.deliveries : '—'}</dd>
          <dt>Created</dt>
          <dd>
            <Time iso={t.created_at} />
          </dd>
          {Object.keys(t.metadata ?? {}).length > 0 && (
            <>
              <dt>Metadata</dt>
              <dd className="mono small">{JSON.stringify(t.metadata)}</dd>
            </>
          )}
        </dl>
      </section>
      <section className="section">
        <h2>Webhooks</h2>
        <ListTable
          list={hooks}
          className="table-click"
          label="Webhooks of this tenant"
          empty={
            <Empty title="No webhooks yet">
              The customer adds them in the portal; until then events published for this tenant are
              accepted and go nowhere.
            </Empty>
          }
          head={
            <>
              <th>Name</th>
              <th className="hide-sm">Events</th>
              <th>Status</th>
              <th className="hide-sm">Last delivery</th>
            </>
          }
          row={(w) => (
            <tr
              key={w.id}
              onClick={(e) =>
                !(e.target as HTMLElement).closest('a') && navigate(`/webhooks/${w.id}`)
              }
            >
              <td>
                <Link to={`/webhooks/${w.id}`} className="strong">
                  {w.name}
                </Link>
                <div className="mono small muted truncate">{w.url}</div>
              </td>
              <td className="hide-sm">
                <EventList events={w.events} />
              </td>
              <td>
                <WebhookStatus w={w} />
              </td>
              <td className="hide-sm">
                <Time iso={w.last_triggered_at} />
              </td>
            </tr>
          )}
        />
      </section>
      <TenantDialog
        key={`${t.id}-${t.updated_at}-${editing}`}
        open={editing}
        tenant={t}
        onClose={() => setEditing(false)}
        onSaved={() => tenant.reload()}
      />
      <Confirm
        open={deleting}
        title={`Delete ${t.name || t.id}?`}
        confirmLabel="Delete tenant"
        danger
        busy={removing}
        onConfirm={async () => {
          await remove();
          setDeleting(false);
        }}
        onClose={() => setDeleting(false)}
      >
        <p>
          Its webhooks, their deliveries and its portal links are deleted with it. This cannot be
          undone; to stop its deliveries for a while, make it inactive instead.
        </p>
      </Confirm>
    </>
  );
}
