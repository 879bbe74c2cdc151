import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { all, api, ApiError, type Ordering, type Webhook, type WebhookInput } from '../api';
import {
  Button,
  Check,
  ErrorBox,
  Field,
  Loading,
  PageHeader,
  errorText,
  useResource,
  useToast,
} from '../components';
import { Link, navigate, useTitle } from '../router';
import {
  RoutingEditor,
  routingFromWebhook,
  routingInput,
  routingProblems,
  type RoutingState,
} from '../routing-editor';
import {
  SecuritySection,
  securityFromWebhook,
  securityInput,
  securityKeys,
  securityProblems,
  type SecurityState,
} from './webhook-security';
import { EventPicker } from './event-picker';
import { useSession } from '../session';

// The forbidden custom header names (docs/destinations.md, "Custom headers"), checked here as you type and again by the server.
const FORBIDDEN = [
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'upgrade',
  'user-agent',
];
const FORBIDDEN_PREFIXES = ['proxy-', 'webhook-', 'x-webhook-'];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function headerNameProblem(name: string): string | undefined {
  const n = name.trim().toLowerCase();
  if (!n) return 'Give the header a name.';
  if (/[\r\n]/.test(name)) return 'No line breaks in header names.';
  if (!TOKEN.test(name.trim()))
    return "Only letters, digits and - _ . ! # $ % & ' * + ^ ` | ~ are allowed.";
  if (FORBIDDEN.includes(n)) return `${name.trim()} is set by Hookline and cannot be overridden.`;
  const p = FORBIDDEN_PREFIXES.find((x) => n.startsWith(x));
  if (p) return `Headers starting with ${p} are reserved.`;
  return undefined;
}

export function urlProblem(url: string): string | undefined {
  const u = url.trim();
  if (!u) return 'The URL is required.';
  if (u.length > 2048) return 'At most 2048 characters.';
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    return 'Enter a full URL, e.g. https://example.com/webhooks.';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'Use an https:// URL.';
  return undefined;
}

interface HeaderRow {
  id: number;
  name: string;
  value: string;
}

interface FormState {
  name: string;
  url: string;
  description: string;
  events: Set<string>;
  is_active: boolean;
  timeout_seconds: string;
  retry_attempts: string;
  retry_delay_seconds: string;
  rate_limit_per_second: string;
  circuit_failures: string;
  ordering: Ordering;
  headers: HeaderRow[];
  routing: RoutingState;
  security: SecurityState;
}

/** The numeric settings under Advanced settings, in their order there. */
const numberFields = [
  { key: 'timeout_seconds', label: 'Timeout (s)', hint: '5–120' },
  { key: 'retry_attempts', label: 'Retries', hint: '0–10 after the first attempt' },
  { key: 'retry_delay_seconds', label: 'Retry delay (s)', hint: '10–3600, doubled each retry' },
  { key: 'rate_limit_per_second', label: 'Rate limit (req/s)', hint: 'Empty: unlimited' },
  {
    key: 'circuit_failures',
    label: 'Circuit opens after',
    hint: 'Failed attempts in a row; empty: server default, 0: never',
  },
] as const;

let rowIds = 1;

function fromWebhook(w?: Webhook): FormState {
  return {
    name: w?.name ?? '',
    url: w?.url ?? '',
    description: w?.description ?? '',
    events: new Set(w?.events ?? []),
    is_active: w?.is_active ?? true,
    timeout_seconds: String(w?.timeout_seconds ?? 30),
    retry_attempts: String(w?.retry_attempts ?? 5),
    retry_delay_seconds: String(w?.retry_delay_seconds ?? 60),
    rate_limit_per_second: w?.rate_limit_per_second == null ? '' : String(w.rate_limit_per_second),
    circuit_failures: w?.circuit_failures == null ? '' : String(w.circuit_failures),
    ordering: w?.ordering ?? 'none',
    headers: Object.entries(w?.custom_headers ?? {}).map(([name, value]) => ({
      id: rowIds++,
      name,
      value,
    })),
    routing: routingFromWebhook(w),
    security: securityFromWebhook(w),
  };
}

type Errors = Record<string, string>;

function intIn(v: string, lo: number, hi: number, label: string): string | undefined {
  if (!/^\d+$/.test(v.trim())) return `${label} must be a whole number.`;
  const n = Number(v);
  if (n < lo || n > hi) return `${label} must be between ${lo} and ${hi}.`;
  return undefined;
}

function validate(s: FormState, creating: boolean): Errors {
  const e: Errors = {};
  if (!s.name.trim()) e.name = 'Give the webhook a name.';
  else if (s.name.length > 255) e.name = 'At most 255 characters.';
  const u = urlProblem(s.url);
  if (u) e.url = u;
  if (s.events.size === 0) e.events = 'Choose at least one event type.';
  const t = intIn(s.timeout_seconds, 5, 120, 'Timeout');
  if (t) e.timeout_seconds = t;
  const r = intIn(s.retry_attempts, 0, 10, 'Retries');
  if (r) e.retry_attempts = r;
  const d = intIn(s.retry_delay_seconds, 10, 3600, 'Delay');
  if (d) e.retry_delay_seconds = d;
  if (s.rate_limit_per_second.trim() && !/^[1-9]\d*$/.test(s.rate_limit_per_second.trim())) {
    e.rate_limit_per_second = 'A whole number of requests per second, or empty for no limit.';
  }
  if (s.circuit_failures.trim()) {
    const c = intIn(s.circuit_failures, 0, 1000, 'Circuit');
    if (c) e.circuit_failures = c;
  }
  const seen = new Set<string>();
  for (const h of s.headers) {
    const p = headerNameProblem(h.name);
    if (p) e[`header.${h.id}`] = p;
    else if (seen.has(h.name.trim().toLowerCase()))
      e[`header.${h.id}`] = 'This header is already set above.';
    else if (/[\r\n]/.test(h.value)) e[`header.${h.id}`] = 'No line breaks in header values.';
    else if (h.value.length > 4096)
      e[`header.${h.id}`] = 'Header values are at most 4096 characters.';
    seen.add(h.name.trim().toLowerCase());
  }
  Object.assign(e, routingProblems(s.routing), securityProblems(s.security, creating));
  return e;
}

// The endpoint security fields come from the Security section (webhook-security.tsx), which
// sends only what changed: a PATCH without them leaves them as they are.
function toInput(
  s: FormState,
): Required<
  Omit<
    WebhookInput,
    'secret' | 'signature_scheme' | 'legacy_signature' | 'tls' | 'auth' | 'proxy_url'
  >
> {
  return {
    name: s.name.trim(),
    url: s.url.trim(),
    description: s.description.trim() || null,
    events: [...s.events],
    is_active: s.is_active,
    timeout_seconds: Number(s.timeout_seconds),
    retry_attempts: Number(s.retry_attempts),
    retry_delay_seconds: Number(s.retry_delay_seconds),
    rate_limit_per_second: s.rate_limit_per_second.trim() ? Number(s.rate_limit_per_second) : null,
    circuit_failures: s.circuit_failures.trim() ? Number(s.circuit_failures) : null,
    ordering: s.ordering,
    custom_headers: Object.fromEntries(
      s.headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value]),
    ),
    ...routingInput(s.routing),
  };
}

/** Maps the server's 422 details onto the form's fields; returns what matched no field. */
function serverErrors(err: ApiError, s: FormState): { fields: Errors; rest: string[] } {
  const fields: Errors = {};
  const rest: string[] = [];
  const simple = [
    'name',
    'url',
    'description',
    'events',
    'is_active',
    'timeout_seconds',
    'retry_attempts',
    'retry_delay_seconds',
    'rate_limit_per_second',
    'circuit_failures',
    'ordering',
    'filter',
    'include_fields',
    'transformation',
  ];
  for (const { field, message } of err.fields) {
    const top = field.split(/[.[]/)[0];
    if (securityKeys.includes(field) || securityKeys.includes(top)) {
      const key = securityKeys.includes(field) ? field : top;
      fields[key] = fields[key] ? `${fields[key]} ${message}` : message;
    } else if (top === 'custom_headers') {
      const name = field.slice('custom_headers.'.length).toLowerCase();
      const row = s.headers.find((h) => h.name.trim().toLowerCase() === name);
      if (row) fields[`header.${row.id}`] = message;
      else
        fields.custom_headers = [fields.custom_headers, name ? `${name}: ${message}` : message]
          .filter(Boolean)
          .join(' ');
    } else if (simple.includes(top)) {
      fields[top] = fields[top] ? `${fields[top]} ${message}` : message;
    } else rest.push(`${field}: ${message}`);
  }
  return { fields, rest };
}

export function WebhookForm({ id }: { id?: string }) {
  const creating = !id;
  useTitle(creating ? 'New webhook' : 'Edit webhook');
  const toast = useToast();
  const existing = useResource(() => (id ? api.getWebhook(id) : Promise.resolve(undefined)), [id]);
  const types = useResource(() => all((cursor) => api.listEventTypes({ limit: 500, cursor })), []);
  const [state, setState] = useState<FormState>(() => fromWebhook());
  const [initial, setInitial] = useState<FormState>();
  const [errors, setErrors] = useState<Errors>({});
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverProblem, setServerProblem] = useState<{ message: string; rest: string[] }>();
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [securityOpen, setSecurityOpen] = useState(false);
  // The proxy a webhook leaves through is the organization's: a portal session neither sets nor sees it.
  const isPortal = Boolean(useSession().me.portal);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    if (existing.data) {
      const s = fromWebhook(existing.data);
      setState(s);
      setInitial(s);
    }
  }, [existing.data]);

  const clientErrors = useMemo(() => validate(state, creating), [state, creating]);
  const shown = (key: string) =>
    errors[key] ?? (submitted || touched.has(key) ? clientErrors[key] : undefined);
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => {
    setState((s) => ({ ...s, [k]: v }));
    // A server error on a field goes away once the field is edited.
    setErrors((e) => {
      if (!(k in e)) return e;
      const { [k as string]: _gone, ...rest } = e;
      return rest;
    });
  };
  const touch = (key: string) => setTouched((t) => new Set(t).add(key));
  const advancedHasError =
    [...numberFields.map((f) => f.key), 'ordering', 'custom_headers', 'filter'].some((k) =>
      shown(k),
    ) || state.headers.some((h) => shown(`header.${h.id}`));
  const securityHasError = securityKeys.some((k) => shown(k));

  // Advanced settings and Security open by themselves when one of theirs has an error, so it is never hidden.
  useEffect(() => {
    if (advancedHasError) setAdvancedOpen(true);
  }, [advancedHasError]);
  useEffect(() => {
    if (securityHasError) setSecurityOpen(true);
  }, [securityHasError]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setServerProblem(undefined);
    if (Object.keys(clientErrors).length > 0) {
      setErrors({});
      window.setTimeout(
        () => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
        0,
      );
      return;
    }
    setBusy(true);
    try {
      const body = toInput(state);
      const security = securityInput(state.security, creating, !isPortal);
      let saved: Webhook;
      if (creating) {
        saved = await api.createWebhook({ ...body, ...security });
        toast('success', `Webhook "${saved.name}" created.`);
      } else {
        const before = toInput(initial ?? state);
        const patch: WebhookInput = { ...security };
        for (const k of Object.keys(body) as (keyof typeof body)[]) {
          if (JSON.stringify(body[k]) !== JSON.stringify(before[k]))
            (patch as Record<string, unknown>)[k] = body[k];
        }
        if (Object.keys(patch).length === 0) {
          toast('info', 'Nothing changed.');
          navigate(`/webhooks/${id}`);
          return;
        }
        saved = await api.updateWebhook(id, patch);
        toast('success', `Webhook "${saved.name}" saved.`);
      }
      navigate(`/webhooks/${saved.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length > 0) {
        const { fields, rest } = serverErrors(err, state);
        setErrors(fields);
        setServerProblem({ message: err.message, rest });
        window.setTimeout(
          () => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
          0,
        );
      } else {
        setServerProblem({ message: errorText(err), rest: [] });
      }
    } finally {
      setBusy(false);
    }
  }

  if (id && existing.error) return <ErrorBox error={existing.error} onRetry={existing.reload} />;
  if (id && !existing.data) return <Loading />;

  const inputProps = (key: keyof FormState & string) => ({
    id: `wh-${key}`,
    'aria-invalid': shown(key) ? true : undefined,
    'aria-describedby': shown(key) ? `wh-${key}-error` : undefined,
    onBlur: () => touch(key),
  });

  return (
    <>
      <PageHeader
        back={
          <Link to={id ? `/webhooks/${id}` : '/webhooks'} className="back">
            ← {id ? existing.data?.name : 'Webhooks'}
          </Link>
        }
        title={creating ? 'New webhook' : `Edit ${existing.data?.name}`}
      />
      <form ref={formRef} className="form card" onSubmit={submit} noValidate>
        {serverProblem && (
          <div className="alert alert-error" role="alert">
            <div>
              <strong>Not saved.</strong> {serverProblem.message}
              {serverProblem.rest.length > 0 && (
                <ul>
                  {serverProblem.rest.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )}
        <div className="form-grid">
          <Field label="Name" htmlFor="wh-name" error={shown('name')}>
            <input
              {...inputProps('name')}
              value={state.name}
              maxLength={255}
              onChange={(e) => set('name', e.target.value)}
              placeholder="Billing service"
            />
          </Field>
          <Field
            label="Endpoint URL"
            htmlFor="wh-url"
            error={shown('url')}
            hint="Hookline POSTs signed JSON here. https:// outside development mode."
          >
            <input
              {...inputProps('url')}
              value={state.url}
              type="url"
              inputMode="url"
              spellCheck={false}
              onChange={(e) => set('url', e.target.value)}
              placeholder="https://example.com/webhooks/hookline"
            />
          </Field>
        </div>
        <Field label="Description (optional)" htmlFor="wh-description" error={shown('description')}>
          <textarea
            {...inputProps('description')}
            rows={2}
            value={state.description}
            onChange={(e) => set('description', e.target.value)}
          />
        </Field>

        <fieldset
          className={`events-picker${shown('events') ? ' field-invalid' : ''}`}
          aria-describedby={shown('events') ? 'wh-events-error' : undefined}
        >
          <legend>Events</legend>
          {shown('events') && (
            <div className="field-error" id="wh-events-error" role="alert">
              {shown('events')}
            </div>
          )}
          {types.error ? (
            <ErrorBox error={types.error} onRetry={types.reload} />
          ) : !types.data ? (
            <Loading />
          ) : (
            <EventPicker
              types={types.data}
              selected={state.events}
              onChange={(s) => {
                set('events', s);
                touch('events');
              }}
            />
          )}
        </fieldset>

        {!creating && (
          <Check checked={state.is_active} onChange={(on) => set('is_active', on)}>
            Active <span className="muted">— paused webhooks get no new deliveries</span>
          </Check>
        )}

        <details
          className="advanced"
          open={advancedOpen}
          onToggle={(e) => setAdvancedOpen((e.target as HTMLDetailsElement).open)}
        >
          <summary>Advanced settings</summary>
          <div className="form-grid form-grid-4">
            {numberFields.map((f) => (
              <Field
                key={f.key}
                label={f.label}
                htmlFor={`wh-${f.key}`}
                error={shown(f.key)}
                hint={f.hint}
              >
                <input
                  {...inputProps(f.key)}
                  inputMode="numeric"
                  value={state[f.key]}
                  onChange={(e) => set(f.key, e.target.value)}
                />
              </Field>
            ))}
          </div>
          <Field
            label="Ordering"
            htmlFor="wh-ordering"
            error={shown('ordering')}
            hint={
              state.ordering === 'fifo'
                ? 'One at a time, in event order: a failing delivery holds the ones behind it until it succeeds, is exhausted or is skipped.'
                : 'Deliveries go out in parallel; order is not guaranteed.'
            }
          >
            <select
              {...inputProps('ordering')}
              value={state.ordering}
              onChange={(e) => set('ordering', e.target.value as Ordering)}
            >
              <option value="none">Unordered (fastest)</option>
              <option value="fifo">FIFO (in order)</option>
            </select>
          </Field>

          <div className="field">
            <span className="label-like" id="headers-label">
              Custom headers
            </span>
            {shown('custom_headers') && (
              <div className="field-error">{shown('custom_headers')}</div>
            )}
            <div className="kv-rows" role="group" aria-labelledby="headers-label">
              {state.headers.length === 0 && (
                <p className="muted small">
                  No custom headers. Add one to send e.g. an Authorization token with every request.
                </p>
              )}
              {state.headers.map((h, i) => {
                const err = shown(`header.${h.id}`);
                const update = (patch: Partial<HeaderRow>) => {
                  set(
                    'headers',
                    state.headers.map((x) => (x.id === h.id ? { ...x, ...patch } : x)),
                  );
                  setErrors((e) => {
                    const { [`header.${h.id}`]: _gone, ...rest } = e;
                    return rest;
                  });
                };
                return (
                  <div key={h.id} className={`kv-row${err ? ' field-invalid' : ''}`}>
                    <input
                      aria-label={`Header ${i + 1} name`}
                      placeholder="X-Api-Token"
                      value={h.name}
                      spellCheck={false}
                      aria-invalid={err ? true : undefined}
                      onBlur={() => touch(`header.${h.id}`)}
                      onChange={(e) => update({ name: e.target.value })}
                    />
                    <input
                      aria-label={`Header ${i + 1} value`}
                      placeholder="value"
                      value={h.value}
                      spellCheck={false}
                      onChange={(e) => update({ value: e.target.value })}
                    />
                    <Button
                      variant="ghost"
                      size="sm"
                      aria-label={`Remove header ${h.name || i + 1}`}
                      onClick={() =>
                        set(
                          'headers',
                          state.headers.filter((x) => x.id !== h.id),
                        )
                      }
                    >
                      Remove
                    </Button>
                    {err && (
                      <div className="field-error kv-error" role="alert">
                        {err}
                      </div>
                    )}
                  </div>
                );
              })}
            </div>
            <Button
              size="sm"
              onClick={() =>
                set('headers', [...state.headers, { id: rowIds++, name: '', value: '' }])
              }
            >
              + Add header
            </Button>
          </div>

          <RoutingEditor
            value={state.routing}
            onChange={(r) => set('routing', r)}
            events={[...state.events]}
            error={shown}
          />
        </details>

        <details
          className="advanced"
          open={securityOpen}
          onToggle={(e) => setSecurityOpen((e.target as HTMLDetailsElement).open)}
        >
          <summary>Security</summary>
          <SecuritySection
            value={state.security}
            onChange={(v) => {
              set('security', v);
              // A server error on a security field goes away once the section is edited.
              setErrors((e) =>
                Object.fromEntries(Object.entries(e).filter(([k]) => !securityKeys.includes(k))),
              );
            }}
            creating={creating}
            showProxy={!isPortal}
            error={shown}
          />
        </details>

        <div className="form-actions">
          <Link to={id ? `/webhooks/${id}` : '/webhooks'} className="btn btn-secondary btn-md">
            Cancel
          </Link>
          <Button type="submit" variant="primary" busy={busy}>
            {creating ? 'Create webhook' : 'Save changes'}
          </Button>
        </div>
      </form>
    </>
  );
}
