import { useEffect, useMemo, useState } from 'react';
import {
  all,
  api,
  attemptsOf,
  type Attempt,
  type Delivery,
  type DeliveryFilters,
  type Webhook,
} from '../api';
import {
  Button,
  Code,
  CopyButton,
  displayStatus,
  Empty,
  ErrorBox,
  formatTime,
  Loading,
  Modal,
  ms,
  PageHeader,
  prettyJson,
  StatusBadge,
  Time,
  useAction,
  useResource,
} from '../components';
import { ListTable, usePaged } from '../lists';
import { NewRowsBanner, useHeldNew } from '../held-rows';
import { Link, useTitle } from '../router';
import {
  ClearFilters,
  FilterSelect,
  rangeBounds,
  rangeFromQuery,
  rangeQuery,
  TimeFilter,
  useUrlQuery,
  type TimeRange,
  NoMatches,
} from '../filters';
import { useSession } from '../session';
import { explainAttempt } from '../attempt-errors';
import { ErrorSentence } from '../health';

/** Delivery states that do not change by themselves (docs/delivery-states.md): nothing to poll. */
export const TERMINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];
const statusOptions: [string, string][] = [
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['pending', 'Pending'],
  ['retrying', 'Retrying'],
  ['sending', 'Sending'],
  ['cancelled', 'Cancelled'],
  ['skipped', 'Skipped'],
];

export interface LogFilters extends TimeRange {
  status: string;
  event_type: string;
  webhook: string;
  /** '' for all, 'true' for test sends only, 'false' for published events only. */
  kind: string;
}

export const noFilters: LogFilters = {
  status: '',
  event_type: '',
  webhook: '',
  kind: '',
  range: '',
};
const kindOptions: [string, string][] = [
  ['false', 'Published events'],
  ['true', 'Test sends'],
];

function apiFilters(f: LogFilters, cursor?: string): DeliveryFilters {
  return {
    status: f.status || undefined,
    event_type: f.event_type || undefined,
    is_test: f.kind || undefined,
    ...rangeBounds(f),
    limit: 50,
    cursor,
  };
}

/**
 * The delivery filters and the open delivery, kept in the page's URL so a filtered view can be
 * shared ("View failed deliveries" links to one); other query parameters are left alone.
 */
export function useUrlLogFilters(): [
  LogFilters,
  (f: LogFilters) => void,
  string | null,
  (id: string | null) => void,
] {
  const [query, setQuery] = useUrlQuery();
  const filters: LogFilters = {
    status: query.get('status') ?? '',
    event_type: query.get('event_type') ?? '',
    webhook: query.get('webhook') ?? '',
    kind: query.get('kind') ?? '',
    ...rangeFromQuery(query),
  };
  const setFilters = (f: LogFilters) =>
    setQuery({
      status: f.status,
      event_type: f.event_type,
      webhook: f.webhook,
      kind: f.kind,
      ...rangeQuery(f),
      delivery: null,
    });
  return [filters, setFilters, query.get('delivery'), (id) => setQuery({ delivery: id })];
}

/** The organization's delivery log, with its filters kept in the URL so a view can be shared. */
export function DeliveryLog() {
  useTitle('Deliveries');
  const [filters, setFilters, open, setOpen] = useUrlLogFilters();
  return (
    <>
      <PageHeader
        title="Deliveries"
        subtitle="Every event sent to every webhook, with each attempt's request and response."
      />
      <Deliveries filters={filters} onFilters={setFilters} openId={open} onOpen={setOpen} />
    </>
  );
}

/** A delivery list with filters and a detail drawer; used by the log and by a webhook's page. */
export function Deliveries({
  filters,
  onFilters,
  openId,
  onOpen,
  webhook,
}: {
  filters: LogFilters;
  onFilters: (f: LogFilters) => void;
  openId: string | null;
  onOpen: (id: string | null) => void;
  /** Set on a webhook's page: its deliveries only. */
  webhook?: Webhook;
}) {
  const webhooks = useResource(
    () => all((cursor) => api.listWebhooks({ limit: 500, cursor })),
    [],
    { enabled: !webhook },
  );
  const types = useResource(
    () => all((cursor) => api.listEventTypes({ limit: 500, cursor, include_archived: true })),
    [],
  );
  const byId = useMemo(
    () => new Map((webhook ? [webhook] : (webhooks.data ?? [])).map((w) => [w.id, w])),
    [webhooks.data, webhook],
  );
  const webhookId = webhook?.id ?? filters.webhook;
  const key = JSON.stringify([filters, webhookId]);
  // Rows that arrive while the list is read wait behind "N new · Show" instead of pushing the
  // row under the reader's cursor down (issue: lists that don't move).
  const held = useHeldNew<Delivery>(key);
  const polled = usePaged(
    (cursor) =>
      held.track(
        webhookId
          ? api.webhookDeliveries(webhookId, apiFilters(filters, cursor))
          : api.listDeliveries(apiFilters(filters, cursor)),
        cursor,
      ),
    [key],
    { pollMs: 5000 },
  );
  const { list, count: newCount, atLeast, show: showNew } = held.view(polled);
  const filtered = Boolean(
    filters.status ||
    filters.event_type ||
    filters.kind ||
    filters.range ||
    (!webhook && filters.webhook),
  );
  const set = (patch: Partial<LogFilters>) => onFilters({ ...filters, ...patch });

  return (
    <>
      <div className="filters" role="search" aria-label="Filter deliveries">
        <FilterSelect
          label="Status"
          any="Any status"
          value={filters.status}
          options={statusOptions}
          onChange={(status) => set({ status })}
        />
        <FilterSelect
          label="Event type"
          any="Any event type"
          value={filters.event_type}
          options={(types.data ?? []).map((t) => [t.name, t.name])}
          onChange={(event_type) => set({ event_type })}
        />
        {!webhook && (
          <FilterSelect
            label="Webhook"
            any="Any webhook"
            value={filters.webhook}
            options={(webhooks.data ?? []).map((w) => [w.id, w.name])}
            onChange={(id) => set({ webhook: id })}
          />
        )}
        <FilterSelect
          label="Kind"
          any="Events and tests"
          value={filters.kind}
          options={kindOptions}
          onChange={(kind) => set({ kind })}
        />
        <TimeFilter value={filters} onChange={(t) => set(t)} />
        <ClearFilters filtered={filtered} onClear={() => onFilters(noFilters)} />
      </div>

      <NewRowsBanner
        count={newCount}
        atLeast={atLeast}
        what={['delivery', 'deliveries']}
        onShow={showNew}
      />
      <ListTable
        list={list}
        empty={
          filtered ? (
            <NoMatches what="deliveries" onClear={() => onFilters(noFilters)} />
          ) : (
            <Empty title="No deliveries yet">
              {webhook
                ? 'Deliveries appear here when an event this webhook subscribes to is published, or when you send a test.'
                : 'Publish an event with POST /api/v1/events; every matching active webhook gets a delivery, listed here.'}
            </Empty>
          )
        }
        className="table-click"
        label="Deliveries"
        head={
          <>
            <th>Status</th>
            <th>Event</th>
            {!webhook && <th className="hide-sm">Webhook</th>}
            <th className="num hide-sm">Attempts</th>
            <th className="hide-sm">Response</th>
            <th>Created</th>
          </>
        }
        row={(d) => (
          <tr
            key={d.id}
            onClick={() => onOpen(d.id)}
            className={d.id === openId ? 'selected' : undefined}
          >
            <td>
              <StatusBadge status={displayStatus(d)} />
            </td>
            <td>
              <button
                className="linkish mono"
                onClick={(e) => (e.stopPropagation(), onOpen(d.id))}
                aria-label={`Open delivery ${d.id}: ${d.event_type}`}
              >
                {d.event_type}
              </button>
              {d.is_test && <span className="chip chip-test">test</span>}
              <div className="mono small muted">{d.id}</div>
            </td>
            {!webhook && (
              <td className="hide-sm truncate">
                {byId.get(d.webhook_id)?.name ?? <span className="mono small">{d.webhook_id}</span>}
              </td>
            )}
            <td className="num hide-sm">{d.attempts}</td>
            <td className="hide-sm">
              <ResponseSummary code={d.last_status_code} error={d.last_error} />
            </td>
            <td>
              <Time iso={d.created_at} />
            </td>
          </tr>
        )}
      />
      <DeliveryDrawer
        id={openId}
        webhook={webhook}
        webhooks={byId}
        onClose={() => onOpen(null)}
        onChanged={list.reload}
      />
    </>
  );
}

/**
 * A delivery's or attempt's outcome in a row: the status code, and for errors without one
 * (`connection_refused`…) the plain sentence, its hint on hover (attempt-errors.ts).
 */
export function ResponseSummary({
  code,
  error,
}: {
  code: number | null | undefined;
  error: string | null | undefined;
}) {
  if (code == null && !error) return <span className="muted">—</span>;
  const ok = code != null && code >= 200 && code < 300;
  const e = explainAttempt(error, code);
  const sentence = error && error !== 'http_error' ? e?.sentence : undefined;
  return (
    <span
      className={ok ? 'text-good' : 'text-bad'}
      title={e ? `${e.sentence} ${e.hint}` : undefined}
    >
      {code != null && <span className="mono">{code}</span>}
      {code != null && sentence && ' · '}
      {sentence && <span className="small">{sentence}</span>}
    </span>
  );
}

function DeliveryDrawer({
  id,
  webhook,
  webhooks,
  onClose,
  onChanged,
}: {
  id: string | null;
  webhook?: Webhook;
  webhooks: Map<string, Webhook>;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { canWrite, has } = useSession();
  // A finished delivery does not change by itself: polling stops once it is terminal and starts
  // again when it is not (after "Retry now", or another delivery opened).
  const [finished, setFinished] = useState(false);
  const detail = useResource(() => (id ? api.getDelivery(id) : Promise.resolve(undefined)), [id], {
    pollMs: finished ? undefined : 3000,
    enabled: Boolean(id),
  });
  const d = detail.data && detail.data.id === id ? detail.data : undefined;
  const isFinished = Boolean(d && TERMINAL.includes(d.status));
  useEffect(() => setFinished(isFinished), [isFinished]);
  const hook = d
    ? webhook?.id === d.webhook_id
      ? webhook
      : webhooks.get(d.webhook_id)
    : undefined;
  const fifo = useResource(
    () => (d && !hook ? api.getWebhook(d.webhook_id) : Promise.resolve(hook)),
    [d?.webhook_id, hook?.id],
    { enabled: Boolean(d) },
  );
  const event = useResource(
    () => (d ? api.getEvent(d.event_id) : Promise.resolve(undefined)),
    [d?.event_id],
    {
      enabled: Boolean(d) && has('GET /events/:id'),
    },
  );
  const [retry, retrying] = useAction(
    async () => {
      await api.retryDelivery(id!);
      detail.reload();
      onChanged();
    },
    { success: 'Retry queued: the worker sends it now.' },
  );
  const [skip, skipping] = useAction(
    async () => {
      await api.skipDelivery(id!);
      detail.reload();
      onChanged();
    },
    { success: 'Delivery skipped: the deliveries behind it can go out.' },
  );

  const attempts = d ? attemptsOf(d) : [];
  const count = d ? (typeof d.attempts === 'number' ? d.attempts : attempts.length) : 0;
  const status = d ? displayStatus({ status: d.status, attempts: count }) : undefined;
  const isFifo = (hook ?? fifo.data)?.ordering === 'fifo';
  // The server refuses to queue a delivery of a webhook that is off (the worker would cancel it):
  // say so instead of offering a retry that will not be sent.
  const target = hook ?? fifo.data;
  const off =
    target && !target.is_active
      ? target.disabled_reason
        ? 'Hookline disabled this webhook, so a retry would not be sent. Re-enable the webhook on its page first.'
        : 'This webhook is paused, so a retry would not be sent. Resume the webhook on its page first.'
      : undefined;

  return (
    <Modal
      open={Boolean(id)}
      onClose={onClose}
      drawer
      title={d ? <span className="mono">{d.event_type}</span> : 'Delivery'}
    >
      {detail.error && !d ? (
        <ErrorBox error={detail.error} onRetry={detail.reload} />
      ) : !d ? (
        <Loading />
      ) : (
        <div className="drawer-content">
          <div className="drawer-actions">
            <StatusBadge status={status!} />
            {canWrite && has('POST /deliveries/:id/retry') && (
              <Button
                size="sm"
                variant="primary"
                busy={retrying}
                disabled={off !== undefined}
                aria-describedby={off ? 'retry-off' : undefined}
                onClick={() => retry()}
              >
                Retry now
              </Button>
            )}
            {canWrite &&
              isFifo &&
              !TERMINAL.includes(d.status) &&
              has('POST /deliveries/:id/skip') && (
                <Button size="sm" busy={skipping} onClick={() => skip()}>
                  Skip (FIFO)
                </Button>
              )}
          </div>
          {off && canWrite && (
            <p className="alert alert-info small" id="retry-off">
              {off}
            </p>
          )}
          <dl className="props">
            <dt>Delivery</dt>
            <dd className="mono">
              {d.id} <CopyButton text={d.id} />
            </dd>
            <dt>Webhook</dt>
            <dd>
              {hook || fifo.data ? (
                <Link to={`/webhooks/${d.webhook_id}`}>{(hook ?? fifo.data)!.name}</Link>
              ) : (
                <span className="mono">{d.webhook_id}</span>
              )}
            </dd>
            <dt>Event</dt>
            <dd>
              {has('GET /events/:id') ? (
                <Link to={`/events?event=${encodeURIComponent(d.event_id)}`} className="mono">
                  {d.event_id}
                </Link>
              ) : (
                <span className="mono">{d.event_id}</span>
              )}
            </dd>
            <dt>Attempts</dt>
            <dd>{count}</dd>
            <dt>Created</dt>
            <dd>{formatTime(d.created_at)}</dd>
            {d.status === 'pending' && d.next_attempt_at && (
              <>
                <dt>Next attempt</dt>
                <dd>
                  <Time iso={d.next_attempt_at} />
                </dd>
              </>
            )}
            {d.completed_at && (
              <>
                <dt>Finished</dt>
                <dd>{formatTime(d.completed_at)}</dd>
              </>
            )}
          </dl>

          {event.data && event.data.payload !== undefined && (
            <section>
              <h3>Payload</h3>
              <Code>{prettyJson(event.data.payload)}</Code>
            </section>
          )}

          <section>
            <h3>Attempts</h3>
            {attempts.length === 0 ? (
              <p className="muted">
                No attempt yet{d.status === 'pending' ? ': it is queued.' : '.'}
              </p>
            ) : (
              <ol className="attempts">
                {[...attempts].reverse().map((a) => (
                  <AttemptView
                    key={a.id ?? a.attempt}
                    a={a}
                    defaultOpen={a === attempts[attempts.length - 1]}
                  />
                ))}
              </ol>
            )}
          </section>
        </div>
      )}
    </Modal>
  );
}

function AttemptView({ a, defaultOpen }: { a: Attempt; defaultOpen: boolean }) {
  const ok =
    a.response_status != null && a.response_status >= 200 && a.response_status < 300 && !a.error;
  return (
    <li className="attempt">
      <details open={defaultOpen}>
        <summary>
          <span className={`dot ${ok ? 'dot-ok' : 'dot-fail'}`} aria-hidden />
          <span className="strong">Attempt {a.attempt}</span>
          <ResponseSummary code={a.response_status} error={a.error} />
          <span className="muted small">
            {formatTime(a.started_at)} · {ms(a.duration_ms)}
          </span>
        </summary>
        <div className="attempt-body">
          <h4>Request headers</h4>
          <Code>{headersText(a.request_headers)}</Code>
          <h4>
            Response{' '}
            {a.response_status != null && <span className="mono">{a.response_status}</span>}
          </h4>
          {a.response_headers && Object.keys(a.response_headers).length > 0 && (
            <Code>{headersText(a.response_headers)}</Code>
          )}
          {!ok && (
            <p className="attempt-explained">
              <ErrorSentence error={a.error} status={a.response_status} hint />
            </p>
          )}
          {a.response_body ? (
            <Code>{prettyJson(a.response_body)}</Code>
          ) : (
            <p className="muted small">{a.error ? 'No response body.' : 'Empty body.'}</p>
          )}
        </div>
      </details>
    </li>
  );
}

function headersText(h: Record<string, string> | null): string {
  if (!h || Object.keys(h).length === 0) return '(none)';
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join('\n');
}
