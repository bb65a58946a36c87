-- 0002: the Slack outbox — what Slack still has to be told about a proposal after a call to Slack
-- failed past the Web API client's retries. A row is a debt, not a message: the bot re-renders it from
-- the proposal's current state when Slack is back, and deletes the row once Slack accepted it.

CREATE TABLE slack_outbox (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    kind        TEXT NOT NULL CHECK (kind IN ('card', 'update', 'result')),
    channel     TEXT,                             -- 'card': the channel the card was meant for
    generation  INTEGER NOT NULL DEFAULT 1,       -- bumped each time the debt is owed again
    attempts    INTEGER NOT NULL DEFAULT 0,       -- catch-up attempts that failed
    last_error  TEXT NOT NULL DEFAULT '',
    claimed_at  TEXT,                             -- a catch-up is telling Slack right now (or crashed doing so)
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (proposal_id, kind)
) WITHOUT ROWID;
