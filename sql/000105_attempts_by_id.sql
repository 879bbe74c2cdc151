-- Retention finds old attempts by their id, which starts with the time the attempt started
-- (src/worker/retention.ts), so the index on started_at alone had no reader left: one index
-- entry fewer for every attempt written, and one index fewer for VACUUM to walk.
DROP INDEX IF EXISTS delivery_attempts_started_idx;
