-- 0003 belongs to another branch (it is replaced by that branch's migration when they merge);
-- this placeholder only keeps the versions contiguous so 0004 applies on this branch alone.
SELECT 1;
