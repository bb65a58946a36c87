"""Proposal, approval and transition transactions, as plain functions over an ``sqlite3.Connection``.

Each public function is one transaction (see ``store.connection``). Every state change is a single
guarded statement, ``UPDATE proposals SET state = ? … WHERE id = ? AND state = ? [AND revision = ?]``,
and what it touched decides the outcome; its ``events`` row is written in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from actions.audit import SYSTEM_ACTOR
from actions.errors import InverseAlreadyOpen, ProposalNotFound
from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    AuditEntry,
    Decision,
    PreflightReport,
    Proposal,
    ProposalEdit,
    ProposalState,
    Tier,
)
from actions.ports import ApprovalOutcome, ProposalEvent
from store import audit, timeline
from store.chain import PD_REQUEST_EVENT
from store.codec import (
    APPROVAL_COLUMNS,
    PROPOSAL_COLUMNS,
    approval_from_row,
    dumps,
    event_from_row,
    opt_time,
    proposal_from_row,
    to_db_time,
)
from store.connection import transaction


def _event(
    conn: sqlite3.Connection,
    proposal_id: int,
    from_state: ProposalState | None,
    to_state: ProposalState,
    revision: int,
    actor: str,
    at: str,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO events (proposal_id, from_state, to_state, revision, actor, at, detail_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (proposal_id, from_state, to_state, revision, actor, at, dumps(detail or {})),
    )
    timeline.record_transition(conn, proposal_id, from_state, to_state, revision, actor, at, detail or {})


def _guarded(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    """Run one guarded ``UPDATE … RETURNING``; the row it returns, or None when the guard failed."""
    rows = conn.execute(sql, params).fetchall()  # fetch all: a RETURNING statement ends when drained
    return rows[0] if rows else None


def _load(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Proposal]:
    """Proposals by id, in the order given, each with the decisions on its current revision."""
    if not ids:
        return []
    id_list = json.dumps(list(ids))
    rows = {
        row["id"]: row
        for row in conn.execute(
            f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id IN (SELECT value FROM json_each(?))",
            (id_list,),
        )
    }
    decisions: dict[int, list[ActionApproval]] = {}
    for row in conn.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in APPROVAL_COLUMNS.split(','))} FROM approvals a"
        " JOIN proposals p ON p.id = a.proposal_id AND p.revision = a.revision"
        " WHERE a.proposal_id IN (SELECT value FROM json_each(?)) ORDER BY a.id",
        (id_list,),
    ):
        decisions.setdefault(row["proposal_id"], []).append(approval_from_row(row))
    return [proposal_from_row(rows[i], decisions.get(i, ())) for i in ids if i in rows]


def _one(conn: sqlite3.Connection, proposal_id: int) -> Proposal:
    found = _load(conn, [proposal_id])
    if not found:
        raise ProposalNotFound(f"proposal {proposal_id} does not exist")
    return found[0]


def _expire(conn: sqlite3.Connection, proposal_id: int, at: str) -> bool:
    """pending or approved -> expired when past ``expires_at``, with its events row; False otherwise."""
    row = conn.execute(
        "SELECT state, revision, expires_at FROM proposals"
        " WHERE id = ? AND state IN (?, ?) AND expires_at <= ?",
        (proposal_id, ProposalState.PENDING, ProposalState.APPROVED, at),
    ).fetchone()
    if row is None:
        return False
    conn.execute(
        "UPDATE proposals SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
        (ProposalState.EXPIRED, at, proposal_id, row["state"]),
    )
    detail = {"expires_at": row["expires_at"]}
    _event(conn, proposal_id, row["state"], ProposalState.EXPIRED, row["revision"], SYSTEM_ACTOR, at, detail)
    return True


def create(
    conn: sqlite3.Connection,
    *,
    request: ActionRequest,
    tier: Tier,
    approvals_required: int,
    preflight: PreflightReport,
    expires_at: datetime,
    now: datetime,
    channel: str | None,
    undo_of: int | None,
    revert_at: datetime | None,
) -> Proposal:
    at = to_db_time(now)
    with transaction(conn):
        try:
            cursor = _insert_proposal(
                conn,
                request,
                tier,
                approvals_required,
                preflight,
                expires_at,
                at,
                channel,
                undo_of,
                revert_at,
            )
        except sqlite3.IntegrityError as exc:
            # proposals_one_open_undo: another undo of the same proposal is open (0003).
            if undo_of is not None and "undo_of" in str(exc):
                raise InverseAlreadyOpen(undo_of) from exc
            raise
        proposal_id = cursor.lastrowid
        assert proposal_id is not None  # an INSERT into a rowid table always sets it
        _event(conn, proposal_id, None, ProposalState.PENDING, 1, request.requester, at, {"tier": tier})
        return _one(conn, proposal_id)


def _insert_proposal(
    conn: sqlite3.Connection,
    request: ActionRequest,
    tier: Tier,
    approvals_required: int,
    preflight: PreflightReport,
    expires_at: datetime,
    at: str,
    channel: str | None,
    undo_of: int | None,
    revert_at: datetime | None,
) -> sqlite3.Cursor:
    return conn.execute(
        "INSERT INTO proposals (state, revision, fingerprint, tier, approvals_required, request_json,"
        " original_params_json, preflight_json, requester, source, action, ticket_id, channel,"
        " created_at, updated_at, expires_at, revert_at, undo_of)"
        " VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ProposalState.PENDING,
            preflight.fingerprint,
            tier,
            approvals_required,
            request.model_dump_json(),
            dumps(request.params),
            preflight.model_dump_json(),
            request.requester,
            request.source,
            request.action,
            request.ticket_id,
            channel,
            at,
            at,
            to_db_time(expires_at),
            opt_time(revert_at),
            undo_of,
        ),
    )


def get(conn: sqlite3.Connection, proposal_id: int) -> Proposal | None:
    with transaction(conn, write=False):
        found = _load(conn, [proposal_id])
    return found[0] if found else None


def list_(
    conn: sqlite3.Connection, *, states: Sequence[ProposalState] | None, ticket_id: int | None, limit: int
) -> list[Proposal]:
    where: list[str] = []
    params: list[Any] = []
    if states is not None:
        where.append("state IN (SELECT value FROM json_each(?))")
        params.append(json.dumps([str(s) for s in states]))
    if ticket_id is not None:
        where.append("ticket_id = ?")
        params.append(ticket_id)
    sql = "SELECT id FROM proposals" + (" WHERE " + " AND ".join(where) if where else "")
    with transaction(conn, write=False):
        ids = [row[0] for row in conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))]
        return _load(conn, ids)


def set_card(conn: sqlite3.Connection, proposal_id: int, *, channel: str, message_ts: str) -> None:
    with transaction(conn):
        cursor = conn.execute(
            "UPDATE proposals SET channel = ?, message_ts = ? WHERE id = ?",
            (channel, message_ts, proposal_id),
        )
        if cursor.rowcount == 0:
            raise ProposalNotFound(f"proposal {proposal_id} does not exist")


def add_approval(conn: sqlite3.Connection, approval: ActionApproval, *, required: int) -> ApprovalOutcome:
    at = to_db_time(approval.decided_at)
    with transaction(conn):
        current = conn.execute(
            "SELECT state, revision FROM proposals WHERE id = ?", (approval.proposal_id,)
        ).fetchone()
        if current is None:
            raise ProposalNotFound(f"proposal {approval.proposal_id} does not exist")
        # A person who already decided this revision hears "duplicate" even if it moved on since:
        # that is the accurate answer to a double click.
        if conn.execute(
            "SELECT 1 FROM approvals WHERE proposal_id = ? AND revision = ? AND approver = ?",
            (approval.proposal_id, approval.revision, approval.approver),
        ).fetchone():
            return ApprovalOutcome.DUPLICATE
        if current["state"] != ProposalState.PENDING or current["revision"] != approval.revision:
            return ApprovalOutcome.STALE
        # The approval counts only while the proposal is inside its TTL, judged at the moment it is
        # recorded (not when the click arrived: the re-check against PD may have taken a while).
        inserted = conn.execute(
            f"INSERT INTO approvals ({APPROVAL_COLUMNS})"
            " SELECT ?, ?, ?, ?, ?, ? FROM proposals"
            " WHERE id = ? AND state = ? AND revision = ? AND expires_at > ?",
            (
                approval.proposal_id,
                approval.revision,
                approval.approver,
                Decision.APPROVE,
                approval.reason,
                at,
                approval.proposal_id,
                ProposalState.PENDING,
                approval.revision,
                at,
            ),
        )
        if inserted.rowcount == 0:
            _expire(conn, approval.proposal_id, at)
            return ApprovalOutcome.EXPIRED
        timeline.record_approval(conn, approval, at)
        moved = _guarded(
            conn,
            "UPDATE proposals SET state = ?, updated_at = ?"
            " WHERE id = ? AND state = ? AND revision = ? AND expires_at > ?"
            " AND (SELECT COUNT(DISTINCT approver) FROM approvals"
            "      WHERE proposal_id = ? AND revision = ? AND decision = ?) >= ?"
            " RETURNING revision",
            (
                ProposalState.APPROVED,
                at,
                approval.proposal_id,
                ProposalState.PENDING,
                approval.revision,
                at,
                approval.proposal_id,
                approval.revision,
                Decision.APPROVE,
                required,
            ),
        )
        if moved is None:
            return ApprovalOutcome.RECORDED
        approvers = [
            row[0]
            for row in conn.execute(
                "SELECT approver FROM approvals WHERE proposal_id = ? AND revision = ? AND decision = ?"
                " ORDER BY id",
                (approval.proposal_id, approval.revision, Decision.APPROVE),
            )
        ]
        detail = {"approvers": approvers, "required": required}
        _event(
            conn,
            approval.proposal_id,
            ProposalState.PENDING,
            ProposalState.APPROVED,
            approval.revision,
            approval.approver,
            at,
            detail,
        )
        return ApprovalOutcome.APPROVED


def reject(conn: sqlite3.Connection, rejection: ActionApproval) -> bool:
    at = to_db_time(rejection.decided_at)
    with transaction(conn):
        moved = _guarded(
            conn,
            "UPDATE proposals SET state = ?, updated_at = ? WHERE id = ? AND state = ? AND revision = ?"
            " RETURNING revision",
            (ProposalState.REJECTED, at, rejection.proposal_id, ProposalState.PENDING, rejection.revision),
        )
        if moved is None:
            return False
        # Someone who approved and then rejects the same revision: the rejection is their decision.
        conn.execute(
            f"INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (proposal_id, revision, approver)"
            " DO UPDATE SET decision = excluded.decision, reason = excluded.reason,"
            " decided_at = excluded.decided_at",
            (
                rejection.proposal_id,
                rejection.revision,
                rejection.approver,
                Decision.REJECT,
                rejection.reason,
                at,
            ),
        )
        _event(
            conn,
            rejection.proposal_id,
            ProposalState.PENDING,
            ProposalState.REJECTED,
            rejection.revision,
            rejection.approver,
            at,
            {"reason": rejection.reason},
        )
        return True


def transition(
    conn: sqlite3.Connection,
    proposal_id: int,
    *,
    expected: ProposalState,
    new: ProposalState,
    actor: str,
    now: datetime,
    revision: int | None,
    detail: dict[str, Any] | None,
) -> bool:
    at = to_db_time(now)
    sql = "UPDATE proposals SET state = ?, updated_at = ? WHERE id = ? AND state = ?"
    params: list[Any] = [new, at, proposal_id, expected]
    if revision is not None:
        sql += " AND revision = ?"
        params.append(revision)
    with transaction(conn):
        moved = _guarded(conn, sql + " RETURNING revision", params)
        if moved is None:
            return False
        _event(conn, proposal_id, expected, new, moved["revision"], actor, at, detail)
        return True


def revise(
    conn: sqlite3.Connection,
    proposal_id: int,
    *,
    expected_revision: int,
    request: ActionRequest,
    preflight: PreflightReport,
    expires_at: datetime,
    actor: str,
    now: datetime,
    tier: Tier | None = None,
    approvals_required: int | None = None,
    edit: ProposalEdit | None = None,
) -> Proposal | None:
    at = to_db_time(now)
    edit = edit or ProposalEdit(revision=expected_revision + 1, editor=actor, at=now)
    if edit.revision != expected_revision + 1 or edit.editor != actor:
        raise ValueError(f"the edit record names revision {edit.revision} by {edit.editor}")
    with transaction(conn):
        moved = _guarded(
            conn,
            "UPDATE proposals SET revision = revision + 1, request_json = ?, preflight_json = ?,"
            " fingerprint = ?, expires_at = ?, updated_at = ?, requester = ?, source = ?, action = ?,"
            " ticket_id = ?, tier = COALESCE(?, tier), approvals_required = COALESCE(?, approvals_required),"
            " edits_json = json_insert(edits_json, '$[#]', json(?))"
            " WHERE id = ? AND state = ? AND revision = ? RETURNING revision",
            (
                request.model_dump_json(),
                preflight.model_dump_json(),
                preflight.fingerprint,
                to_db_time(expires_at),
                at,
                request.requester,
                request.source,
                request.action,
                request.ticket_id,
                tier,
                approvals_required,
                edit.model_dump_json(),
                proposal_id,
                ProposalState.PENDING,
                expected_revision,
            ),
        )
        if moved is None:
            return None
        detail: dict[str, Any] = {
            "edited_from_revision": expected_revision,
            "params": request.params,
            "editor": edit.editor,
            "system": edit.system,
            "changes": [c.model_dump(mode="json") for c in edit.changes],
        }
        if tier is not None:
            detail["tier"] = tier
        _event(
            conn,
            proposal_id,
            ProposalState.PENDING,
            ProposalState.PENDING,
            moved["revision"],
            actor,
            at,
            detail,
        )
        return _one(conn, proposal_id)


def claim_for_execution(
    conn: sqlite3.Connection, proposal_id: int, *, intent: AuditEntry, now: datetime
) -> int | None:
    at = to_db_time(now)
    with transaction(conn):
        # Never run after ``expires_at``: an approval that took its time (a slow PD during the re-check,
        # a crash before the claim) is expired here instead, in the same transaction.
        moved = _guarded(
            conn,
            "UPDATE proposals SET state = ?, updated_at = ? WHERE id = ? AND state = ? AND expires_at > ?"
            " RETURNING revision, ticket_id",
            (ProposalState.EXECUTING, at, proposal_id, ProposalState.APPROVED, at),
        )
        if moved is None:
            _expire(conn, proposal_id, at)
            return None
        update: dict[str, Any] = {"proposal_id": proposal_id, "event": PD_REQUEST_EVENT}
        if intent.ticket_id is None:
            update["ticket_id"] = moved["ticket_id"]
        if intent.approval_json is None:
            # The audit row says who approved what it is about to run.
            update["approval_json"] = [
                approval_from_row(row).model_dump(mode="json")
                for row in conn.execute(
                    f"SELECT {APPROVAL_COLUMNS} FROM approvals"
                    " WHERE proposal_id = ? AND revision = ? ORDER BY id",
                    (proposal_id, moved["revision"]),
                )
            ]
        log_id = audit.insert(conn, audit.prepare(intent.model_copy(update=update)))
        _event(
            conn,
            proposal_id,
            ProposalState.APPROVED,
            ProposalState.EXECUTING,
            moved["revision"],
            intent.actor,
            at,
            {"log_id": log_id},
        )
        return log_id


def finish_execution(
    conn: sqlite3.Connection, proposal_id: int, *, log_id: int, result: ActionResult, now: datetime
) -> bool:
    at = to_db_time(now)
    result_json = result.model_dump_json()
    with transaction(conn):
        moved = _guarded(
            conn,
            "UPDATE proposals SET state = ?, result_json = ?, updated_at = ? WHERE id = ? AND state = ?"
            " RETURNING revision",
            (result.state, result_json, at, proposal_id, ProposalState.EXECUTING),
        )
        if moved is None:
            return False
        audit.set_result(conn, log_id, proposal_id=proposal_id, result_json=result_json, executed_at=at)
        detail = {"log_id": log_id, "message": result.message, "pd_status": result.pd_status}
        actor = _executor_of(conn, log_id)
        _event(conn, proposal_id, ProposalState.EXECUTING, result.state, moved["revision"], actor, at, detail)
        return True


def _executor_of(conn: sqlite3.Connection, log_id: int) -> str:
    row = conn.execute("SELECT actor FROM action_log WHERE id = ?", (log_id,)).fetchone()
    return SYSTEM_ACTOR if row is None else str(row[0])


def update_result(conn: sqlite3.Connection, proposal_id: int, *, log_id: int, result: ActionResult) -> None:
    result_json = result.model_dump_json()
    with transaction(conn):
        cursor = conn.execute("UPDATE proposals SET result_json = ? WHERE id = ?", (result_json, proposal_id))
        if cursor.rowcount == 0:
            raise ProposalNotFound(f"proposal {proposal_id} does not exist")
        audit.set_result(conn, log_id, proposal_id=proposal_id, result_json=result_json, executed_at=None)
        at = to_db_time(result.finished_at or result.started_at)
        actor = _executor_of(conn, log_id)
        timeline.record_result(conn, proposal_id, log_id=log_id, result_json=result_json, actor=actor, at=at)


def expire_due(conn: sqlite3.Connection, *, now: datetime) -> list[Proposal]:
    at = to_db_time(now)
    with transaction(conn):
        moved = conn.execute(
            "UPDATE proposals SET state = ?, updated_at = ? WHERE state = ? AND expires_at < ?"
            " RETURNING id, revision, expires_at",
            (ProposalState.EXPIRED, at, ProposalState.PENDING, at),
        ).fetchall()
        for row in moved:
            detail = {"expires_at": row["expires_at"]}
            _event(
                conn,
                row["id"],
                ProposalState.PENDING,
                ProposalState.EXPIRED,
                row["revision"],
                SYSTEM_ACTOR,
                at,
                detail,
            )
        return _load(conn, sorted(row["id"] for row in moved))


def events(conn: sqlite3.Connection, proposal_id: int) -> list[ProposalEvent]:
    rows = conn.execute(
        "SELECT proposal_id, from_state, to_state, revision, actor, at, detail_json FROM events"
        " WHERE proposal_id = ? ORDER BY id",
        (proposal_id,),
    ).fetchall()
    return [event_from_row(row) for row in rows]


def note_delivery(
    conn: sqlite3.Connection, keys: Sequence[str], *, now: datetime, keep_after: datetime
) -> bool:
    """Record a delivery under each of ``keys``; False when any of them was seen after ``keep_after``.

    Rows older than ``keep_after`` are pruned first, in the same transaction.
    """
    at, since = to_db_time(now), to_db_time(keep_after)
    with transaction(conn):
        conn.execute("DELETE FROM slack_deliveries WHERE received_at <= ?", (since,))
        seen = conn.execute(
            "SELECT 1 FROM slack_deliveries WHERE key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(keys)),),
        ).fetchone()
        if seen is not None:
            return False
        conn.executemany(
            "INSERT INTO slack_deliveries (key, received_at) VALUES (?, ?)", [(k, at) for k in keys]
        )
        return True
