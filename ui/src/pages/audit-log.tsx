import { Fragment, useMemo } from 'react';
import { all, api } from '../api';
import { Code, Empty, formatTime, PageHeader, useResource } from '../components';
import {
  ClearFilters,
  FilterSelect,
  FilterText,
  rangeBounds,
  rangeFromQuery,
  rangeQuery,
  TimeFilter,
  useUrlQuery,
  NoMatches,
} from '../filters';
import { ListTable, usePaged } from '../lists';
import { Link, useTitle } from '../router';
import { useSession } from '../session';

const targetTypes: [string, string][] = [
  ['webhook', 'Webhook'],
  ['delivery', 'Delivery'],
  ['event_type', 'Event type'],
  ['api_key', 'API key'],
  ['organization', 'Organization'],
  ['tenant', 'Tenant'],
  ['portal_session', 'Portal session'],
  ['portal_settings', 'Portal settings'],
];

// What Hookline records (the API also takes `<type>.*` for every action on a type).
const knownActions = [
  'webhook.*',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'webhook.disabled',
  'webhook.tested',
  'webhook.replayed',
  'webhook.secret_rotated',
  'webhook.circuit_reset',
  'delivery.*',
  'delivery.retried',
  'delivery.skipped',
  'event_type.*',
  'event_type.created',
  'event_type.updated',
  'event_type.archived',
  'api_key.*',
  'api_key.created',
  'api_key.revoked',
  'organization.created',
  'tenant.*',
  'tenant.created',
  'tenant.updated',
  'tenant.deleted',
  'portal_session.created',
  'portal_session.revoked',
  'portal_settings.updated',
];

/** The URL's query names of the filters, as GET /audit-log takes them (plus the time range). */
const textFilters = ['action', 'target_type', 'target_id', 'key_id'] as const;

/** An entry's target: its name where the API gives one (the id on hover), linked where it has a page. */
function targetLink(type: string, id: string | null, name: string | null) {
  if (!id) return null;
  const text = name ?? id;
  const className = name ? 'small' : 'mono small';
  const title = name ? id : undefined;
  if (type === 'webhook')
    return (
      <Link to={`/webhooks/${id}`} className={className} title={title}>
        {text}
      </Link>
    );
  if (type === 'delivery')
    return (
      <Link
        to={`/deliveries?delivery=${encodeURIComponent(id)}`}
        className={className}
        title={title}
      >
        {text}
      </Link>
    );
  if (type === 'tenant')
    return (
      <Link to={`/tenants/${encodeURIComponent(id)}`} className={className} title={title}>
        {text}
      </Link>
    );
  return (
    <span className={className} title={title}>
      {text}
    </span>
  );
}

/** Who changed what: GET /audit-log with its filters (action, target, key, time) kept in the URL. */
export function AuditLog() {
  useTitle('Audit log');
  const { has } = useSession();
  const enabled = has('GET /audit-log');
  const [query, setQuery] = useUrlQuery();
  const f = Object.fromEntries(textFilters.map((k) => [k, query.get(k) ?? ''])) as Record<
    (typeof textFilters)[number],
    string
  >;
  const time = rangeFromQuery(query);
  const keys = useResource(
    () => all((cursor) => api.listApiKeys({ limit: 500, cursor, include_revoked: true })),
    [],
    { enabled },
  );
  const keyNames = useMemo(
    () => new Map((keys.data ?? []).map((k) => [k.id, k.name])),
    [keys.data],
  );
  const keyOptions: [string, string][] = (keys.data ?? []).map((k) => [
    k.id,
    `${k.name || k.id}${k.revoked_at ? ' (revoked)' : ''}`,
  ]);
  // A key id from a shared URL that this list does not know still shows as chosen.
  if (f.key_id && !keyNames.has(f.key_id)) keyOptions.push([f.key_id, f.key_id]);
  const key = JSON.stringify([f, time]);
  const list = usePaged(
    (cursor) =>
      api.auditLog({
        ...Object.fromEntries(textFilters.map((k) => [k, f[k] || undefined])),
        ...rangeBounds(time),
        cursor,
        limit: 50,
      }),
    [key],
    { pollMs: 15_000, enabled },
  );
  const filtered = textFilters.some((k) => f[k]) || Boolean(time.range);
  const clear = () =>
    setQuery({
      ...Object.fromEntries(textFilters.map((k) => [k, null])),
      ...rangeQuery({ range: '' }),
    });

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change made in this organization: who, what, when."
      />
      {!enabled ? (
        <div className="alert alert-info">
          This server does not offer the audit log (GET /audit-log) yet.
        </div>
      ) : (
        <>
          <div className="filters" role="search" aria-label="Filter the audit log">
            <FilterText
              label="Action"
              value={f.action}
              placeholder="e.g. webhook.*"
              suggestions={knownActions}
              onChange={(action) => setQuery({ action })}
            />
            <FilterSelect
              label="Target type"
              any="Any target"
              value={f.target_type}
              options={targetTypes}
              onChange={(target_type) => setQuery({ target_type })}
            />
            <FilterText
              label="Target id"
              value={f.target_id}
              placeholder="wh_…, dlv_…, name"
              onChange={(target_id) => setQuery({ target_id })}
            />
            <FilterSelect
              label="Key"
              any="Any key"
              value={f.key_id}
              options={keyOptions}
              onChange={(key_id) => setQuery({ key_id })}
            />
            <TimeFilter value={time} onChange={(t) => setQuery(rangeQuery(t))} />
            <ClearFilters filtered={filtered} onClear={clear} />
          </div>
          <ListTable
            list={list}
            empty={
              filtered ? (
                <NoMatches what="entries" onClear={clear} />
              ) : (
                <Empty title="Nothing recorded yet">
                  Changes to webhooks, event types and keys appear here as they happen.
                </Empty>
              )
            }
            label="Audit log"
            head={
              <>
                <th>When</th>
                <th>Action</th>
                <th>Target</th>
                <th>Key</th>
                <th>Changes</th>
              </>
            }
            row={(e) => (
              <tr key={e.id}>
                <td className="nowrap">{formatTime(e.created_at)}</td>
                <td className="mono small">
                  {/* May break after its dots, so a tablet fits the row's every column. */}
                  {e.action.split('.').map((part, i) => (
                    <Fragment key={i}>
                      {i > 0 && (
                        <>
                          .<wbr />
                        </>
                      )}
                      {part}
                    </Fragment>
                  ))}
                </td>
                <td>
                  <span className="muted small">{e.target_type}</span>{' '}
                  {targetLink(e.target_type, e.target_id, e.target_name)}
                </td>
                <td className="small">
                  {e.key_id ? (
                    <span title={e.key_id}>
                      {e.actor_name || keyNames.get(e.key_id) || (
                        <span className="mono">{e.key_id}</span>
                      )}
                    </span>
                  ) : (
                    <span className="muted">system</span>
                  )}
                </td>
                <td className="changes">
                  {e.changes && Object.keys(e.changes).length > 0 ? (
                    <details>
                      <summary>{Object.keys(e.changes).join(', ')}</summary>
                      <Code>{JSON.stringify(e.changes, null, 2)}</Code>
                    </details>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            )}
          />
        </>
      )}
    </>
  );
}
