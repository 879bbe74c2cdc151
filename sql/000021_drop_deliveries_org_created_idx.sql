-- Every write of a delivery row (three per delivery: queued, claimed, recorded; none of them HOT)
-- also wrote this index. Its one reader, the stats of a window, now finds the window's rows by
-- their ids, which begin with their creation time, through deliveries_org_idx and
-- deliveries_webhook_idx.
DROP INDEX IF EXISTS deliveries_org_created_idx;
