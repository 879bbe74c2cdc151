-- An attempt's request headers without what every attempt repeats (docs/delivery-states.md,
-- "The attempt log"; src/store/request-headers.ts). Each attempt row used to hold all of them:
-- content-type, user-agent, the custom headers, the event's id and type and the timestamps
-- beside the signatures, about 430 bytes of JSON parsed into jsonb for every attempt. Now the
-- headers a webhook's attempts share are one row here, named by a hash of the webhook and the
-- content; the attempt row keeps its signatures and the set's name. The event's id and type and the
-- timestamps are derived from the delivery and `started_at` when the log is read.
--
-- Rows written before this migration keep all their headers and no set (`header_set` NULL).
CREATE TABLE request_header_sets (
  id          text PRIMARY KEY,
  webhook_id  text NOT NULL,
  headers     jsonb NOT NULL,
  -- Names whose values are derived from the attempt when it is read.
  derived     text[] NOT NULL,
  -- Moved forward at most hourly while the set is used; retention removes the sets unused
  -- for a day longer than attempts are kept (src/worker/retention.ts).
  used_at     timestamptz NOT NULL DEFAULT now()
);
-- Retention's walk to the unused sets.
CREATE INDEX request_header_sets_used_idx ON request_header_sets (used_at);
-- A deleted webhook's sets (the trigger below).
CREATE INDEX request_header_sets_webhook_idx ON request_header_sets (webhook_id);

-- A set holds the webhook's custom headers, which may carry a credential of the receiver's: it
-- goes with the webhook, as the attempts do (every path that removes a webhook deletes its row:
-- the API's delete, the purge of a deleted tenant's webhooks).
CREATE FUNCTION webhooks_drop_header_sets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM request_header_sets s USING old_rows o WHERE s.webhook_id = o.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER webhooks_drop_header_sets AFTER DELETE ON webhooks
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION webhooks_drop_header_sets();

ALTER TABLE delivery_attempts ADD COLUMN header_set text;
