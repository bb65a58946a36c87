-- 0001: tickets, proposals, approvals, the transition log and the action (audit) log.
-- Timestamps are fixed-width ISO-8601 UTC text, so text order is time order.

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,
    title       TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    detail_json TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    closed_at   TEXT,
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
-- At most one open ticket per key: the agent's dedup relies on it.
CREATE UNIQUE INDEX tickets_one_open_per_key ON tickets (key) WHERE state = 'open';

CREATE TABLE proposals (
    id                   INTEGER PRIMARY KEY,
    state                TEXT NOT NULL CHECK (state IN (
                             'pending', 'approved', 'executing', 'succeeded', 'failed', 'unknown',
                             'rejected', 'expired', 'superseded')),
    revision             INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    fingerprint          TEXT NOT NULL,
    tier                 TEXT NOT NULL,
    approvals_required   INTEGER NOT NULL CHECK (approvals_required >= 1),
    request_json         TEXT NOT NULL,   -- the current ActionRequest (after edits)
    original_params_json TEXT NOT NULL,   -- the parameters as first proposed
    preflight_json       TEXT,
    requester            TEXT NOT NULL,
    source               TEXT NOT NULL,
    action               TEXT NOT NULL,
    ticket_id            INTEGER REFERENCES tickets (id),
    channel              TEXT,
    message_ts           TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    expires_at           TEXT NOT NULL,
    revert_at            TEXT,
    undo_of              INTEGER REFERENCES proposals (id),
    result_json          TEXT
);
CREATE INDEX proposals_by_state_expiry ON proposals (state, expires_at);
CREATE INDEX proposals_by_ticket ON proposals (ticket_id);

CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    revision    INTEGER NOT NULL,
    approver    TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason      TEXT NOT NULL DEFAULT '',
    decided_at  TEXT NOT NULL,
    UNIQUE (proposal_id, revision, approver)
);

-- One row per state transition, written in the transition's own transaction. Append-only.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_proposal ON events (proposal_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only');
END;

-- The audit log. No foreign keys on purpose: it must accept every row it is given (a dry-run
-- about a ticket that was never stored is still worth keeping).
CREATE TABLE action_log (
    id            INTEGER PRIMARY KEY,
    proposal_id   INTEGER,
    ticket_id     INTEGER,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    dry_run       INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    caller_id     TEXT NOT NULL DEFAULT '',   -- the X-Caller-ID sent to PD
    region_id     INTEGER,                    -- the first of region_id, source_region_id, target_region_id
    store_id      INTEGER,                    -- the first of store_id, to_store_id, from_store_id
    request_json  TEXT NOT NULL,
    result_json   TEXT,
    approval_json TEXT,
    created_at    TEXT NOT NULL,
    executed_at   TEXT
);
-- Partial: no query looks for NULL, and an append whose key is NULL (a dry-run has no proposal; no
-- row is executed when it is written) then dirties one page fewer before its fsync.
CREATE INDEX action_log_by_proposal ON action_log (proposal_id) WHERE proposal_id IS NOT NULL;
CREATE INDEX action_log_by_ticket ON action_log (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX action_log_by_executed_at ON action_log (executed_at) WHERE executed_at IS NOT NULL;
-- Only the result of an execution is filled in later; everything else is written once.
CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log
BEGIN
    SELECT RAISE(ABORT, 'action_log is append-only');
END;
CREATE TRIGGER action_log_written_once
BEFORE UPDATE OF id, proposal_id, ticket_id, actor, action, dry_run, caller_id, region_id, store_id,
                 request_json, approval_json, created_at ON action_log
BEGIN
    SELECT RAISE(ABORT, 'only result_json and executed_at of an action_log row may change');
END;

-- Every region and store an audit row names (a transfer-peer names two stores, a merge two
-- regions), keyed so "newest N rows about store S" is one index range read backwards.
CREATE TABLE action_log_regions (
    region_id INTEGER NOT NULL,
    log_id    INTEGER NOT NULL REFERENCES action_log (id),
    PRIMARY KEY (region_id, log_id)
) WITHOUT ROWID;
CREATE TABLE action_log_stores (
    store_id INTEGER NOT NULL,
    log_id   INTEGER NOT NULL REFERENCES action_log (id),
    PRIMARY KEY (store_id, log_id)
) WITHOUT ROWID;
