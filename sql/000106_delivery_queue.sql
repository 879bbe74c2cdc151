-- The queue gets a table of its own (docs/delivery-states.md, "What is stored"). Until now the
-- pending deliveries were found through two partial indexes of `deliveries` (WHERE state =
-- 'pending'), so the update that finishes a delivery changed a column those indexes depend on:
-- never a HOT update, four new index entries on the wide table for every delivery, and every
-- VACUUM of `deliveries` had to scan all of its indexes to take the old entries out. On the
-- embedded store that pass holds the one database connection, for seconds on a large log.
--
-- `delivery_queue` holds one narrow row per pending delivery (leased or not), with the two
-- indexes the claim walks. No index of `deliveries` depends on `state` or `next_attempt_at` any
-- more, so the claim and the record are both HOT updates there; the queue's rows come and go
-- on a table the size of the backlog, cheap to vacuum.
--
-- The rows are kept by triggers on `deliveries`, as the webhook schedule is
-- (000101_webhook_schedule.sql), so no statement that makes a delivery pending, reschedules it
-- or finishes it can forget: a delivery is in the queue exactly when its `state` is 'pending',
-- with its `next_attempt_at`. The lease stays on `deliveries` (a claim writes nothing here).
-- Every writer of a delivery holds its row lock before its trigger writes the queue row, so
-- the queue adds no lock order of its own.
CREATE TABLE delivery_queue (
  delivery_id      text PRIMARY KEY,
  webhook_id       text NOT NULL,
  next_attempt_at  timestamptz NOT NULL,
  seq              bigint NOT NULL
);
-- A webhook's due rows, oldest first: the claim, the schedule, the gauges.
CREATE INDEX delivery_queue_due_idx ON delivery_queue (webhook_id, next_attempt_at);
-- A webhook's rows in event order: a fifo webhook's head, the relay's claim, a circuit probe.
CREATE INDEX delivery_queue_fifo_idx ON delivery_queue (webhook_id, seq);

INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, seq)
SELECT id, webhook_id, next_attempt_at, seq FROM deliveries WHERE state = 'pending';

CREATE FUNCTION deliveries_queue_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, seq)
  SELECT id, webhook_id, next_attempt_at, seq FROM new_rows WHERE state = 'pending';
  RETURN NULL;
END
$$;

-- A finished row leaves the queue; an unleased pending one enters it or takes its new due time.
-- A leased row is left as it is: the only statements that lease a row (the claims) change
-- nothing else the queue holds, and every statement that moves `next_attempt_at` drops the
-- lease. So a claim, the most frequent update, writes nothing here.
CREATE FUNCTION deliveries_queue_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_queue
   WHERE delivery_id = ANY(ARRAY(SELECT id FROM new_rows WHERE state <> 'pending'));
  INSERT INTO delivery_queue (delivery_id, webhook_id, next_attempt_at, seq)
  SELECT id, webhook_id, next_attempt_at, seq FROM new_rows
   WHERE state = 'pending' AND lease_expires_at IS NULL
  ON CONFLICT (delivery_id) DO UPDATE SET next_attempt_at = EXCLUDED.next_attempt_at
   WHERE delivery_queue.next_attempt_at IS DISTINCT FROM EXCLUDED.next_attempt_at;
  RETURN NULL;
END
$$;

CREATE FUNCTION deliveries_queue_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_queue WHERE delivery_id = ANY(ARRAY(SELECT id FROM old_rows));
  RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_queue_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_queue_insert();
CREATE TRIGGER deliveries_queue_update AFTER UPDATE ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_queue_update();
CREATE TRIGGER deliveries_queue_delete AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_queue_delete();

DROP INDEX deliveries_webhook_due_idx;
DROP INDEX deliveries_fifo_idx;
