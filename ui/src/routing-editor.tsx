// The routing part of the webhook form (docs/routing.md): the filter, edited
// as JSON and tried against the latest events of the webhook's types, and
// include_fields, one path a line, and the transformation with a simulate button.
import { useState } from 'react';
import { api, type Webhook, type WebhookInput } from './api';
import { Button, Check, Field, errorText } from './components';

/** The routing fields as the form holds them: text, until saved. */
export interface RoutingState {
  filter: string;
  includeFields: string;
  transformCode: string;
  transformEnabled: boolean;
}

/** The form state of an existing webhook's routing fields (or a new one's). */
export function routingFromWebhook(w?: Webhook): RoutingState {
  return {
    filter: w?.filter ? JSON.stringify(w.filter, null, 2) : '',
    includeFields: (w?.include_fields ?? []).join('\n'),
    transformCode: w?.transformation?.code ?? '',
    transformEnabled: w?.transformation?.enabled ?? true,
  };
}

type RoutingInput = Required<Pick<WebhookInput, 'filter' | 'include_fields' | 'transformation'>>;

const PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function paths(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean);
}

function parseFilter(text: string): RoutingInput['filter'] | Error {
  if (!text.trim()) return null;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return new Error('A filter is a JSON object, e.g. {"data.amount": {"$gte": 1000}}.');
    return v as RoutingInput['filter'];
  } catch {
    return new Error('Not valid JSON.');
  }
}

/** Problems the browser can see before the server does, keyed by field. */
export function routingProblems(s: RoutingState): Record<string, string> {
  const e: Record<string, string> = {};
  const f = parseFilter(s.filter);
  if (f instanceof Error) e.filter = f.message;
  const bad = paths(s.includeFields).find((p) => !PATH.test(p) || p.length > 200);
  if (bad) e.include_fields = `"${bad}" is not a dotted path like employee.id or lines.0.code.`;
  else if (paths(s.includeFields).length > 100) e.include_fields = 'At most 100 paths.';
  return e;
}

/** The API body of the routing fields (call only when routingProblems is empty). */
export function routingInput(s: RoutingState): RoutingInput {
  const f = parseFilter(s.filter);
  const list = paths(s.includeFields);
  return {
    filter: f instanceof Error ? null : f,
    include_fields: list.length > 0 ? list : null,
    transformation: s.transformCode.trim()
      ? { code: s.transformCode, enabled: s.transformEnabled }
      : null,
  };
}

type Tested = Awaited<ReturnType<typeof api.testFilter>>;

/** The filter editor, with "Try on recent events". */
export function RoutingEditor({
  value,
  onChange,
  events,
  error,
}: {
  value: RoutingState;
  onChange: (v: RoutingState) => void;
  /** The webhook's subscriptions: exact names narrow the test, a pattern widens it to every type. */
  events: string[];
  error: (field: string) => string | undefined;
}) {
  const [tested, setTested] = useState<Tested | string>();
  const [busy, setBusy] = useState(false);
  const [sample, setSample] = useState('{}');
  const [simulated, setSimulated] = useState<string>();

  async function simulate() {
    try {
      const r = await api.simulateTransformation({
        code: value.transformCode,
        event_type: events.find((e) => !e.includes('*')) ?? 'example.event',
        payload: JSON.parse(sample) as unknown,
      });
      setSimulated(JSON.stringify(r, null, 2));
    } catch (err) {
      setSimulated(
        err instanceof SyntaxError ? 'The sample payload is not valid JSON.' : errorText(err),
      );
    }
  }
  const exact = events.every((e) => !e.includes('*'));

  async function tryIt() {
    const filter = parseFilter(value.filter);
    if (filter instanceof Error) return setTested(filter.message);
    setBusy(true);
    try {
      setTested(await api.testFilter({ filter, event_types: exact ? events : [] }));
    } catch (err) {
      setTested(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <Field
        label="Filter (optional)"
        htmlFor="wh-filter"
        error={error('filter')}
        hint='Only events that match get a delivery, e.g. {"data.amount": {"$gte": 1000}}. Empty: every event.'
      >
        <textarea
          id="wh-filter"
          rows={4}
          spellCheck={false}
          className="mono"
          value={value.filter}
          aria-invalid={error('filter') ? true : undefined}
          onChange={(e) => onChange({ ...value, filter: e.target.value })}
        />
        <div className="row">
          <Button size="sm" busy={busy} onClick={tryIt}>
            Try on recent events
          </Button>
        </div>
        {typeof tested === 'string' && (
          <div className="field-error" role="alert" data-testid="filter-test-error">
            {tested}
          </div>
        )}
        {tested && typeof tested !== 'string' && (
          <div className="filter-test" aria-live="polite" data-testid="filter-test">
            <p className="muted small">
              {tested.matched} of the last {tested.data.length} events
              {exact ? ' of these types' : ''} match.
            </p>
            <ul className="small">
              {tested.data.map((e) => (
                <li key={e.id}>
                  {e.matches ? '✓' : '✗'} <code>{e.event_type}</code> <code>{e.id}</code>
                </li>
              ))}
            </ul>
          </div>
        )}
      </Field>
      <Field
        label="Send only these fields (optional)"
        htmlFor="wh-include-fields"
        error={error('include_fields')}
        hint="Dotted paths of data, one a line (e.g. employee.id, lines.0.code). Empty: all of data."
      >
        <textarea
          id="wh-include-fields"
          rows={3}
          spellCheck={false}
          className="mono"
          value={value.includeFields}
          aria-invalid={error('include_fields') ? true : undefined}
          onChange={(e) => onChange({ ...value, includeFields: e.target.value })}
        />
      </Field>
      <Field
        label="Transformation (optional)"
        htmlFor="wh-transformation"
        error={error('transformation')}
        hint="JavaScript defining function handler(webhook) over {eventType, payload, url, headers}: return it changed, or {cancel: true}. Runs sandboxed, 100 ms at most."
      >
        <textarea
          id="wh-transformation"
          rows={6}
          spellCheck={false}
          className="mono"
          value={value.transformCode}
          placeholder="function handler(webhook) { return webhook; }"
          aria-invalid={error('transformation') ? true : undefined}
          onChange={(e) => onChange({ ...value, transformCode: e.target.value })}
        />
        <Check
          checked={value.transformEnabled}
          onChange={(on) => onChange({ ...value, transformEnabled: on })}
        >
          Enabled
        </Check>
        <label htmlFor="wh-transformation-sample">Sample payload for Simulate</label>
        <textarea
          id="wh-transformation-sample"
          rows={2}
          spellCheck={false}
          className="mono"
          value={sample}
          onChange={(e) => setSample(e.target.value)}
        />
        <div className="row">
          <Button size="sm" disabled={!value.transformCode.trim()} onClick={simulate}>
            Simulate
          </Button>
        </div>
        {simulated && (
          <pre className="mono small" aria-live="polite" data-testid="simulate-result">
            {simulated}
          </pre>
        )}
      </Field>
    </>
  );
}
