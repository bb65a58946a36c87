-- 0002 (SQLite's 0005): "what did this person do in the last two hours" reads one person's recent
-- rows only. With the actor index alone, a busy person's whole history was walked to find the recent
-- rows; (actor, created_at) bounds the walk to the window. The actor index stays: "everything this
-- person did, newest first" walks it backwards by id and stops at the LIMIT.
CREATE INDEX action_log_by_actor_time ON action_log (actor, created_at);
