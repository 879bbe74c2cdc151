import { useState } from 'react';
import { api, type StatsWindow, type Webhook } from '../api';
import {
  Button,
  ErrorBox,
  Field,
  Loading,
  ms,
  percent,
  errorText,
  useAction,
  useResource,
} from '../components';
import { VolumeChart } from '../charts';
import { WindowPicker } from './dashboard';

// The activity cards of a webhook's page: its delivery stats, and replaying a time range.

/** The webhook's delivery counts, success rate and latency over a window, with its volume chart. */
export function StatsCard({ id }: { id: string }) {
  const [window, setWindow] = useState<StatsWindow>('24h');
  const stats = useResource(() => api.webhookStats(id, window), [id, window], { pollMs: 15_000 });
  return (
    <section className="card">
      <div className="card-head">
        <h2>Activity</h2>
        <WindowPicker value={window} onChange={setWindow} />
      </div>
      {stats.error && !stats.data ? (
        <ErrorBox error={stats.error} onRetry={stats.reload} />
      ) : !stats.data ? (
        <Loading />
      ) : (
        <>
          <div className="kpis kpis-inline">
            <div className="kpi">
              <div className="kpi-label">Deliveries</div>
              <div className="kpi-value">{stats.data.total}</div>
            </div>
            <div className="kpi">
              <div className="kpi-label">Success rate</div>
              <div className="kpi-value">{percent(stats.data.success_rate)}</div>
            </div>
            <div className="kpi">
              <div className="kpi-label">p95 latency</div>
              <div className="kpi-value">{ms(stats.data.latency_ms.p95)}</div>
            </div>
            <div className="kpi">
              <div className="kpi-label">Failed</div>
              <div className="kpi-value">{stats.data.failed}</div>
            </div>
          </div>
          <VolumeChart series={stats.data.series} window={window} />
        </>
      )}
    </section>
  );
}

function toLocalInput(d: Date): string {
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

/** Queues again the deliveries of a time range (failed or all), after a dry-run count. */
export function ReplayCard({ w, onQueued }: { w: Webhook; onQueued: () => void }) {
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 86400e3)));
  const [until, setUntil] = useState('');
  const [status, setStatus] = useState<'failed' | 'all'>('failed');
  const [eventType, setEventType] = useState('');
  const [matched, setMatched] = useState<number>();
  const [error, setError] = useState<string>();
  const body = () => ({
    since: new Date(since).toISOString(),
    ...(until ? { until: new Date(until).toISOString() } : {}),
    status,
    ...(eventType ? { event_type: eventType } : {}),
  });
  const [check, checking] = useAction(
    async () => {
      setError(undefined);
      if (!since || Number.isNaN(new Date(since).getTime())) {
        setError('Choose when the replay starts.');
        return;
      }
      const r = await api.replay(w.id, { ...body(), dry_run: true });
      setMatched(r.matched ?? r.queued ?? 0);
    },
    { onError: (e) => (setError(errorText(e)), true) },
  );
  const [run, running] = useAction(
    async () => {
      const r = await api.replay(w.id, body());
      setMatched(undefined);
      onQueued();
      return r.queued ?? 0;
    },
    { success: (n) => `${n} deliver${n === 1 ? 'y' : 'ies'} queued again.` },
  );
  const reset = () => setMatched(undefined);
  return (
    <section className="card">
      <div className="card-head">
        <h2>Replay deliveries</h2>
      </div>
      <p className="muted small">
        Queue again the deliveries of a time range, e.g. after fixing an outage. Check how many
        match before replaying.
      </p>
      <div className="form-grid form-grid-4">
        <Field label="Since" htmlFor="replay-since">
          <input
            id="replay-since"
            type="datetime-local"
            value={since}
            onChange={(e) => (setSince(e.target.value), reset())}
          />
        </Field>
        <Field label="Until (optional)" htmlFor="replay-until">
          <input
            id="replay-until"
            type="datetime-local"
            value={until}
            onChange={(e) => (setUntil(e.target.value), reset())}
          />
        </Field>
        <Field label="Which" htmlFor="replay-status">
          <select
            id="replay-status"
            value={status}
            onChange={(e) => (setStatus(e.target.value as 'failed' | 'all'), reset())}
          >
            <option value="failed">Failed only</option>
            <option value="all">All deliveries</option>
          </select>
        </Field>
        <Field label="Event type" htmlFor="replay-type">
          <select
            id="replay-type"
            value={eventType}
            onChange={(e) => (setEventType(e.target.value), reset())}
          >
            <option value="">Any</option>
            {w.events
              .filter((e) => !e.includes('*'))
              .map((e) => (
                <option key={e} value={e}>
                  {e}
                </option>
              ))}
          </select>
        </Field>
      </div>
      {error && (
        <div className="alert alert-error" role="alert">
          {error}
        </div>
      )}
      <div className="row">
        {matched === undefined ? (
          <Button busy={checking} onClick={() => check()}>
            Check how many match
          </Button>
        ) : matched === 0 ? (
          <>
            <span className="muted" role="status">
              No deliveries match; nothing to replay.
            </span>
            <Button variant="ghost" size="sm" onClick={reset}>
              Change
            </Button>
          </>
        ) : (
          <>
            <span role="status">
              <strong>{matched}</strong> deliver{matched === 1 ? 'y matches' : 'ies match'}.
            </span>
            <Button variant="primary" busy={running} onClick={() => run()}>
              Replay {matched}
            </Button>
            <Button variant="ghost" size="sm" onClick={reset}>
              Cancel
            </Button>
          </>
        )}
      </div>
    </section>
  );
}
