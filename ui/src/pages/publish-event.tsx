import { useState, type FormEvent } from 'react';
import { all, api, ApiError, type Published } from '../api';
import { Button, Code, ErrorBox, Field, Modal, prettyJson, useResource } from '../components';
import { Link } from '../router';

const plural = (n: number) => `${n} ${n === 1 ? 'delivery' : 'deliveries'}`;

/** Why a payload text is not JSON, or undefined when it is. */
function jsonProblem(text: string): string | undefined {
  if (!text.trim()) return 'Enter a JSON payload, e.g. {} for an empty object.';
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return `Not valid JSON: ${(e as Error).message}`;
  }
}

/**
 * Publishes one event as an application would (POST /events): an event type, a JSON payload checked
 * as it is typed, an optional idempotency key. On success it shows the event's id and how many
 * deliveries it made, with a link to them; a refusal (422 schema or unknown type, 413 too large,
 * 429) is shown with the server's message.
 */
export function PublishDialog({
  initialType,
  onClose,
  onPublished,
}: {
  initialType?: string;
  onClose: () => void;
  onPublished: (p: Published) => void;
}) {
  const types = useResource(() => all((cursor) => api.listEventTypes({ limit: 500, cursor })), []);
  // Hookline's own types are refused by the API, and archived ones are not listed by default.
  const publishable = (types.data ?? []).filter((t) => t.category !== 'hookline');
  const [eventType, setEventType] = useState(initialType ?? '');
  const [payload, setPayload] = useState('{\n  \n}');
  const [idempotencyKey, setIdempotencyKey] = useState('');
  const [touched, setTouched] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const [result, setResult] = useState<Published & { duplicate: boolean }>();
  const [busy, setBusy] = useState(false);
  const problem = jsonProblem(payload);
  // What a 422 said about each field (payload.id → payload), shown by that field until it is edited.
  const [refused, setRefused] = useState<Record<string, string>>({});
  const schema = publishable.find((t) => t.name === eventType)?.schema;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (problem || !eventType) return;
    setBusy(true);
    setFailure(undefined);
    setRefused({});
    setResult(undefined);
    try {
      const r = await api.publishEvent({
        event_type: eventType,
        payload: JSON.parse(payload),
        ...(idempotencyKey.trim() ? { idempotency_key: idempotencyKey.trim() } : {}),
      });
      setResult(r);
      onPublished(r);
    } catch (err) {
      setFailure(err);
      if (err instanceof ApiError)
        setRefused(
          Object.fromEntries(
            err.fields.map((f) => [f.field.split('.')[0], `${f.field}: ${f.message}`]),
          ),
        );
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      onClose={onClose}
      title="Publish an event"
      wide
      footer={
        <>
          <Button onClick={onClose}>{result ? 'Close' : 'Cancel'}</Button>
          <Button
            variant="primary"
            type="submit"
            form="publish-form"
            busy={busy}
            disabled={Boolean(problem)}
          >
            {result ? 'Publish again' : 'Publish'}
          </Button>
        </>
      }
    >
      <form id="publish-form" onSubmit={submit} noValidate>
        <p className="muted small">
          Sent as <code>POST /api/v1/events</code>, as your application would: every active webhook
          subscribed to the type gets a delivery.
        </p>
        <Field
          label="Event type"
          htmlFor="publish-type"
          error={touched && !eventType ? 'Choose an event type.' : refused.event_type}
        >
          <select
            id="publish-type"
            value={eventType}
            onChange={(e) => (setEventType(e.target.value), setRefused({}))}
          >
            <option value="">Choose…</option>
            {publishable.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        {schema != null && (
          <details className="schema-hint">
            <summary>This type has a JSON Schema: the payload must satisfy it.</summary>
            <Code>{prettyJson(schema)}</Code>
          </details>
        )}
        <Field
          label="Payload (JSON)"
          htmlFor="publish-payload"
          error={problem ?? refused.payload}
          hint="Becomes the data field of what receivers get."
        >
          <textarea
            id="publish-payload"
            className="mono"
            rows={8}
            spellCheck={false}
            value={payload}
            onChange={(e) => (
              setPayload(e.target.value),
              setRefused(({ payload: _, ...rest }) => rest)
            )}
            aria-invalid={problem || refused.payload ? true : undefined}
            aria-describedby={problem || refused.payload ? 'publish-payload-error' : undefined}
          />
        </Field>
        <Field
          label="Idempotency key (optional)"
          htmlFor="publish-key"
          error={refused.idempotency_key}
          hint="The same key within 24 hours returns the first event and sends nothing again."
        >
          <input
            id="publish-key"
            value={idempotencyKey}
            onChange={(e) => setIdempotencyKey(e.target.value)}
            spellCheck={false}
          />
        </Field>
      </form>
      {failure !== undefined && <ErrorBox error={failure} />}
      {result && (
        <div className="test-result ok" role="status" data-testid="publish-result">
          <div className="test-result-head">
            <strong>{result.duplicate ? 'Already published' : 'Published'}</strong>
            <span className="mono" data-testid="published-id">
              {result.id}
            </span>
          </div>
          <p>
            {result.duplicate
              ? `This idempotency key was used in the last 24 hours: this is the event it published then (${plural(result.deliveries)}), and nothing new was sent.`
              : result.deliveries === 0
                ? 'No active webhook subscribes to this event type: no deliveries were made.'
                : `${plural(result.deliveries)} queued.`}{' '}
            <Link to={`/events?event=${encodeURIComponent(result.id)}`}>
              See the event and its deliveries
            </Link>
          </p>
        </div>
      )}
    </Modal>
  );
}
