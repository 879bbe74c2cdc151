import { useState } from 'react';
import { tenantsApi, tenantSummary, type Tenant, type TenantSummary } from '../tenants-api';
import {
  Badge,
  Button,
  Check,
  Empty,
  Field,
  Modal,
  PageHeader,
  percent,
  Time,
  useAction,
  useResource,
} from '../components';
import { ListTable, usePaged } from '../lists';
import { FilterText, useUrlQuery } from '../filters';
import { Link, navigate, useTitle } from '../router';
import { useSession } from '../session';
import { ApiError } from '../api';
import { PortalSettingsDialog } from './portal-settings';

/** The health of a tenant's webhooks, in one badge. */
export function TenantHealth({ s }: { s: TenantSummary | undefined }) {
  if (!s) return <span className="muted">—</span>;
  if (s.webhooks === 0) return <span className="muted">No webhooks</span>;
  if (s.disabled > 0) return <Badge tone="red">{s.disabled} disabled</Badge>;
  if (s.failing > 0) return <Badge tone="amber">{s.failing} failing</Badge>;
  return <Badge tone="green">Healthy</Badge>;
}

/** The organization's customers, each with webhooks of its own and a portal to manage them. */
export function Tenants() {
  useTitle('Tenants');
  const { canWrite, has } = useSession();
  const [query, setQuery] = useUrlQuery();
  const q = query.get('q') ?? '';
  const list = usePaged((cursor) => tenantsApi.list({ q, cursor, limit: 25 }), [q]);
  const ids = list.items.map((t) => t.id).join(',');
  // One summary per tenant shown (two calls each): no polling, so a page of tenants stays cheap.
  const summaries = useResource(
    async () => {
      const out = new Map<string, TenantSummary>();
      await Promise.all(
        list.items.map(async (t) => {
          try {
            out.set(t.id, await tenantSummary(t.id));
          } catch {
            // A tenant whose summary failed shows dashes; the list itself still works.
          }
        }),
      );
      return out;
    },
    [ids],
    { enabled: list.items.length > 0 },
  );
  const [creating, setCreating] = useState(false);
  const [branding, setBranding] = useState(false);

  return (
    <>
      <PageHeader
        title="Tenants"
        subtitle="Your customers: each has webhooks of its own, which it manages in the portal."
        actions={
          canWrite && (
            <>
              {has('GET /portal-settings') && (
                <Button onClick={() => setBranding(true)}>Portal settings</Button>
              )}
              {has('PUT /tenants/:id') && (
                <Button variant="primary" onClick={() => setCreating(true)}>
                  + New tenant
                </Button>
              )}
            </>
          )
        }
      />
      <div className="filters" role="search" aria-label="Search tenants">
        <FilterText
          label="Search tenants"
          value={q}
          placeholder="Id or name starts with…"
          onChange={(v) => setQuery({ q: v })}
        />
      </div>
      <ListTable
        list={list}
        className="table-click"
        label="Tenants"
        empty={
          q ? (
            <Empty title="No tenant matches">No tenant id or name starts with “{q}”.</Empty>
          ) : (
            <Empty title="No tenants yet">
              Your application creates them with <code>PUT /api/v1/tenants/&#123;id&#125;</code>,
              using its own customer ids, the first time a customer turns webhooks on.
            </Empty>
          )
        }
        head={
          <>
            <th>Tenant</th>
            <th className="num">Webhooks</th>
            <th>Health</th>
            <th className="num">Success (24h)</th>
            <th className="hide-sm">Created</th>
          </>
        }
        row={(t) => {
          const s = summaries.data?.get(t.id);
          return (
            <tr
              key={t.id}
              onClick={(e) =>
                !(e.target as HTMLElement).closest('a') &&
                navigate(`/tenants/${encodeURIComponent(t.id)}`)
              }
            >
              <td>
                <Link to={`/tenants/${encodeURIComponent(t.id)}`} className="strong">
                  {t.name || t.id}
                </Link>
                {!t.is_active && (
                  <>
                    {' '}
                    <Badge tone="neutral">Inactive</Badge>
                  </>
                )}
                <div className="mono small muted truncate">{t.id}</div>
              </td>
              <td className="num">{s ? s.webhooks : '—'}</td>
              <td>
                <TenantHealth s={s} />
              </td>
              <td className="num">{s ? percent(s.successRate) : '—'}</td>
              <td className="hide-sm">
                <Time iso={t.created_at} />
              </td>
            </tr>
          );
        }}
      />
      <TenantDialog
        open={creating}
        onClose={() => setCreating(false)}
        onSaved={(t) => navigate(`/tenants/${encodeURIComponent(t.id)}`)}
      />
      <PortalSettingsDialog open={branding} onClose={() => setBranding(false)} />
    </>
  );
}

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** Create a tenant (with the application's own id) or edit one's name and state. */
export function TenantDialog({
  open,
  tenant,
  onClose,
  onSaved,
}: {
  open: boolean;
  tenant?: Tenant;
  onClose: () => void;
  onSaved: (t: Tenant) => void;
}) {
  const [id, setId] = useState('');
  const [name, setName] = useState(tenant?.name ?? '');
  const [active, setActive] = useState(tenant?.is_active ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [save, saving] = useAction(
    async () => {
      if (!tenant && !TENANT_ID.test(id.trim())) {
        setErrors({
          id: 'Letters, digits and _ . : - (up to 64), starting with a letter or digit.',
        });
        return undefined;
      }
      setErrors({});
      const body = { ...(name.trim() ? { name: name.trim() } : {}), is_active: active };
      const t = tenant
        ? await tenantsApi.update(tenant.id, body)
        : await tenantsApi.put(id.trim(), body);
      onSaved(t);
      onClose();
      return t;
    },
    {
      success: tenant ? 'Tenant saved.' : 'Tenant created.',
      onError: (e) => {
        if (!(e instanceof ApiError) || e.fields.length === 0) return false;
        const out: Record<string, string> = {};
        for (const f of e.fields) out[f.field.replace(/^(body|params)\./, '')] = f.message;
        setErrors(out);
        return true;
      },
    },
  );
  return (
    <Modal
      open={open}
      onClose={onClose}
      title={tenant ? `Edit ${tenant.name || tenant.id}` : 'New tenant'}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={saving} onClick={() => save()}>
            {tenant ? 'Save' : 'Create'}
          </Button>
        </>
      }
    >
      {!tenant && (
        <Field
          label="Id"
          htmlFor="tenant-id"
          hint="Your application's own id for this customer; it cannot change."
          error={errors.id ?? errors.tenant_id}
        >
          <input
            id="tenant-id"
            className="mono"
            value={id}
            spellCheck={false}
            onChange={(e) => setId(e.target.value)}
          />
        </Field>
      )}
      <Field label="Name" htmlFor="tenant-name" error={errors.name}>
        <input id="tenant-name" value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Check checked={active} onChange={setActive}>
        Active (an inactive tenant gets no deliveries, and its portal links stop working)
      </Check>
    </Modal>
  );
}
