// A webhook's health in words, shared by the dashboard, the webhooks list and a webhook's page.

import type { ReactNode } from 'react';
import { api, type Delivery, type Webhook } from './api';
import { explainAttempt } from './attempt-errors';
import { formatTime, useResource } from './components';
import { Link } from './router';

/**
 * `failure_count` counts failed attempts, every retry included (one delivery retried five times
 * is five), so it is said as attempts, never as deliveries.
 */
export function failingText(w: Pick<Webhook, 'failure_count' | 'first_failure_at'>): string {
  const n = w.failure_count;
  const since = w.first_failure_at ? `, failing since ${formatTime(w.first_failure_at)}` : '';
  return `${n.toLocaleString()} failed attempt${n === 1 ? '' : 's'} in a row${since}`;
}

const isoInText = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})/g;

/** The disabled reason with its ISO timestamps shown as times in the chosen zone. */
export function formatReason(reason: string): string {
  return reason.replace(isoInText, (iso) => formatTime(iso, { year: true }));
}

/** Whether a webhook needs someone to look at it: failing or disabled by Hookline, not paused. */
export function needsAttention(w: Webhook): boolean {
  return Boolean(w.disabled_reason) || (w.is_active && w.failure_count > 0);
}

/** The link to a webhook's failed deliveries. */
export function failedDeliveriesLink(webhookId: string): string {
  return `/webhooks/${encodeURIComponent(webhookId)}?tab=deliveries&status=failed`;
}

/** One line for an attempt error: the plain sentence, the raw code after it for searching. */
export function ErrorSentence({
  error,
  status,
  hint,
}: {
  error: string | null | undefined;
  status: number | null | undefined;
  hint?: boolean;
}) {
  const e = explainAttempt(error, status);
  if (!e) return null;
  return (
    <span className="error-sentence">
      <span>{e.sentence}</span> <span className="mono small muted-code">{e.code}</span>
      {hint && <span className="error-hint">{e.hint}</span>}
    </span>
  );
}

/** A webhook's last error with the way to its failed deliveries, for a dashboard row. */
export function LastError({ w, last }: { w: Webhook; last: Delivery | undefined }) {
  return (
    <div className="last-error small">
      {last && <ErrorSentence error={last.last_error} status={last.last_status_code} />}{' '}
      <Link to={failedDeliveriesLink(w.id)}>View failed deliveries</Link>
    </div>
  );
}

/** The newest of `deliveries` that ended in an error (they come newest first). */
export function lastFailed(deliveries: Delivery[]): Delivery | undefined {
  return deliveries.find((d) => explainAttempt(d.last_error, d.last_status_code) !== undefined);
}

/** The newest failed attempt of a webhook, loaded while it needs attention. */
export function useLastError(w: Webhook) {
  return useResource(
    async () => lastFailed((await api.webhookDeliveries(w.id, { limit: 20 })).data),
    [w.id, w.failure_count, w.updated_at, w.disabled_reason],
    { enabled: needsAttention(w) },
  );
}

/**
 * The state of a webhook, first on its page: why it is disabled or failing, its last error in
 * words with a hint, and the way to its failed deliveries. `action` is Re-enable or Resume.
 */
export function HealthBanner({ w, action }: { w: Webhook; action?: ReactNode }) {
  const last = useLastError(w);
  if (!needsAttention(w) && w.is_active) return null;
  if (!w.is_active && !w.disabled_reason)
    return (
      <div className="alert alert-info health-banner" role="status">
        <div>
          <strong>Paused.</strong> It gets no new deliveries until it is resumed.
        </div>
        {action}
      </div>
    );
  const error = last.data;
  return (
    <div
      className={`alert ${w.disabled_reason ? 'alert-error' : 'alert-warn'} health-banner`}
      role="alert"
    >
      <div>
        <strong>
          {w.disabled_reason ? 'Hookline disabled this webhook.' : 'This webhook is failing.'}
        </strong>{' '}
        {w.disabled_reason ? formatReason(w.disabled_reason) : `${failingText(w)}.`}
        {error && (
          <div className="health-last">
            Last error ({formatTime(error.last_attempt_at ?? error.created_at)}):{' '}
            <ErrorSentence error={error.last_error} status={error.last_status_code} hint />
          </div>
        )}
        <div>
          <Link to={failedDeliveriesLink(w.id)}>View failed deliveries</Link>
        </div>
      </div>
      {action}
    </div>
  );
}
