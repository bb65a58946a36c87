"""Proposal, approval and transition transactions on PostgreSQL (async, over an ``asyncpg.Connection``).

The same transactions as ``store.proposals``, with the same guards. PostgreSQL runs transactions side
by side, so what SQLite gets from its single writer is made explicit here:

- every state change is one guarded ``UPDATE proposals … WHERE id = $n AND state = $m [AND revision]``;
  under READ COMMITTED a second writer waits for the first one's row lock, then re-checks the guard
  against the committed row and touches nothing: a claim or a transition happens once;
- a transaction that reads before it decides (an approval counts the quorum, a claim collects the
  approvals) first locks the proposal's row (``SELECT … FOR UPDATE``), so decisions about one
  proposal are taken one after the other;
- an ``events`` row takes its id under the audit chain's lock (``audit.lock_head``), so events commit
  in id order and ``counts`` can follow them.

Each function runs inside the caller's transaction (``PgDatabase.run``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

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
from store import audit as sqlite_audit
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
from store.postgres import audit, timeline

_A_COLUMNS = ", ".join("a." + c.strip() for c in APPROVAL_COLUMNS.split(","))


async def _event(
    conn: asyncpg.Connection,
    proposal_id: int,
    from_state: ProposalState | None,
    to_state: ProposalState,
    revision: int,
    actor: str,
    at: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await audit.lock_head(conn)  # events ids in commit order (see the module doc)
    await conn.execute(
        "INSERT INTO events (proposal_id, from_state, to_state, revision, actor, at, detail_json)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        proposal_id,
        from_state,
        to_state,
        revision,
        actor,
        at,
        dumps(detail or {}),
    )
    await timeline.record_transition(
        conn, proposal_id, from_state, to_state, revision, actor, at, detail or {}
    )


async def _load(conn: asyncpg.Connection, ids: Sequence[int]) -> list[Proposal]:
    if not ids:
        return []
    rows = {
        row["id"]: row
        for row in await conn.fetch(
            f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = ANY($1::bigint[])", ids
        )
    }
    decisions: dict[int, list[ActionApproval]] = {}
    for row in await conn.fetch(
        f"SELECT {_A_COLUMNS} FROM approvals a"
        " JOIN proposals p ON p.id = a.proposal_id AND p.revision = a.revision"
        " WHERE a.proposal_id = ANY($1::bigint[]) ORDER BY a.id",
        ids,
    ):
        decisions.setdefault(row["proposal_id"], []).append(approval_from_row(row))
    return [proposal_from_row(rows[i], decisions.get(i, ())) for i in ids if i in rows]


async def _one(conn: asyncpg.Connection, proposal_id: int) -> Proposal:
    found = await _load(conn, [proposal_id])
    if not found:
        raise ProposalNotFound(f"proposal {proposal_id} does not exist")
    return found[0]


async def _lock(conn: asyncpg.Connection, proposal_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT state, revision, expires_at, ticket_id FROM proposals WHERE id = $1 FOR UPDATE", proposal_id
    )


async def _expire(conn: asyncpg.Connection, proposal_id: int, at: str) -> bool:
    """pending or approved -> expired when past ``expires_at``, with its events row; False otherwise."""
    row = await conn.fetchrow(
        "SELECT state, revision, expires_at FROM proposals"
        " WHERE id = $1 AND state IN ($2, $3) AND expires_at <= $4 FOR UPDATE",
        proposal_id,
        ProposalState.PENDING,
        ProposalState.APPROVED,
        at,
    )
    if row is None:
        return False
    await conn.execute(
        "UPDATE proposals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        ProposalState.EXPIRED,
        at,
        proposal_id,
        row["state"],
    )
    detail = {"expires_at": row["expires_at"]}
    await _event(
        conn,
        proposal_id,
        ProposalState(row["state"]),
        ProposalState.EXPIRED,
        row["revision"],
        SYSTEM_ACTOR,
        at,
        detail,
    )
    return True


async def create(
    conn: asyncpg.Connection,
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
    try:
        async with conn.transaction():  # a savepoint, so a refused insert can be told apart
            proposal_id = await conn.fetchval(
                "INSERT INTO proposals (state, revision, fingerprint, tier, approvals_required, request_json,"
                " original_params_json, preflight_json, requester, source, action, ticket_id, channel,"
                " created_at, updated_at, expires_at, revert_at, undo_of)"
                " VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16)"
                " RETURNING id",
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
                to_db_time(expires_at),
                opt_time(revert_at),
                undo_of,
            )
    except asyncpg.UniqueViolationError as exc:
        if undo_of is not None and exc.constraint_name == "proposals_one_open_undo":
            raise InverseAlreadyOpen(undo_of) from exc
        raise
    await _event(conn, proposal_id, None, ProposalState.PENDING, 1, request.requester, at, {"tier": tier})
    return await _one(conn, proposal_id)


async def get(conn: asyncpg.Connection, proposal_id: int) -> Proposal | None:
    found = await _load(conn, [proposal_id])
    return found[0] if found else None


async def list_(
    conn: asyncpg.Connection, *, states: Sequence[ProposalState] | None, ticket_id: int | None, limit: int
) -> list[Proposal]:
    where: list[str] = []
    params: list[Any] = []
    if states is not None:
        params.append([str(s) for s in states])
        where.append(f"state = ANY(${len(params)}::text[])")
    if ticket_id is not None:
        params.append(ticket_id)
        where.append(f"ticket_id = ${len(params)}")
    sql = "SELECT id FROM proposals" + (" WHERE " + " AND ".join(where) if where else "")
    params.append(limit)
    ids = [row[0] for row in await conn.fetch(sql + f" ORDER BY id DESC LIMIT ${len(params)}", *params)]
    return await _load(conn, ids)


async def set_card(conn: asyncpg.Connection, proposal_id: int, *, channel: str, message_ts: str) -> None:
    done = await conn.execute(
        "UPDATE proposals SET channel = $1, message_ts = $2 WHERE id = $3", channel, message_ts, proposal_id
    )
    if done.endswith(" 0"):
        raise ProposalNotFound(f"proposal {proposal_id} does not exist")


async def add_approval(
    conn: asyncpg.Connection, approval: ActionApproval, *, required: int
) -> ApprovalOutcome:
    at = to_db_time(approval.decided_at)
    pid, revision = approval.proposal_id, approval.revision
    current = await _lock(conn, pid)
    if current is None:
        raise ProposalNotFound(f"proposal {pid} does not exist")
    if await conn.fetchval(
        "SELECT 1 FROM approvals WHERE proposal_id = $1 AND revision = $2 AND approver = $3",
        pid,
        revision,
        approval.approver,
    ):
        return ApprovalOutcome.DUPLICATE
    if current["state"] != ProposalState.PENDING or current["revision"] != revision:
        return ApprovalOutcome.STALE
    # The approval counts only while the proposal is inside its TTL, judged when it is recorded.
    if current["expires_at"] <= at:
        await _expire(conn, pid, at)
        return ApprovalOutcome.EXPIRED
    await conn.execute(
        f"INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
        pid,
        revision,
        approval.approver,
        Decision.APPROVE,
        approval.reason,
        at,
    )
    await timeline.record_approval(conn, approval, at)
    approvers = [
        row[0]
        for row in await conn.fetch(
            "SELECT approver FROM approvals WHERE proposal_id = $1 AND revision = $2 AND decision = $3"
            " ORDER BY id",
            pid,
            revision,
            Decision.APPROVE,
        )
    ]
    if len(set(approvers)) < required:
        return ApprovalOutcome.RECORDED
    moved = await conn.fetchrow(
        "UPDATE proposals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 AND revision = $5"
        " AND expires_at > $2 RETURNING revision",
        ProposalState.APPROVED,
        at,
        pid,
        ProposalState.PENDING,
        revision,
    )
    if moved is None:
        return ApprovalOutcome.RECORDED
    detail = {"approvers": approvers, "required": required}
    await _event(
        conn, pid, ProposalState.PENDING, ProposalState.APPROVED, revision, approval.approver, at, detail
    )
    return ApprovalOutcome.APPROVED


async def reject(conn: asyncpg.Connection, rejection: ActionApproval) -> bool:
    at = to_db_time(rejection.decided_at)
    moved = await conn.fetchrow(
        "UPDATE proposals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 AND revision = $5"
        " RETURNING revision",
        ProposalState.REJECTED,
        at,
        rejection.proposal_id,
        ProposalState.PENDING,
        rejection.revision,
    )
    if moved is None:
        return False
    await conn.execute(
        f"INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (proposal_id, revision, approver)"
        " DO UPDATE SET decision = excluded.decision, reason = excluded.reason,"
        " decided_at = excluded.decided_at",
        rejection.proposal_id,
        rejection.revision,
        rejection.approver,
        Decision.REJECT,
        rejection.reason,
        at,
    )
    await _event(
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


async def transition(
    conn: asyncpg.Connection,
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
    sql = "UPDATE proposals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4"
    params: list[Any] = [new, at, proposal_id, expected]
    if revision is not None:
        sql += " AND revision = $5"
        params.append(revision)
    moved = await conn.fetchrow(sql + " RETURNING revision", *params)
    if moved is None:
        return False
    await _event(conn, proposal_id, expected, new, moved["revision"], actor, at, detail)
    return True


async def revise(
    conn: asyncpg.Connection,
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
    current = await _lock(conn, proposal_id)
    if (
        current is None
        or current["state"] != ProposalState.PENDING
        or current["revision"] != expected_revision
    ):
        return None
    edits = json.loads(await conn.fetchval("SELECT edits_json FROM proposals WHERE id = $1", proposal_id))
    edits.append(json.loads(edit.model_dump_json()))
    moved = await conn.fetchrow(
        "UPDATE proposals SET revision = revision + 1, request_json = $1, preflight_json = $2,"
        " fingerprint = $3, expires_at = $4, updated_at = $5, requester = $6, source = $7, action = $8,"
        " ticket_id = $9, tier = COALESCE($10, tier), approvals_required = COALESCE($11, approvals_required),"
        " edits_json = $12 WHERE id = $13 AND state = $14 AND revision = $15 RETURNING revision",
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
        dumps(edits),
        proposal_id,
        ProposalState.PENDING,
        expected_revision,
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
    await _event(
        conn, proposal_id, ProposalState.PENDING, ProposalState.PENDING, moved["revision"], actor, at, detail
    )
    return await _one(conn, proposal_id)


async def claim_for_execution(
    conn: asyncpg.Connection, proposal_id: int, *, intent: AuditEntry, now: datetime
) -> int | None:
    at = to_db_time(now)
    # Never run after expires_at: an approval that took its time is expired here instead.
    moved = await conn.fetchrow(
        "UPDATE proposals SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 AND expires_at > $2"
        " RETURNING revision, ticket_id",
        ProposalState.EXECUTING,
        at,
        proposal_id,
        ProposalState.APPROVED,
    )
    if moved is None:
        await _expire(conn, proposal_id, at)
        return None
    update: dict[str, Any] = {"proposal_id": proposal_id, "event": PD_REQUEST_EVENT}
    if intent.ticket_id is None:
        update["ticket_id"] = moved["ticket_id"]
    if intent.approval_json is None:
        update["approval_json"] = [
            approval_from_row(row).model_dump(mode="json")
            for row in await conn.fetch(
                f"SELECT {APPROVAL_COLUMNS} FROM approvals WHERE proposal_id = $1 AND revision = $2"
                " ORDER BY id",
                proposal_id,
                moved["revision"],
            )
        ]
    log_id = await audit.insert(conn, sqlite_audit.prepare(intent.model_copy(update=update)))
    await _event(
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


async def _executor_of(conn: asyncpg.Connection, log_id: int) -> str:
    actor = await conn.fetchval("SELECT actor FROM action_log WHERE id = $1", log_id)
    return SYSTEM_ACTOR if actor is None else str(actor)


async def finish_execution(
    conn: asyncpg.Connection, proposal_id: int, *, log_id: int, result: ActionResult, now: datetime
) -> bool:
    at = to_db_time(now)
    result_json = result.model_dump_json()
    moved = await conn.fetchrow(
        "UPDATE proposals SET state = $1, result_json = $2, updated_at = $3 WHERE id = $4 AND state = $5"
        " RETURNING revision",
        result.state,
        result_json,
        at,
        proposal_id,
        ProposalState.EXECUTING,
    )
    if moved is None:
        return False
    await audit.set_result(conn, log_id, proposal_id=proposal_id, result_json=result_json, executed_at=at)
    detail = {"log_id": log_id, "message": result.message, "pd_status": result.pd_status}
    actor = await _executor_of(conn, log_id)
    await _event(
        conn, proposal_id, ProposalState.EXECUTING, result.state, moved["revision"], actor, at, detail
    )
    return True


async def update_result(
    conn: asyncpg.Connection, proposal_id: int, *, log_id: int, result: ActionResult
) -> None:
    result_json = result.model_dump_json()
    done = await conn.execute("UPDATE proposals SET result_json = $1 WHERE id = $2", result_json, proposal_id)
    if done.endswith(" 0"):
        raise ProposalNotFound(f"proposal {proposal_id} does not exist")
    await audit.set_result(conn, log_id, proposal_id=proposal_id, result_json=result_json, executed_at=None)
    at = to_db_time(result.finished_at or result.started_at)
    actor = await _executor_of(conn, log_id)
    await timeline.record_result(
        conn, proposal_id, log_id=log_id, result_json=result_json, actor=actor, at=at
    )


async def expire_due(conn: asyncpg.Connection, *, now: datetime) -> list[Proposal]:
    at = to_db_time(now)
    # SKIP LOCKED: a proposal another transaction is deciding right now is left to the next sweep,
    # and two replicas sweeping at once never wait on each other (nor deadlock).
    due = await conn.fetch(
        "SELECT id FROM proposals WHERE state = $1 AND expires_at < $2 ORDER BY id FOR UPDATE SKIP LOCKED",
        ProposalState.PENDING,
        at,
    )
    moved = await conn.fetch(
        "UPDATE proposals SET state = $1, updated_at = $2 WHERE id = ANY($3::bigint[]) AND state = $4"
        " AND expires_at < $2 RETURNING id, revision, expires_at",
        ProposalState.EXPIRED,
        at,
        [row["id"] for row in due],
        ProposalState.PENDING,
    )
    for row in sorted(moved, key=lambda r: r["id"]):
        detail = {"expires_at": row["expires_at"]}
        await _event(
            conn,
            row["id"],
            ProposalState.PENDING,
            ProposalState.EXPIRED,
            row["revision"],
            SYSTEM_ACTOR,
            at,
            detail,
        )
    return await _load(conn, sorted(row["id"] for row in moved))


async def events(conn: asyncpg.Connection, proposal_id: int) -> list[ProposalEvent]:
    rows = await conn.fetch(
        "SELECT proposal_id, from_state, to_state, revision, actor, at, detail_json FROM events"
        " WHERE proposal_id = $1 ORDER BY id",
        proposal_id,
    )
    return [event_from_row(row) for row in rows]


class _AlreadySeen(Exception):
    """A concurrent delivery took one of the keys: undo this one's inserts."""


async def note_delivery(
    conn: asyncpg.Connection, keys: Sequence[str], *, now: datetime, keep_after: datetime
) -> bool:
    """``store.proposals.note_delivery``: False when any key was seen after ``keep_after``."""
    at, since = to_db_time(now), to_db_time(keep_after)
    unique = list(dict.fromkeys(keys))
    await conn.execute("DELETE FROM slack_deliveries WHERE received_at <= $1", since)
    if await conn.fetchval("SELECT 1 FROM slack_deliveries WHERE key = ANY($1::text[])", unique):
        return False
    try:
        async with conn.transaction():
            # A delivery racing this one on another connection: ON CONFLICT waits for it to commit,
            # then inserts nothing for its keys.
            inserted = await conn.fetch(
                "INSERT INTO slack_deliveries (key, received_at) SELECT k, $2 FROM unnest($1::text[]) AS k"
                " ON CONFLICT (key) DO NOTHING RETURNING key",
                unique,
                at,
            )
            if len(inserted) < len(unique):
                raise _AlreadySeen
    except _AlreadySeen:
        return False
    return True
