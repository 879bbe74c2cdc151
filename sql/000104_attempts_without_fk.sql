-- An attempt row no longer checks its delivery through a foreign key (docs/delivery-states.md,
-- "What is stored"). The key cost each recorded attempt a lookup of its delivery and a lock on
-- that row (a second write to the page the outcome had just written), done one row at a time.
-- The record statement (src/queue/record.ts) inserts attempts only for deliveries that exist.
-- A webhook deleted while its delivery's outcome is being recorded can leave that one attempt
-- behind with no delivery: no list shows it (attempts are listed through their delivery), the
-- organization's latency figures count it (it did happen), and retention removes it.
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;

-- What ON DELETE CASCADE did: a delivery's attempts go with it (a webhook or event deleted,
-- retention), once per statement. `= ANY(ARRAY(…))` walks delivery_attempts_delivery_idx for
-- the deleted ids whatever the planner guesses of the transition table's size.
CREATE FUNCTION deliveries_drop_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_attempts WHERE delivery_id = ANY(ARRAY(SELECT id FROM old_rows));
  RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_drop_attempts AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_drop_attempts();
