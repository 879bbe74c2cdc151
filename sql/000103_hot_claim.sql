-- The claim writes only columns no index covers, so PostgreSQL can make it a HOT update: a new
-- version of the row on the same page and no new index entry (docs/delivery-states.md, "States").
-- Before, the claim set status = 'sending' and lease_expires_at, both in index keys or
-- predicates, so every claim added an entry to each of the table's six indexes, and the
-- recorded outcome another set.
--
-- What is stored becomes `state`: pending, succeeded, failed, cancelled or skipped. A claimed
-- delivery stays `pending` with its lease (lease_expires_at, worker_id) set; the claim and
-- everything that hands work out skip leased rows. `status`, what every reader reads, is computed
-- from the two: `sending` while a lease is held, `state` otherwise. It is stored, indexed by
-- nothing, so reading it costs what reading the old column cost.

-- Rows in flight now: `pending` under their lease, which the reaper hands back when it ends.
UPDATE deliveries SET status = 'pending' WHERE status = 'sending';

-- The lease index keyed lease_expires_at: with it, no claim could be HOT. The reaper now looks for
-- expired leases among the pending rows (src/queue/release.ts).
DROP INDEX deliveries_leased_idx;
DROP INDEX deliveries_fifo_idx;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries RENAME COLUMN status TO state;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
  CHECK (state IN ('pending', 'succeeded', 'failed', 'cancelled', 'skipped'));

-- Room on each page for the claim's new version of a row: a HOT update needs it on the same page.
-- Set before the column is added, so the rewrite that adding it makes leaves that room too.
ALTER TABLE deliveries SET (fillfactor = 80);

ALTER TABLE deliveries ADD COLUMN status text NOT NULL
  GENERATED ALWAYS AS (CASE WHEN state = 'pending' AND lease_expires_at IS NOT NULL THEN 'sending' ELSE state END) STORED;

-- FIFO: the head of each webhook's line, sent or waiting (docs/delivery-states.md, "FIFO").
CREATE INDEX deliveries_fifo_idx ON deliveries (webhook_id, seq) WHERE state = 'pending';
