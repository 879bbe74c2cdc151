import { useEffect, useMemo, useState } from 'react';
import { all, api, type DeliveryStatus, type EventSummary } from '../api';
import {
  Button,
  Check,
  Code,
  CopyButton,
  displayStatus,
  Empty,
  ErrorBox,
  formatTime,
  Loading,
  Modal,
  PageHeader,
  prettyJson,
  StatusBadge,
  Time,
  useResource,
} from '../components';
import {
  ClearFilters,
  FilterSelect,
  rangeBounds,
  rangeFromQuery,
  rangeQuery,
  TimeFilter,
  useUrlQuery,
  NoMatches,
} from '../filters';
import { ListTable, Table, usePaged } from '../lists';
import { NewRowsBanner, useHeldNew } from '../held-rows';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import { ResponseSummary, TERMINAL } from './deliveries';
import { PublishDialog } from './publish-event';
import { EventOutcome } from './event-outcome';

/** Hookline's own event types (docs/receiving.md, "Operational events"). */
const OPERATIONAL_PREFIX = 'hookline.';

/**
 * The events published in the organization (GET /events), newest first, with the filters in the
 * URL; `?event=` opens one with its payload and deliveries, `?publish=<type>` (or `new`) the
 * publish dialog (admins). The application's events only unless `?operational=1`: Hookline's own
 * `hookline.*` events can outnumber them and bury what the reader came for.
 */
export function Events() {
  useTitle('Events');
  const { canWrite, has } = useSession();
  const [query, setQuery] = useUrlQuery();
  const eventType = query.get('event_type') ?? '';
  const time = rangeFromQuery(query);
  const withOperational = query.get('operational') === '1';
  // A hookline.* type chosen in the filter is asked for whatever the toggle says.
  const operational = withOperational || eventType.startsWith(OPERATIONAL_PREFIX) ? 'all' : 'false';
  const openId = query.get('event');
  const publishing = canWrite && has('POST /events') ? query.get('publish') : null;
  const types = useResource(
    () => all((cursor) => api.listEventTypes({ limit: 500, cursor, include_archived: true })),
    [],
  );
  const key = JSON.stringify([eventType, time, operational]);
  // New events wait behind "N new · Show", as deliveries do (ui/src/held-rows.tsx).
  const held = useHeldNew<EventSummary>(key);
  const polled = usePaged(
    (cursor) =>
      held.track(
        api.listEvents({
          event_type: eventType || undefined,
          operational,
          ...rangeBounds(time),
          limit: 50,
          cursor,
        }),
        cursor,
      ),
    [key],
    { pollMs: 10_000 },
  );
  const { list, count: newCount, atLeast, show: showNew } = held.view(polled);
  const filtered = Boolean(eventType || time.range);
  const clear = () =>
    setQuery({ event_type: null, ...rangeQuery({ range: '' }), event: null, operational: null });
  const publishButton = publishing === null && canWrite && has('POST /events') && (
    <Button variant="primary" onClick={() => setQuery({ publish: 'new' })}>
      Publish event
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Events"
        subtitle="What your application published; each matching webhook got a delivery of it."
        actions={publishButton}
      />
      <div className="filters" role="search" aria-label="Filter events">
        <FilterSelect
          label="Event type"
          any="Any event type"
          value={eventType}
          options={(types.data ?? []).map((t) => [t.name, t.name])}
          onChange={(v) => setQuery({ event_type: v, event: null })}
        />
        <TimeFilter value={time} onChange={(t) => setQuery({ ...rangeQuery(t), event: null })} />
        <Check
          checked={withOperational}
          onChange={(on) => setQuery({ operational: on ? '1' : null, event: null })}
        >
          Show operational events (hookline.*)
        </Check>
        <ClearFilters filtered={filtered} onClear={clear} />
      </div>
      <NewRowsBanner
        count={newCount}
        atLeast={atLeast}
        what={['event', 'events']}
        onShow={showNew}
      />
      <ListTable
        list={list}
        empty={
          filtered ? (
            <NoMatches what="events" onClear={clear} />
          ) : (
            <Empty title="No events yet" action={publishButton || undefined}>
              Your application publishes events with POST /api/v1/events
              {canWrite ? '; you can publish one from here to try a webhook.' : '.'}
              {!withOperational &&
                " Hookline's own events (hookline.*) are shown with the switch above."}
            </Empty>
          )
        }
        className="table-click"
        label="Events"
        head={
          <>
            <th>Event</th>
            <th>Deliveries</th>
            <th className="hide-sm">Idempotency key</th>
            <th>Published</th>
          </>
        }
        row={(e) => (
          <tr
            key={e.id}
            onClick={() => setQuery({ event: e.id })}
            className={e.id === openId ? 'selected' : undefined}
          >
            <td>
              <button
                className="linkish mono"
                onClick={(ev) => (ev.stopPropagation(), setQuery({ event: e.id }))}
                aria-label={`Open event ${e.id}: ${e.event_type}`}
              >
                {e.event_type}
              </button>
              <div className="mono small muted">{e.id}</div>
            </td>
            <td>
              <EventOutcome s={e.deliveries_summary} />
            </td>
            <td className="hide-sm mono small">
              {e.idempotency_key ?? <span className="muted">—</span>}
            </td>
            <td>
              <Time iso={e.created_at} />
            </td>
          </tr>
        )}
      />
      <EventDrawer id={openId} onClose={() => setQuery({ event: null })} />
      {publishing !== null && (
        <PublishDialog
          initialType={publishing === 'new' ? undefined : publishing}
          onClose={() => setQuery({ publish: null })}
          onPublished={() => {
            // The reader's own event is not news to them: it shows at once.
            held.showAll();
            list.reload();
          }}
        />
      )}
    </>
  );
}

/** One event: its payload, and each delivery it made (linked to the delivery log's detail). */
function EventDrawer({ id, onClose }: { id: string | null; onClose: () => void }) {
  // Once every delivery is finished nothing changes by itself: polling stops until another opens.
  const [finished, setFinished] = useState(false);
  const detail = useResource(() => (id ? api.getEvent(id) : Promise.resolve(undefined)), [id], {
    pollMs: finished ? undefined : 3000,
    enabled: Boolean(id),
  });
  const loaded = detail.data && detail.data.id === id ? detail.data : undefined;
  const allDone = Boolean(loaded?.deliveries.every((d) => TERMINAL.includes(d.status)));
  useEffect(() => setFinished(allDone), [allDone]);
  const webhooks = useResource(
    () => all((cursor) => api.listWebhooks({ limit: 500, cursor })),
    [],
    { enabled: Boolean(id) },
  );
  const names = useMemo(
    () => new Map((webhooks.data ?? []).map((w) => [w.id, w.name])),
    [webhooks.data],
  );
  const e = loaded;
  return (
    <Modal
      open={Boolean(id)}
      onClose={onClose}
      drawer
      title={e ? <span className="mono">{e.event_type}</span> : 'Event'}
    >
      {detail.error && !e ? (
        <ErrorBox error={detail.error} onRetry={detail.reload} />
      ) : !e ? (
        <Loading />
      ) : (
        <div className="drawer-content">
          <dl className="props">
            <dt>Event</dt>
            <dd className="mono">
              {e.id} <CopyButton text={e.id} />
            </dd>
            <dt>Published</dt>
            <dd>{formatTime(e.created_at)}</dd>
            {e.idempotency_key && (
              <>
                <dt>Idempotency key</dt>
                <dd className="mono">{e.idempotency_key}</dd>
              </>
            )}
          </dl>
          <section>
            <h3>Payload</h3>
            <Code>{prettyJson(e.payload)}</Code>
          </section>
          <section>
            <h3>
              Deliveries <span className="muted small">{e.deliveries.length}</span>
            </h3>
            {e.deliveries.length === 0 ? (
              <p className="muted">
                No active webhook was subscribed to {e.event_type} when it was published.
              </p>
            ) : (
              <Table label="Deliveries of this event">
                {e.deliveries.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <StatusBadge
                        status={displayStatus({
                          status: d.status as DeliveryStatus,
                          attempts: d.attempts,
                        })}
                      />
                    </td>
                    <td className="truncate">
                      <Link
                        to={`/deliveries?delivery=${encodeURIComponent(d.id)}`}
                        aria-label={`Delivery ${d.id} to ${names.get(d.webhook_id) ?? d.webhook_id}`}
                      >
                        {names.get(d.webhook_id) ?? (
                          <span className="mono small">{d.webhook_id}</span>
                        )}
                      </Link>
                    </td>
                    <td>
                      <ResponseSummary code={d.last_status_code} error={d.last_error} />
                    </td>
                  </tr>
                ))}
              </Table>
            )}
          </section>
        </div>
      )}
    </Modal>
  );
}
