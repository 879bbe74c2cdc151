import { useState } from 'react';
import { all, api, type TestResult, type Webhook } from '../api';
import {
  Button,
  Code,
  Field,
  ms,
  prettyJson,
  errorText,
  useAction,
  useResource,
} from '../components';
import { ErrorSentence } from '../health';

// The test sender of a webhook's Testing tab: one signed request now, its answer shown inline.

/** Sends a test event (a chosen type, an optional payload) and shows the receiver's answer. */
export function TestCard({ w, onSent }: { w: Webhook; onSent: () => void }) {
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
            <strong>
              {result.success ? 'Delivered' : result.status === 'skipped' ? 'Skipped' : 'Failed'}
            </strong>
            {result.status_code != null && <span className="mono">HTTP {result.status_code}</span>}
            <span className="muted">{ms(result.duration_ms)}</span>
          </div>
          {!result.success && (
            <p className="text-bad">
              <ErrorSentence error={result.error} status={result.status_code} hint />
            </p>
          )}
          {result.error_detail && (
            <p className="mono small" data-testid="test-error-detail">
              {result.error_detail}
            </p>
          )}
          {result.response_body ? (
            <Code>{prettyJson(result.response_body)}</Code>
          ) : (
            result.status_code != null && <p className="muted small">Empty response body.</p>
          )}
        </div>
      )}
    </section>
  );
}
