// A webhook's circuit breaker (docs/delivery-states.md, "Circuit breaker") on its page and in
// lists: held deliveries, the next probe, and the way to close it by hand. Shared by the admin
// UI and the portal, whose webhook page is the same component.

import { api, type Webhook } from './api';
import { Badge, Button, formatTime, useAction } from './components';
import { useSession } from './session';

/** Whether the circuit holds the webhook's deliveries now. */
export function circuitHolds(w: Pick<Webhook, 'circuit' | 'is_active'>): boolean {
  return w.is_active && w.circuit.state !== 'closed';
}

/** A badge for lists: open (held) or half-open (one probe out). */
export function CircuitBadge({ w }: { w: Webhook }) {
  if (!circuitHolds(w)) return null;
  return w.circuit.state === 'open' ? (
    <Badge tone="red">Circuit open</Badge>
  ) : (
    <Badge tone="amber">Probing</Badge>
  );
}

/** The banner on a webhook's page while its circuit is not closed, with "Close circuit". */
export function CircuitBanner({ w, onReset }: { w: Webhook; onReset: () => void }) {
  const { canWrite, has } = useSession();
  const [reset, resetting] = useAction(
    async () => {
      await api.resetCircuit(w.id);
      onReset();
    },
    { success: 'Circuit closed: the held deliveries go now.' },
  );
  if (!circuitHolds(w)) return null;
  const c = w.circuit;
  const since = c.since ? ` since ${formatTime(c.since)}` : '';
  const next = c.next_probe_at ? formatTime(c.next_probe_at) : 'soon';
  return (
    <div className="alert alert-warn health-banner circuit-banner" role="status">
      <div>
        <strong>Circuit {c.state === 'open' ? 'open' : 'half-open'}</strong>
        {since}: this webhook failed too often in a row, so its deliveries wait without using their
        attempts.{' '}
        {c.state === 'open'
          ? `One delivery goes out as a probe at ${next}; if it succeeds, the rest follow at once.`
          : `A probe delivery is out now; if it succeeds, the rest follow at once.`}
        {c.probes_failed > 0 && (
          <div className="small">
            {c.probes_failed} probe{c.probes_failed === 1 ? '' : 's'} failed; each doubles the wait
            before the next.
          </div>
        )}
      </div>
      {canWrite && has('POST /webhooks/:id/circuit/reset') && (
        <Button size="sm" busy={resetting} onClick={() => reset()}>
          Close circuit
        </Button>
      )}
    </div>
  );
}
