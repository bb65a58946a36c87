-- 0003: who edited a proposal, at most one open undo per proposal, and the slash commands already
-- received (so a replay inside Slack's five-minute window creates nothing new).

-- Every revision after the first, oldest first: [{"revision", "editor", "system", "changes", "at"}].
-- Appended by the same guarded UPDATE that makes the revision, so a revision never lacks its editor.
ALTER TABLE proposals ADD COLUMN edits_json TEXT NOT NULL DEFAULT '[]';

-- A database from before this migration may hold two open undos of one proposal; the newer pending
-- ones are closed (with their events row) so the index below can be built. Executing ones are left.
INSERT INTO events (proposal_id, from_state, to_state, revision, actor, at, detail_json)
SELECT p.id, 'pending', 'superseded', p.revision, 'tikv-chatops/migration',
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       json_object('reason', 'another undo of #' || p.undo_of || ' was already open')
FROM proposals p
WHERE p.undo_of IS NOT NULL AND p.state = 'pending'
  AND EXISTS (SELECT 1 FROM proposals o WHERE o.undo_of = p.undo_of AND o.id < p.id
              AND o.state IN ('pending', 'approved', 'executing'));
UPDATE proposals SET state = 'superseded'
WHERE undo_of IS NOT NULL AND state = 'pending'
  AND EXISTS (SELECT 1 FROM proposals o WHERE o.undo_of = proposals.undo_of AND o.id < proposals.id
              AND o.state IN ('pending', 'approved', 'executing'));

-- At most one open inverse (a person's undo or the automatic revert) per proposal.
CREATE UNIQUE INDEX proposals_one_open_undo ON proposals (undo_of)
    WHERE undo_of IS NOT NULL AND state IN ('pending', 'approved', 'executing');

-- Slash commands already received, by trigger id and by a hash of the signed body. Rows older than
-- the replay window are pruned when a new one is written.
CREATE TABLE slack_deliveries (
    key         TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX slack_deliveries_by_time ON slack_deliveries (received_at);
