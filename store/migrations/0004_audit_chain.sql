-- 0004: the audit log becomes one hash-chained timeline (see docs/audit-trail.md).
-- Every row gets the kind of event it records, a one-line summary, the hash of the row before it
-- and its own SHA-256 (store/chain.py computes both inside the writing transaction; rows written
-- before this migration are hashed, in id order, the first time the store is opened).

ALTER TABLE action_log ADD COLUMN event TEXT NOT NULL DEFAULT '';
ALTER TABLE action_log ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE action_log ADD COLUMN prev_hash TEXT;
ALTER TABLE action_log ADD COLUMN row_hash TEXT;

DROP TRIGGER action_log_written_once;
-- A row from before this migration gets its event and summary once, with its hash.
CREATE TRIGGER action_log_written_once
BEFORE UPDATE OF id, proposal_id, ticket_id, actor, action, dry_run, caller_id, region_id, store_id,
                 request_json, approval_json, created_at, event, summary ON action_log
WHEN OLD.row_hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'only result_json and executed_at of an action_log row may change');
END;
-- A hash is written once (a row from before this migration gets its hash once, at the next open).
CREATE TRIGGER action_log_hashed_once
BEFORE UPDATE OF prev_hash, row_hash ON action_log WHEN OLD.row_hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the hash of an action_log row is written once');
END;
-- A row that is not a PD write has its result in its hash: only a PD write's result is filled in later.
CREATE TRIGGER action_log_note_result_fixed
BEFORE UPDATE OF result_json, executed_at ON action_log WHEN OLD.event <> 'pd_request' AND OLD.row_hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the result of an audit row that is not a PD write is written once');
END;

-- Rows leave the log only through `tikv-chatops audit prune`, which marks its own transaction here.
CREATE TABLE audit_pruning (token INTEGER PRIMARY KEY);
DROP TRIGGER action_log_no_delete;
CREATE TRIGGER action_log_no_delete
BEFORE DELETE ON action_log WHEN NOT EXISTS (SELECT 1 FROM audit_pruning)
BEGIN
    SELECT RAISE(ABORT, 'action_log is append-only');
END;

-- The newest row of the chain: a row deleted from the end still shows.
CREATE TABLE audit_head (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);

-- Display names the bot learnt from users.info, so exports can say who a user id is.
CREATE TABLE actor_names (
    actor   TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    seen_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX action_log_by_created_at ON action_log (created_at);
CREATE INDEX action_log_by_actor ON action_log (actor);
