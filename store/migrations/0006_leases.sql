-- 0006: named leases, so that the work only one replica may do at a time (the agent loop, the
-- sweeper, the Slack catch-up) has one owner among the processes sharing this database, and each
-- replica's heartbeat. Taken and renewed by one guarded upsert (store/leases.py); `token` grows by
-- one each time the owner changes (a fencing token). Times are the store's fixed-width UTC text.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    token      INTEGER NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
