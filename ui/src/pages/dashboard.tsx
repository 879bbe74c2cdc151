import { useState } from 'react';
import { all, api, type Delivery, type StatsWindow } from '../api';
import { Empty, ErrorBox, Loading, ms, percent, Spinner, Time, useResource } from '../components';
import { listOf, ListStates, Table } from '../lists';
import { SuccessRateChart, VolumeChart } from '../charts';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import { failingText, formatReason, LastError, lastFailed, needsAttention } from '../health';

const windows: StatsWindow[] = ['1h', '24h', '7d', '30d'];
const REFRESH_MS = 10_000;

export function WindowPicker({
  value,
  onChange,
}: {
  value: StatsWindow;
  onChange: (w: StatsWindow) => void;
}) {
  return (
    <div className="segmented" role="group" aria-label="Time window">
      {windows.map((w) => (
        <button
          key={w}
          className={w === value ? 'on' : undefined}
          aria-pressed={w === value}
          onClick={() => onChange(w)}
        >
          {w}
        </button>
      ))}
    </div>
  );
}

export function Dashboard() {
  useTitle('Dashboard');
  const { has, canWrite } = useSession();
  const [window, setWindow] = useState<StatsWindow>('24h');
  const hasStats = has('GET /stats');
  const stats = useResource(() => api.stats(window), [window], {
    pollMs: REFRESH_MS,
    enabled: hasStats,
  });
  const webhooks = useResource(
    () => all((cursor) => api.listWebhooks({ limit: 500, cursor })),
    [],
    { pollMs: REFRESH_MS },
  );
  // A paused webhook is someone's choice, not a problem: only failing or disabled ones are listed.
  const failing = (webhooks.data ?? []).filter(needsAttention);
  const failingIds = failing.map((w) => `${w.id}:${w.failure_count}`).join(',');
  const lastErrors = useResource(
    async () => {
      const out = new Map<string, Delivery | undefined>();
      await Promise.all(
        failing.slice(0, 20).map(async (w) => {
          out.set(w.id, lastFailed((await api.webhookDeliveries(w.id, { limit: 20 })).data));
        }),
      );
      return out;
    },
    [failingIds],
    { enabled: failing.length > 0 },
  );

  return (
    <>
      <div className="page-header">
        <div className="page-title">
          <h1>Dashboard</h1>
          <p className="subtitle">
            Refreshes every {REFRESH_MS / 1000} seconds{' '}
            {(stats.loading || webhooks.loading) && <Spinner label="Refreshing" />}
          </p>
        </div>
        <div className="page-actions">
          <WindowPicker value={window} onChange={setWindow} />
        </div>
      </div>

      {!hasStats ? (
        <div className="alert alert-info">
          This server does not offer delivery statistics (GET /stats) yet.
        </div>
      ) : stats.error && !stats.data ? (
        <ErrorBox error={stats.error} onRetry={stats.reload} />
      ) : !stats.data ? (
        <Loading />
      ) : (
        <>
          <div className="kpis">
            <Kpi
              label="Deliveries"
              value={stats.data.total.toLocaleString()}
              sub={`${stats.data.pending.toLocaleString()} pending`}
            />
            <Kpi
              label="Success rate"
              value={percent(stats.data.success_rate)}
              sub={`${stats.data.failed.toLocaleString()} failed`}
              tone={
                stats.data.success_rate === null
                  ? undefined
                  : stats.data.success_rate < 0.95
                    ? 'bad'
                    : 'good'
              }
            />
            <Kpi
              label="p95 latency"
              value={ms(stats.data.latency_ms.p95)}
              sub={`p50 ${ms(stats.data.latency_ms.p50)} · p99 ${ms(stats.data.latency_ms.p99)}`}
            />
            <Kpi
              label="Avg. attempts"
              value={stats.data.avg_attempts === null ? '—' : stats.data.avg_attempts.toFixed(2)}
              sub="per delivery"
            />
          </div>
          {stats.data.total === 0 && (
            <div className="alert alert-info">
              No deliveries in the last {window}.{' '}
              {canWrite ? (
                <Link to="/webhooks/new">Create a webhook</Link>
              ) : (
                'Once a webhook exists'
              )}
              , then publish an event with <code>POST /api/v1/events</code>; its deliveries show up
              here.
            </div>
          )}
          <div className="grid-2">
            <section className="card">
              <div className="card-head">
                <h2>Deliveries over time</h2>
                <div className="legend">
                  <span className="key key-ok" /> succeeded <span className="key key-fail" /> failed{' '}
                  <span className="key key-other" /> pending
                </div>
              </div>
              <VolumeChart series={stats.data.series} window={window} />
            </section>
            <section className="card">
              <div className="card-head">
                <h2>Success rate</h2>
              </div>
              <SuccessRateChart series={stats.data.series} window={window} />
            </section>
          </div>
        </>
      )}

      <section className="card">
        <div className="card-head">
          <h2>Webhooks needing attention</h2>
          <Link to="/webhooks">All webhooks →</Link>
        </div>
        <ListStates
          list={listOf(webhooks, failing)}
          empty={
            !webhooks.data?.length ? (
              <Empty
                title="No webhooks yet"
                action={
                  canWrite ? (
                    <Link className="btn btn-primary btn-md" to="/webhooks/new">
                      Create a webhook
                    </Link>
                  ) : undefined
                }
              >
                A webhook is a URL that receives the events you choose.
              </Empty>
            ) : (
              <p className="all-good">
                No webhook is failing or disabled ({webhooks.data.length} in all).
              </p>
            )
          }
        >
          <Table
            head={
              <>
                <th>Webhook</th>
                <th>Problem</th>
                <th className="hide-sm">Last success</th>
              </>
            }
          >
            {failing.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/webhooks/${w.id}`}>{w.name}</Link>
                  <div className="mono small muted truncate">{w.url}</div>
                </td>
                <td>
                  {w.disabled_reason ? (
                    <span className="text-bad">Disabled: {formatReason(w.disabled_reason)}</span>
                  ) : (
                    <span className="text-bad">{failingText(w)}</span>
                  )}
                  <LastError w={w} last={lastErrors.data?.get(w.id)} />
                </td>
                <td className="hide-sm">
                  <Time iso={w.last_success_at} />
                </td>
              </tr>
            ))}
          </Table>
        </ListStates>
      </section>
    </>
  );
}

function Kpi({
  label,
  value,
  sub,
  tone,
}: {
  label: string;
  value: string;
  sub?: string;
  tone?: 'good' | 'bad';
}) {
  return (
    <div className={`kpi${tone ? ` kpi-${tone}` : ''}`}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      {sub && <div className="kpi-sub">{sub}</div>}
    </div>
  );
}
