import { api } from '../api';
import { Code, Empty, formatTime, PageHeader } from '../components';
import { ListTable, usePaged } from '../lists';
import { Link, useTitle } from '../router';
import { useSession } from '../session';

function targetLink(type: string, id: string | null) {
  if (!id) return null;
  if (type === 'webhook') return <Link to={`/webhooks/${id}`} className="mono small">{id}</Link>;
  if (type === 'delivery') return <Link to={`/deliveries?delivery=${encodeURIComponent(id)}`} className="mono small">{id}</Link>;
  return <span className="mono small">{id}</span>;
}

export function AuditLog() {
  useTitle('Audit log');
  const { has } = useSession();
  const enabled = has('GET /audit-log');
  const list = usePaged((cursor) => api.auditLog({ cursor, limit: 50 }), [], { pollMs: 15_000, enabled });
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change made in this organization: who, what, when." />
      {!enabled ? (
        <div className="alert alert-info">This server does not offer the audit log (GET /audit-log) yet.</div>
      ) : (
        <ListTable
          list={list}
          empty={<Empty title="Nothing recorded yet">Changes to webhooks, event types and keys appear here as they happen.</Empty>}
          head={
            <>
              <th>When</th>
              <th>Action</th>
              <th className="hide-sm">Target</th>
              <th className="hide-sm">Key</th>
              <th className="hide-sm">Changes</th>
            </>
          }
          row={(e) => (
            <tr key={e.id}>
              <td className="nowrap">{formatTime(e.created_at)}</td>
              <td className="mono small">{e.action}</td>
              <td className="hide-sm">
                <span className="muted small">{e.target_type}</span> {targetLink(e.target_type, e.target_id)}
              </td>
              <td className="hide-sm mono small">{e.key_id ?? 'system'}</td>
              <td className="hide-sm changes">
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
      )}
    </>
  );
}
