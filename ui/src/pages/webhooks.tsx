import { api, type Stats, type Webhook } from '../api';
import { Badge, Empty, PageHeader, percent, Time, useResource } from '../components';
import { ListTable, usePaged } from '../lists';
import { Link, navigate, useTitle } from '../router';
import { useSession } from '../session';
import { Sparkbars } from '../charts';
import { formatReason } from '../health';
import { useFirstPageLoads } from '../held-rows';
import { CircuitBadge, circuitHolds } from '../circuit';

export function WebhookStatus({ w }: { w: Webhook }) {
  if (w.disabled_reason) return <Badge tone="red">Disabled</Badge>;
  if (!w.is_active) return <Badge tone="neutral">Paused</Badge>;
  if (circuitHolds(w)) return <CircuitBadge w={w} />;
  if (w.failure_count > 0) return <Badge tone="amber">Failing</Badge>;
  return <Badge tone="green">Active</Badge>;
}

export function EventList({ events, max = 3 }: { events: string[]; max?: number }) {
  const shown = events.slice(0, max);
  return (
    <span className="chips">
      {shown.map((e) => (
        <span className="chip mono" key={e}>
          {e === '*' ? 'all events' : e}
        </span>
      ))}
      {events.length > max && <span className="chip chip-more">+{events.length - max}</span>}
    </span>
  );
}

export function WebhookList() {
  useTitle('Webhooks');
  const { canWrite, has } = useSession();
  // The 24 h success rates are loaded again after every load of the list, so they refresh with
  // the rows instead of staying as they were when the page opened.
  const firstPage = useFirstPageLoads<Webhook>();
  const list = usePaged(
    (cursor) => firstPage.track(api.listWebhooks({ cursor, limit: 50 }), cursor),
    [],
    { pollMs: 15_000 },
  );
  const hasStats = has('GET /stats/webhooks');
  const ids = list.items.map((w) => w.id).join(',');
  // One request for the whole page (not one per webhook, which a long list would spend a
  // key's rate limit on); when it fails every row shows a dash and the list still works.
  const stats = useResource(
    () =>
      api
        .webhooksTotals(
          list.items.map((w) => w.id),
          '24h',
        )
        .catch(() => new Map<string, Stats>()),
    [ids, firstPage.loads],
    { enabled: hasStats && list.items.length > 0 },
  );

  return (
    <>
      <PageHeader
        title="Webhooks"
        subtitle="Endpoints that receive your events, signed and retried."
        actions={
          canWrite && (
            <Link className="btn btn-primary btn-md" to="/webhooks/new">
              + New webhook
            </Link>
          )
        }
      />
      <ListTable
        list={list}
        empty={
          <Empty
            title="No webhooks yet"
            action={
              canWrite ? (
                <Link className="btn btn-primary btn-md" to="/webhooks/new">
                  Create your first webhook
                </Link>
              ) : undefined
            }
          >
            {canWrite
              ? 'Add the URL of a receiver and choose which events it gets. Every delivery is signed, retried and logged.'
              : 'An admin has not created any webhooks yet.'}
          </Empty>
        }
        className="table-click"
        head={
          <>
            <th>Name</th>
            <th className="hide-sm">Events</th>
            <th>Status</th>
            <th className="num">Success (24h)</th>
            <th className="hide-sm">Last delivery</th>
          </>
        }
        row={(w) => {
          const s = stats.data?.get(w.id);
          return (
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
                {w.tenant_id && has('GET /tenants/:id') && (
                  <div className="small muted truncate">
                    Tenant{' '}
                    <Link to={`/tenants/${encodeURIComponent(w.tenant_id)}`}>{w.tenant_id}</Link>
                  </div>
                )}
              </td>
              <td className="hide-sm">
                <EventList events={w.events} />
              </td>
              <td>
                <WebhookStatus w={w} />
                {w.disabled_reason && (
                  <div className="small text-bad disabled-reason">
                    {formatReason(w.disabled_reason)}
                  </div>
                )}
              </td>
              <td className="num">
                <div className="rate-cell">
                  {s && s.series.length > 0 && <Sparkbars series={s.series} />}
                  <span>{s ? (s.total ? percent(s.success_rate) : '—') : '—'}</span>
                </div>
              </td>
              <td className="hide-sm">
                <Time iso={w.last_triggered_at} />
              </td>
            </tr>
          );
        }}
      />
    </>
  );
}
