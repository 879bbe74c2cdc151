/**
 * The `circuit` of a webhook in the API (docs/delivery-states.md, "Circuit breaker"), shared by
 * the webhook routes and the reset route.
 */
import { Type } from '@sinclair/typebox';

const Time = (description: string) =>
  Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description });

/** CircuitView (src/core/circuit.ts) as a schema. */
export const CircuitSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')], {
      description:
        'closed: deliveries go. open: they wait, without using attempts, until next_probe_at. half_open: one probe delivery is out; its success closes the circuit.',
    }),
    since: Time(
      'When the circuit last opened (kept while probes fail) or closed; null if it never opened.',
    ),
    next_probe_at: Time(
      'open: when the next probe goes. half_open: when the probe out now may be replaced (its lease ends). null when closed.',
    ),
    probes_failed: Type.Integer({
      description: 'Probes failed since it opened; each doubles the wait before the next.',
    }),
  },
  { description: 'The circuit breaker: a webhook failing too often in a row is held and probed.' },
);
