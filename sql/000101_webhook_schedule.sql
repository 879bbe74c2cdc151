-- When each webhook may next have work to claim (docs/delivery-states.md, "Claiming"): one narrow
-- row per webhook, so the claim reads deliveries only of the webhooks whose time has come, and a
-- webhook with nothing due is not probed at all.
-- claimable_at: never later than the next_attempt_at of any of the webhook's pending deliveries
--   (it may be earlier: then a claim finds nothing, and settleSchedule moves it on);
--   'infinity' when it has none.
CREATE TABLE webhook_schedule (
  webhook_id    text PRIMARY KEY REFERENCES webhooks(id) ON DELETE CASCADE,
  claimable_at  timestamptz NOT NULL
);
-- The claim's `ready` and msUntilNextDue (src/queue/claim.ts) read the webhooks whose time has
-- come; settleSchedule (src/queue/schedule.ts) the ones whose time has come with nothing due.
CREATE INDEX webhook_schedule_claimable_idx ON webhook_schedule (claimable_at);

-- A row for every webhook there is; a new webhook gets its row with its first delivery.
INSERT INTO webhook_schedule (webhook_id, claimable_at)
SELECT w.id, COALESCE((SELECT min(d.next_attempt_at) FROM deliveries d
                        WHERE d.webhook_id = w.id AND d.status = 'pending'), 'infinity')
  FROM webhooks w;

-- Kept by the statements that make deliveries pending, whichever they are (fan-out, a retry
-- recorded, a release, the reaper, a manual retry or replay, a relay outcome): at the end of the
-- statement, the webhook's time is brought forward to its earliest new pending row.
-- Why it cannot lose a wake-up against settleSchedule (src/queue/schedule.ts), which moves
-- claimable_at later: the writer first takes the webhook's schedule lock (a transaction-level
-- advisory lock on the webhook id) shared, held until it commits, and only then reads the
-- schedule, in a new statement (a new snapshot). settleSchedule only tries the same lock,
-- exclusive, and reads the deliveries only after it holds it, in a new statement. So either the
-- writer holds its lock first and settleSchedule leaves the webhook alone, or settleSchedule
-- commits first and the writer, waiting for its lock, then sees the later time and brings it
-- forward; a writer that committed before settleSchedule's read is seen by it.
-- The lock is one of 1,024 per webhook id's hash, not one per webhook: a statement that makes
-- pending the rows of tens of thousands of webhooks (one event fanned out to all of them) would
-- otherwise fill the server's lock table ("out of shared memory"). Two webhooks sharing a bucket
-- only make settleSchedule leave both alone a little more often, which is always safe.
-- An advisory lock rather than a row lock: nothing else takes it, so a writer that holds
-- delivery rows and waits for it cannot be waited for in turn (a webhook being deleted waits
-- for those rows), and settleSchedule never waits for it.
CREATE FUNCTION deliveries_keep_schedule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext('hookline.webhook_schedule'), h.bucket)
     FROM (SELECT DISTINCT hashtext(n.webhook_id) & 1023 AS bucket FROM new_rows n WHERE n.status = 'pending') h;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  -- A webhook's first row, and the rows brought forward, in id order: two writers that wait for
  -- each other's new or locked rows wait in the same order, so they cannot deadlock.
  INSERT INTO webhook_schedule (webhook_id, claimable_at)
  SELECT n.webhook_id, min(n.next_attempt_at) FROM new_rows n WHERE n.status = 'pending'
   GROUP BY n.webhook_id ORDER BY n.webhook_id
  ON CONFLICT (webhook_id) DO NOTHING;
  WITH n AS (
    SELECT webhook_id, min(next_attempt_at) AS at FROM new_rows WHERE status = 'pending' GROUP BY webhook_id
  ), l AS (
    SELECT s.webhook_id, n.at FROM webhook_schedule s JOIN n ON n.webhook_id = s.webhook_id
     WHERE s.claimable_at > n.at ORDER BY s.webhook_id FOR NO KEY UPDATE OF s
  )
  UPDATE webhook_schedule s SET claimable_at = LEAST(s.claimable_at, l.at) FROM l WHERE s.webhook_id = l.webhook_id;
  RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_schedule_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_keep_schedule();
CREATE TRIGGER deliveries_schedule_update AFTER UPDATE ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_keep_schedule();
