-- Routing and payload shaping (docs/routing.md). All three are NULL for a webhook
-- that does not use them, so fan-out and sending stay on their plain paths.
-- filter: the operator document matched against each event at fan-out.
-- include_fields: dotted paths of `data`; only those are sent.
-- transformation: {code, enabled}, the handler run in the sandbox before sending.
ALTER TABLE webhooks ADD COLUMN filter jsonb;
ALTER TABLE webhooks ADD COLUMN include_fields text[];
ALTER TABLE webhooks ADD COLUMN transformation jsonb;
-- Publishing asks for the filtered active webhooks of the organization on every event
-- (src/store/events.ts, publishSimple's `f`): with no filters this probe finds nothing at once.
CREATE INDEX webhooks_filtered_idx ON webhooks (org_id) WHERE is_active AND filter IS NOT NULL;
