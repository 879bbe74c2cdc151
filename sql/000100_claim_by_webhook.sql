-- The claim takes due work webhook by webhook (docs/delivery-states.md, "Claiming"), so a
-- webhook that has to wait (busy in a worker, its circuit open, its fifo head out) costs one
-- index probe however long its line, instead of a walk over every one of its due rows.
-- Read by the claim (src/queue/claim.ts: PENDING_HOOKS, the loose scan that finds each webhook
-- with pending rows and its earliest due time, and `others`, which takes the oldest due rows of
-- one webhook) and by msUntilNextDue (the earliest row of each webhook due after a moment).
CREATE INDEX deliveries_webhook_due_idx ON deliveries (webhook_id, next_attempt_at) WHERE status = 'pending';
-- It replaces the global due index: with both, the planner may walk every due row of the queue
-- for one webhook's few. The queue gauges (src/queue/gauges.ts, /metrics) count the pending
-- rows anyway, and read their oldest due time in that same pass over this index.
DROP INDEX deliveries_due_idx;
