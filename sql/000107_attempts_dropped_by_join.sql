-- The attempts of deleted deliveries were found with `delivery_id = ANY(ARRAY(SELECT id FROM
-- old_rows))` (000104_attempts_without_fk.sql). The planner cannot see into that array. With no
-- statistics on delivery_attempts, or statistics from when it was small, it takes the default
-- selectivity of a column that is not unique, prices a sequential scan below the index, and then
-- tests every attempt row against every deleted id in turn: rows times ids. On the embedded store,
-- deleting a webhook with 10,000 finished deliveries beside two million attempts held the database
-- for more than ten minutes (docs/performance-history.md, 2026-12-07 16:10).
--
-- A join of the transition table, whose row count the planner knows, is linear whichever plan it
-- takes: one index probe per deleted id, or one hash of the ids and one pass over the attempts.
-- (The queue's triggers, 000106_delivery_queue.sql, keep `= ANY(ARRAY(…))`: they look rows up by
-- primary key, which the planner always prices as one row per id.)
CREATE OR REPLACE FUNCTION deliveries_drop_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_attempts a USING old_rows o WHERE a.delivery_id = o.id;
  RETURN NULL;
END
$$;
