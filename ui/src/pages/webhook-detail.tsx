import { useState } from 'react';
import { all, api, ApiError, type TestResult, type Webhook } from '../api';
import {
  Badge,
  Button,
  Code,
  Confirm,
  CopyButton,
  ErrorBox,
  Field,
  Loading,
  Modal,
  ms,
  PageHeader,
  prettyJson,
  Time,
  errorText,
  useAction,
  useResource,
  useToast,
} from '../components';
import { Link, navigate, useTitle } from '../router';
import { useSession } from '../session';
import { failingText } from '../health';
import { EventList, WebhookStatus } from './webhooks';
import { Deliveries, noFilters, type LogFilters } from './deliveries';
import { ReplayCard, StatsCard } from './webhook-activity';

export function WebhookDetail({ id }: { id: string }) {
  const { canWrite, has } = useSession();
  const toast = useToast();
  const hook = useResource(() => api.getWebhook(id), [id], { pollMs: 15_000 });
  useTitle(hook.data?.name ?? 'Webhook');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [filters, setFilters] = useState<LogFilters>(noFilters);
  const [openDelivery, setOpenDelivery] = useState<string | null>(null);
  const [deliveriesKey, setDeliveriesKey] = useState(0);

  const [remove, removing] = useAction(
    async () => {
      await api.deleteWebhook(id);
      navigate('/webhooks');
    },
    { success: 'Webhook deleted, with its deliveries.' },
  );
  const [setActive, toggling] = useAction(
    async (on: boolean) => {
      await api.updateWebhook(id, { is_active: on });
      hook.reload();
      return on;
    },
    {
      success: (on) =>
        on
          ? 'Webhook enabled: it gets new deliveries again.'
          : 'Webhook paused: it gets no new deliveries.',
    },
  );

  if (hook.error && !hook.data) {
    return (
      <>
        <PageHeader
          back={
            <Link to="/webhooks" className="back">
              ← Webhooks
            </Link>
          }
          title="Webhook"
        />
        <ErrorBox
          error={hook.error}
          onRetry={
            hook.error instanceof ApiError && hook.error.status === 404 ? undefined : hook.reload
          }
        />
      </>
    );
  }
  if (!hook.data) return <Loading />;
  const w = hook.data;

  return (
    <>
      <PageHeader
        back={
          <Link to="/webhooks" className="back">
            ← Webhooks
          </Link>
        }
        title={
          <span className="title-with-badge">
            {w.name} <WebhookStatus w={w} />
          </span>
        }
        subtitle={<span className="mono break">{w.url}</span>}
        actions={
          canWrite && (
            <>
              <Link className="btn btn-secondary btn-md" to={`/webhooks/${w.id}/edit`}>
                Edit
              </Link>
              <Button busy={toggling} onClick={() => setActive(!w.is_active)}>
                {w.is_active ? 'Pause' : 'Resume'}
              </Button>
              <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            </>
          )
        }
      />
      {w.disabled_reason && (
        <div className="alert alert-error" role="alert">
          <div>
            <strong>Hookline disabled this webhook:</strong> {w.disabled_reason}
            {canWrite && ' Fix the endpoint, then re-enable it: it gets new deliveries again.'}
          </div>
          {canWrite && (
            <Button size="sm" variant="primary" busy={toggling} onClick={() => setActive(true)}>
              Re-enable
            </Button>
          )}
        </div>
      )}

      <div className="grid-2 grid-detail">
        <section className="card">
          <div className="card-head">
            <h2>Configuration</h2>
          </div>
          <dl className="props">
            <dt>Events</dt>
            <dd>
              <EventList events={w.events} max={12} />
            </dd>
            {w.description && (
              <>
                <dt>Description</dt>
                <dd>{w.description}</dd>
              </>
            )}
            <dt>Retries</dt>
            <dd>
              {w.retry_attempts} after the first attempt, from {w.retry_delay_seconds}s, doubling
            </dd>
            <dt>Timeout</dt>
            <dd>{w.timeout_seconds}s</dd>
            <dt>Rate limit</dt>
            <dd>
              {w.rate_limit_per_second ? `${w.rate_limit_per_second} requests/s` : 'Unlimited'}
            </dd>
            <dt>Ordering</dt>
            <dd>{w.ordering === 'fifo' ? <Badge tone="purple">FIFO</Badge> : 'Unordered'}</dd>
            <dt>Headers</dt>
            <dd>
              {Object.keys(w.custom_headers ?? {}).length === 0 ? (
                <span className="muted">None</span>
              ) : (
                <ul className="plain mono small">
                  {Object.entries(w.custom_headers).map(([k, v]) => (
                    <li key={k}>
                      {k}: {v}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
            <dt>Last delivery</dt>
            <dd>
              <Time iso={w.last_triggered_at} />
              {w.failure_count > 0 && <span className="text-bad"> · {failingText(w)}</span>}
            </dd>
            <dt>Last success</dt>
            <dd>
              <Time iso={w.last_success_at} />
            </dd>
            <dt>Created</dt>
            <dd>
              <Time iso={w.created_at} />{' '}
              {w.created_by && <span className="muted mono small">by {w.created_by}</span>}
            </dd>
            <dt>ID</dt>
            <dd className="mono small">{w.id}</dd>
          </dl>
        </section>
        <div className="stack">
          {canWrite && has('GET /webhooks/:id/secret') && <SecretCard w={w} />}
          {canWrite && has('POST /webhooks/:id/test') && (
            <TestCard w={w} onSent={() => setDeliveriesKey((k) => k + 1)} />
          )}
        </div>
      </div>

      {has('GET /webhooks/:id/stats') && <StatsCard id={w.id} />}
      {canWrite && has('POST /webhooks/:id/replay') && (
        <ReplayCard w={w} onQueued={() => setDeliveriesKey((k) => k + 1)} />
      )}

      <section className="section">
        <h2>Deliveries</h2>
        {has('GET /webhooks/:id/deliveries') ? (
          <Deliveries
            key={deliveriesKey}
            webhook={w}
            filters={filters}
            onFilters={setFilters}
            openId={openDelivery}
            onOpen={setOpenDelivery}
          />
        ) : (
          <p className="muted">This server does not list deliveries yet.</p>
        )}
      </section>

      <Confirm
        open={confirmDelete}
        title={`Delete ${w.name}?`}
        confirmLabel="Delete webhook"
        danger
        busy={removing}
        onConfirm={async () => {
          if ((await remove()) === undefined) toast('info', 'The webhook was not deleted.');
          setConfirmDelete(false);
        }}
        onClose={() => setConfirmDelete(false)}
      >
        <p>
          Its deliveries and their attempts are deleted with it, and pending ones are never sent.
          This cannot be undone. To stop deliveries for a while, pause it instead.
        </p>
      </Confirm>
    </>
  );
}

function SecretCard({ w }: { w: Webhook }) {
  const { has } = useSession();
  const [secret, setSecret] = useState<string>();
  const [rotateOpen, setRotateOpen] = useState(false);
  const [grace, setGrace] = useState('86400');
  const [reveal, revealing] = useAction(async () => {
    const r = await api.webhookSecret(w.id);
    setSecret(r.secret);
  });
  const [rotate, rotating] = useAction(
    async () => {
      const r = await api.rotateSecret(w.id, Number(grace));
      setSecret(r.secret);
      setRotateOpen(false);
    },
    {
      success:
        'Secret rotated: the new one is shown. Both sign requests until the grace period ends.',
    },
  );
  return (
    <section className="card">
      <div className="card-head">
        <h2>Signing secret</h2>
      </div>
      <p className="muted small">
        Receivers verify the webhook-signature header with it (Standard Webhooks).
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="secret">
          {secret ?? 'whsec_••••••••••••••••••••••••'}
        </code>
        {secret ? (
          <>
            <CopyButton text={secret} />
            <Button size="sm" variant="ghost" onClick={() => setSecret(undefined)}>
              Hide
            </Button>
          </>
        ) : (
          <Button size="sm" busy={revealing} onClick={() => reveal()}>
            Reveal
          </Button>
        )}
        {has('POST /webhooks/:id/rotate-secret') && (
          <Button size="sm" onClick={() => setRotateOpen(true)}>
            Rotate…
          </Button>
        )}
      </div>
      <Modal
        open={rotateOpen}
        onClose={() => setRotateOpen(false)}
        title="Rotate the signing secret"
        footer={
          <>
            <Button onClick={() => setRotateOpen(false)}>Cancel</Button>
            <Button variant="primary" busy={rotating} onClick={() => rotate()}>
              Rotate secret
            </Button>
          </>
        }
      >
        <p>
          A new secret is generated. During the grace period every request carries signatures with
          both secrets, so receivers can switch without missing one.
        </p>
        <Field label="Keep the old secret valid for" htmlFor="grace">
          <select id="grace" value={grace} onChange={(e) => setGrace(e.target.value)}>
            <option value="0">No grace: stop using it now</option>
            <option value="3600">1 hour</option>
            <option value="86400">24 hours (default)</option>
            <option value="604800">7 days</option>
          </select>
        </Field>
      </Modal>
    </section>
  );
}

function TestCard({ w, onSent }: { w: Webhook; onSent: () => void }) {
  const types = useResource(() => all((cursor) => api.listEventTypes({ limit: 500, cursor })), []);
  const subscribed = (types.data ?? []).filter((t) =>
    w.events.some(
      (e) => e === '*' || e === t.name || (e.endsWith('.*') && t.name.startsWith(e.slice(0, -1))),
    ),
  );
  const [eventType, setEventType] = useState('');
  const [payload, setPayload] = useState('');
  const [payloadError, setPayloadError] = useState<string>();
  const [result, setResult] = useState<TestResult>();
  const [failure, setFailure] = useState<string>();
  const [send, sending] = useAction(
    async () => {
      let parsed: unknown;
      if (payload.trim()) {
        try {
          parsed = JSON.parse(payload);
        } catch (e) {
          setPayloadError(`Not valid JSON: ${(e as Error).message}`);
          return;
        }
      }
      setPayloadError(undefined);
      setResult(undefined);
      setFailure(undefined);
      const r = await api.testWebhook(w.id, {
        ...(eventType ? { event_type: eventType } : {}),
        ...(parsed !== undefined ? { payload: parsed } : {}),
      });
      setResult(r);
      onSent();
    },
    {
      onError: (e) => {
        setFailure(errorText(e));
        return true;
      },
    },
  );
  return (
    <section className="card">
      <div className="card-head">
        <h2>Send a test</h2>
      </div>
      <div className="form-grid">
        <Field label="Event type" htmlFor="test-type">
          <select id="test-type" value={eventType} onChange={(e) => setEventType(e.target.value)}>
            <option value="">Default test event</option>
            {subscribed.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field label="Payload (JSON, optional)" htmlFor="test-payload" error={payloadError}>
        <textarea
          id="test-payload"
          rows={3}
          className="mono"
          spellCheck={false}
          placeholder='{"hello": "world"}'
          value={payload}
          onChange={(e) => setPayload(e.target.value)}
        />
      </Field>
      <Button variant="primary" busy={sending} onClick={() => send()}>
        {sending ? 'Sending…' : 'Send test'}
      </Button>
      {failure && (
        <div className="alert alert-error" role="alert">
          {failure}
        </div>
      )}
      {result && (
        <div
          className={`test-result ${result.success ? 'ok' : 'fail'}`}
          role="status"
          data-testid="test-result"
        >
          <div className="test-result-head">
            <strong>{result.success ? 'Delivered' : 'Failed'}</strong>
            {result.status_code != null && <span className="mono">HTTP {result.status_code}</span>}
            <span className="muted">{ms(result.duration_ms)}</span>
            {result.error && <span className="mono text-bad">{result.error}</span>}
          </div>
          {result.response_body ? (
            <Code>{prettyJson(result.response_body)}</Code>
          ) : (
            <p className="muted small">Empty response body.</p>
          )}
        </div>
      )}
    </section>
  );
}
