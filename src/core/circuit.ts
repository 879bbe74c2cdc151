/**
 * The circuit breaker's rules (docs/delivery-states.md, "Circuit breaker"), pure: how long an
 * open circuit waits before each probe, and how the API shows a circuit. The transitions
 * themselves are written with a batch's health (src/worker/webhook-health.ts), with the
 * claim (src/queue/claim.ts), and by an admin's reset (src/store/circuit.ts).
 */

/** closed: deliveries go; open: they wait for the probe time; half_open: one probe is out. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** The circuit columns of a webhook row (sql/000090_circuit.sql). */
export interface CircuitColumns {
  circuit_state: CircuitState;
  circuit_since: Date | null;
  circuit_next_probe_at: Date | null;
  circuit_probes_failed: number;
}

/** A webhook's circuit as the API shows it. */
export interface CircuitView {
  state: CircuitState;
  /** When it last opened (kept while probes fail) or last closed; null if it never opened. */
  since: string | null;
  /** Open: when the next probe may go. Half-open: when the probe out now may be replaced (its lease ends). */
  next_probe_at: string | null;
  /** Probes failed since it opened. */
  probes_failed: number;
}

export interface ProbeWaitOptions {
  /** config.retryDelayScale (tests only). */
  scale?: number;
  /** config.circuitMaxProbeSeconds: no wait is longer. */
  maxSeconds: number;
}

/**
 * Milliseconds an open circuit waits before its next probe, after `probesFailed` failed
 * probes: the webhook's `retry_delay_seconds × 2^probesFailed`, capped at `maxSeconds`. No
 * jitter: one probe per webhook is never a burst to spread.
 */
export function probeWaitMs(
  probesFailed: number,
  retryDelaySeconds: number,
  opts: ProbeWaitOptions,
): number {
  const n = Math.max(0, Math.min(Math.floor(probesFailed), 30));
  const seconds = Math.min(opts.maxSeconds, retryDelaySeconds * 2 ** n);
  return seconds * 1000 * (opts.scale ?? 1);
}

/** The API view of a webhook's circuit columns. */
export function circuitView(row: CircuitColumns): CircuitView {
  return {
    state: row.circuit_state,
    since: row.circuit_since ? row.circuit_since.toISOString() : null,
    next_probe_at:
      row.circuit_state === 'closed' || !row.circuit_next_probe_at
        ? null
        : row.circuit_next_probe_at.toISOString(),
    probes_failed: row.circuit_probes_failed,
  };
}
