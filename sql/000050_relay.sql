-- Relay webhooks (`hookline listen`): their deliveries are not sent over HTTP by
-- the worker; a CLI connected to the API claims them (GET /relay/{id}/next), forwards
-- them to a local URL and reports the outcome. The worker's claim skips them.
-- (The relay claim walks deliveries_fifo_idx (webhook_id, seq): no new index on the hot table.)
ALTER TABLE webhooks ADD COLUMN relay boolean NOT NULL DEFAULT false;
