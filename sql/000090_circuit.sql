-- The circuit breaker (docs/delivery-states.md, "Circuit breaker"). When a webhook's circuit
-- opens, its whole queue waits: that is one row about the webhook, never an UPDATE of every
-- delivery behind it.
-- circuit_state: closed (deliveries go as usual), open (nothing goes until
--   circuit_next_probe_at), half_open (one probe delivery is out).
-- circuit_since: when the circuit last opened (kept while probes fail) or last closed; NULL for
--   a webhook whose circuit never opened.
-- circuit_next_probe_at: open, when the next probe may go; half_open, when the probe's lease
--   ends and another may go (its worker died). NULL when closed.
-- circuit_probes_failed: probes failed since the circuit opened; the probe interval doubles with
--   each (capped), and a success or a reset sets it back to 0.
-- circuit_failures: the webhook's own number of failed attempts in a row that opens it (0: never);
--   NULL: the server's --circuit-failures.
ALTER TABLE webhooks ADD COLUMN circuit_state text NOT NULL DEFAULT 'closed'
  CHECK (circuit_state IN ('closed', 'open', 'half_open'));
ALTER TABLE webhooks ADD COLUMN circuit_since timestamptz;
ALTER TABLE webhooks ADD COLUMN circuit_next_probe_at timestamptz;
ALTER TABLE webhooks ADD COLUMN circuit_probes_failed integer NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN circuit_failures integer;
-- The claim (src/worker/claim.ts, CLAIM_SQL's `probe_hooks` and the NOT IN lists of `heads` and
-- `others`) and the worker's next-due look (msUntilNextDue) read the webhooks whose circuit is
-- not closed on every claim: with every circuit closed this probe finds nothing at once.
CREATE INDEX webhooks_circuit_idx ON webhooks (circuit_next_probe_at) WHERE circuit_state <> 'closed';

-- The operational events of the circuit, in every organization that exists now (new ones get
-- them from src/store/event-types.ts, like the other hookline.* types).
INSERT INTO event_types (org_id, name, description, category)
SELECT o.id, t.name, t.description, 'hookline'
  FROM organizations o
 CROSS JOIN (VALUES
   ('hookline.webhook.circuit_opened', 'A webhook failed too often in a row: its deliveries wait for a probe to succeed.'),
   ('hookline.webhook.circuit_closed', 'A webhook''s circuit closed again: its waiting deliveries go now.')
 ) AS t(name, description)
ON CONFLICT (org_id, name) DO NOTHING;
