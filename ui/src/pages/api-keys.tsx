import { useState, type FormEvent } from 'react';
import { api, type ApiKey, type Role } from '../api';
import {
  Badge,
  Button,
  Check,
  Confirm,
  CopyButton,
  Empty,
  Field,
  Modal,
  PageHeader,
  Time,
  useAction,
} from '../components';
import { ListTable, usePaged } from '../lists';
import { useTitle } from '../router';
import { useSession } from '../session';

const roleHelp: Record<Role, string> = {
  admin: 'Everything in this organization.',
  publisher: 'Publishes events and reads event types: the key your application server holds.',
  viewer: 'Reads everything, changes nothing: for dashboards and support.',
};

export function ApiKeys() {
  useTitle('API keys');
  const { me, signOut } = useSession();
  const [showRevoked, setShowRevoked] = useState(false);
  const list = usePaged(
    (cursor) => api.listApiKeys({ cursor, limit: 100, include_revoked: showRevoked }),
    [showRevoked],
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKey & { key: string }>();
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [revoke, revokeBusy] = useAction(
    async (k: ApiKey) => {
      await api.revokeApiKey(k.id);
      setRevoking(null);
      if (k.id === me.key_id) signOut();
      else list.reload();
    },
    { success: 'Key revoked: requests with it now get 401.' },
  );

  return (
    <>
      <PageHeader
        title="API keys"
        subtitle="Keys of this organization. A key is shown once, when it is created; Hookline keeps only its hash."
        actions={
          <>
            <Check checked={showRevoked} onChange={setShowRevoked}>
              Show revoked
            </Check>
            <Button variant="primary" onClick={() => setCreating(true)}>
              + New key
            </Button>
          </>
        }
      />
      <ListTable
        list={list}
        empty={
          <Empty
            title="No keys"
            action={<Button onClick={() => setCreating(true)}>Create a key</Button>}
          >
            Create a publisher key for your application and viewer keys for people who only look.
          </Empty>
        }
        head={
          <>
            <th>Name</th>
            <th>Role</th>
            <th className="hide-sm">Key</th>
            <th className="hide-sm">Last used</th>
            <th className="hide-sm">Created</th>
            <th />
          </>
        }
        row={(k) => (
          <tr key={k.id} className={k.revoked_at ? 'archived' : undefined}>
            <td>
              {k.name || <span className="muted">unnamed</span>}{' '}
              {k.id === me.key_id && <Badge tone="blue">this session</Badge>}
              {k.revoked_at && <Badge tone="red">revoked</Badge>}
            </td>
            <td>
              <span className={`role role-${k.role}`}>{k.role}</span>
            </td>
            <td className="hide-sm mono small">{k.key_prefix}…</td>
            <td className="hide-sm">
              <Time iso={k.last_used_at} />
            </td>
            <td className="hide-sm">
              <Time iso={k.created_at} />
            </td>
            <td className="row-actions">
              {!k.revoked_at && (
                <Button
                  size="sm"
                  variant="ghost"
                  onClick={() => setRevoking(k)}
                  aria-label={`Revoke ${k.name || k.key_prefix}`}
                >
                  Revoke
                </Button>
              )}
            </td>
          </tr>
        )}
      />
      {creating && (
        <CreateKey
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setCreated(k);
            list.reload();
          }}
        />
      )}
      <Modal
        open={created !== undefined}
        onClose={() => setCreated(undefined)}
        title="Copy your new key now"
        footer={
          <Button variant="primary" onClick={() => setCreated(undefined)}>
            I have stored it
          </Button>
        }
      >
        <p>
          This is the only time the <strong>{created?.role}</strong> key{' '}
          {created?.name ? `“${created.name}”` : ''} is shown. Store it in your secret manager.
        </p>
        <div className="secret-row">
          <code className="secret" data-testid="new-key">
            {created?.key}
          </code>
          {created && <CopyButton text={created.key} />}
        </div>
      </Modal>
      <Confirm
        open={revoking !== null}
        title={`Revoke ${revoking?.name || revoking?.key_prefix}?`}
        confirmLabel="Revoke key"
        danger
        busy={revokeBusy}
        onConfirm={() => revoking && revoke(revoking)}
        onClose={() => setRevoking(null)}
      >
        <p>Every request with this key gets 401 from now on. This cannot be undone.</p>
        {revoking?.id === me.key_id && (
          <p className="text-bad">
            This is the key you are signed in with: you will be signed out.
          </p>
        )}
      </Confirm>
    </>
  );
}

function CreateKey({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (k: ApiKey & { key: string }) => void;
}) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('publisher');
  const [create, busy] = useAction(async () =>
    onCreated(await api.createApiKey({ role, ...(name.trim() ? { name: name.trim() } : {}) })),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create();
  };
  return (
    <Modal
      open
      onClose={onClose}
      title="New API key"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="key-form" busy={busy}>
            Create key
          </Button>
        </>
      }
    >
      <form id="key-form" onSubmit={submit}>
        <Field
          label="Name"
          htmlFor="key-name"
          hint="What uses it, e.g. billing-service (production)."
        >
          <input
            id="key-name"
            value={name}
            maxLength={255}
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
        </Field>
        <fieldset className="roles">
          <legend>Role</legend>
          {(['publisher', 'viewer', 'admin'] as Role[]).map((r) => (
            <label key={r} className={`role-option${role === r ? ' on' : ''}`}>
              <input
                type="radio"
                name="role"
                value={r}
                checked={role === r}
                onChange={() => setRole(r)}
              />
              <span>
                <strong>{r}</strong>
                <span className="muted small">{roleHelp[r]}</span>
              </span>
            </label>
          ))}
        </fieldset>
      </form>
    </Modal>
  );
}
