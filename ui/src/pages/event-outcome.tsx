import type { EventSummary } from '../api';

/** The counts GET /events gives each event (docs/api.md, "Events"). */
export type DeliveriesSummary = EventSummary['deliveries_summary'];

/**
 * What became of an event, in one line for the events list: how many of its deliveries were
 * delivered, failed, are still under way or were dropped. Failures come first: they are what a
 * reader scans the list for.
 */
export function EventOutcome({ s }: { s: DeliveriesSummary }) {
  if (s.total === 0) return <span className="muted small">No webhook subscribed</span>;
  const underWay = s.pending + s.retrying + s.sending;
  const parts: [string, string][] = [];
  if (s.failed > 0) parts.push([`${s.failed} failed`, 'text-bad']);
  if (s.succeeded > 0)
    parts.push([
      s.succeeded === s.total ? `All ${s.total} delivered` : `${s.succeeded} delivered`,
      'text-good',
    ]);
  if (underWay > 0) parts.push([`${underWay} in progress`, 'muted']);
  const dropped = s.cancelled + s.skipped;
  if (dropped > 0) parts.push([`${dropped} not sent`, 'muted']);
  return (
    <span className="small event-outcome">
      {parts.map(([text, tone], i) => (
        <span key={text}>
          {i > 0 && <span className="muted"> · </span>}
          <span className={tone}>{text}</span>
        </span>
      ))}
    </span>
  );
}
