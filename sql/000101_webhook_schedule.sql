-- When each webhook may next have work to claim (docs/delivery-states.md, "Claiming"): one narrow
-- row per webhook, so the claim reads deliveries only of the webhooks whose time has come, and a
-- webhook with nothing due is not probed at all.
-- claimable_at: never later than the next_attempt_at of any of the webhook's pending deliveries
--   (it may be earlier: then a claim finds nothing and the maintenance chore settles it);
--   'infinity' when it has none.
CREATE TABLE webhook_schedule (
  webhook_id    text PRIMARY KEY REFERENCES webhooks(id) ON DELETE CASCADE,
  claimable_at  timestamptz NOT NULL
);
-- The claim's `ready` and msUntilNextDue (src/queue/claim.ts) read the webhooks whose time has
-- come; the settling chore (src/queue/schedule.ts) the ones whose time has come with nothing due.
CREATE INDEX webhook_schedule_claimable_idx ON webhook_schedule (claimable_at);

INSERT INTO webhook_schedule (webhook_id, claimable_at)
SELECT webhook_id, min(next_attempt_at) FROM deliveries WHERE status = 'pending' GROUP BY webhook_id;

-- Kept by the statements that make deliveries pending, whichever they are (fan-out, a retry
-- recorded, a release, the reaper, a manual retry or replay, a relay outcome): at the end of the
-- statement, the webhook's time is brought forward to its earliest new pending row.
-- Why it cannot lose a wake-up against settleSchedule (src/queue/schedule.ts), which moves
-- claimable_at later: the writer first holds KEY SHARE on the webhook row until it commits (an
-- insert holds it already, through the foreign key), and only then reads the schedule, in a new
-- statement (a new snapshot). settleSchedule takes FOR UPDATE on the webhook row with SKIP
-- LOCKED, which KEY SHARE blocks, and reads the deliveries only after it holds that lock. So
-- either the writer holds its lock first and settleSchedule leaves the webhook alone, or
-- settleSchedule commits first and the writer, waiting for its lock, then sees the later time
-- and brings it forward; a writer that committed before settleSchedule's read is seen by it.
CREATE FUNCTION deliveries_keep_schedule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM webhooks w
    WHERE w.id IN (SELECT n.webhook_id FROM new_rows n WHERE n.status = 'pending')
    ORDER BY w.id FOR KEY SHARE OF w;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_schedule (webhook_id, claimable_at)
  SELECT n.webhook_id, min(n.next_attempt_at) FROM new_rows n WHERE n.status = 'pending' GROUP BY n.webhook_id
  ON CONFLICT (webhook_id) DO NOTHING;
  -- Locked in id order, so two writers bringing the same webhooks forward cannot deadlock.
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
