"""The proposal timeline of ``store.timeline`` on PostgreSQL: the same rows, events and summaries,
written inside the transaction that makes the step (async functions over an ``asyncpg.Connection``)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from actions.models import ActionApproval, AuditEntry, ProposalState
from store import audit as sqlite_audit
from store.codec import from_db_time
from store.postgres import audit
from store.summaries import clip
from store.timeline import SYSTEM_PREFIX, _diff_text, _what, diff


async def _proposal(
    conn: asyncpg.Connection, proposal_id: int
) -> tuple[dict[str, Any], int | None, int | None]:
    row = await conn.fetchrow(
        "SELECT request_json, ticket_id, undo_of FROM proposals WHERE id = $1", proposal_id
    )
    if row is None:
        return {}, None, None
    return json.loads(row["request_json"]), row["ticket_id"], row["undo_of"]


async def _write(
    conn: asyncpg.Connection,
    proposal_id: int,
    *,
    event: str,
    summary: str,
    actor: str,
    at: str,
    extra: dict[str, Any],
) -> int:
    request, ticket_id, _ = await _proposal(conn, proposal_id)
    body = {
        "action": request.get("action", ""),
        "params": request.get("params", {}),
        "cluster": request.get("cluster", ""),
        "requester": request.get("requester", ""),
        "source": request.get("source", ""),
        **extra,
    }
    entry = AuditEntry(
        proposal_id=proposal_id,
        ticket_id=ticket_id,
        actor=actor,
        action=str(request.get("action", "")),
        request_json=body,
        created_at=from_db_time(at),
        executed_at=from_db_time(at),
        event=event,
        summary=clip(summary),
    )
    return await audit.insert(conn, sqlite_audit.prepare(entry))


async def _previous_params(conn: asyncpg.Connection, proposal_id: int) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT request_json FROM action_log WHERE proposal_id = $1"
        " AND event IN ('created', 'edited', 'revised') ORDER BY id DESC LIMIT 1",
        proposal_id,
    )
    if row is None:
        return {}
    params = json.loads(row["request_json"]).get("params")
    return params if isinstance(params, dict) else {}


async def record_transition(
    conn: asyncpg.Connection,
    proposal_id: int,
    from_state: ProposalState | None,
    to_state: ProposalState,
    revision: int,
    actor: str,
    at: str,
    detail: dict[str, Any],
) -> int | None:
    """``store.timeline.record_transition`` on PostgreSQL."""
    request, ticket_id, undo_of = await _proposal(conn, proposal_id)
    what = _what(request)
    base: dict[str, Any] = {
        "revision": revision,
        "from_state": from_state,
        "to_state": to_state,
        "detail": detail,
    }
    if from_state is None:
        if undo_of is not None:
            origin = (
                f"the automatic revert of temporary change #{undo_of}"
                if actor.startswith(SYSTEM_PREFIX)
                else f"the undo of #{undo_of}"
            )
        elif request.get("source") == "agent":
            origin = "the agent" + (f" for ticket {ticket_id}" if ticket_id is not None else "")
            if request.get("rationale"):
                origin += f" ({request['rationale']})"
        else:
            origin = "a slash command"
        extra = base | {"origin": origin, "undo_of": undo_of, "rationale": request.get("rationale", "")}
        summary = f"#{proposal_id} {what} proposed by {actor} from {origin}"
        return await _write(
            conn, proposal_id, event="created", summary=summary, actor=actor, at=at, extra=extra
        )
    if from_state == ProposalState.PENDING and to_state == ProposalState.PENDING:
        changes = diff(await _previous_params(conn, proposal_id), request.get("params") or {})
        event = "revised" if actor.startswith(SYSTEM_PREFIX) else "edited"
        lead = "revised after the cluster changed" if event == "revised" else f"edited by {actor}"
        summary = f"#{proposal_id} {lead} to revision {revision}: {_diff_text(changes)}"
        return await _write(
            conn,
            proposal_id,
            event=event,
            summary=summary,
            actor=actor,
            at=at,
            extra=base | {"diff": changes},
        )
    if to_state == ProposalState.EXECUTING:
        return None
    reason = str(detail.get("reason", "") or "")
    if to_state == ProposalState.APPROVED:
        approvers = ", ".join(detail.get("approvers", []))
        event, summary = "approved", f"#{proposal_id} approved by {approvers}: ready to run"
    elif to_state == ProposalState.REJECTED:
        event = "rejected"
        summary = f"#{proposal_id} rejected by {actor}" + (f": {reason}" if reason else " (no reason given)")
    elif to_state == ProposalState.EXPIRED:
        event, summary = "expired", f"#{proposal_id} expired: " + (reason or "nobody decided in time")
    elif to_state == ProposalState.SUPERSEDED:
        changed = detail.get("changed", "")
        event = "superseded"
        summary = f"#{proposal_id} superseded: {reason}" + (
            f" (the cluster changed: {changed})" if changed else ""
        )
    elif from_state == ProposalState.EXECUTING:
        return await _pd_response(conn, proposal_id, to_state, actor, at, detail, base)
    else:
        event = "state_changed"
        summary = f"#{proposal_id} {from_state} → {to_state} by {actor}" + (f": {reason}" if reason else "")
    return await _write(conn, proposal_id, event=event, summary=summary, actor=actor, at=at, extra=base)


async def _pd_response(
    conn: asyncpg.Connection,
    proposal_id: int,
    to_state: ProposalState,
    actor: str,
    at: str,
    detail: dict[str, Any],
    base: dict[str, Any],
) -> int:
    caller_id, response, pd = "", None, None
    log_id = detail.get("log_id")
    if isinstance(log_id, int):
        row = await conn.fetchrow(
            "SELECT caller_id, request_json, result_json FROM action_log WHERE id = $1", log_id
        )
        if row is not None:
            caller_id = row["caller_id"]
            pd = json.loads(row["request_json"]).get("pd_request")
            if row["result_json"] is not None:
                response = json.loads(row["result_json"]).get("pd_response")
    status = detail.get("pd_status")
    summary = (
        f"#{proposal_id} PD answered {status if status is not None else 'nothing'} "
        f"(X-Caller-ID {caller_id or '-'}): {to_state} — {detail.get('message', '')}"
    )
    extra = base | {"caller_id": caller_id, "pd_request": pd, "pd_response": response, "pd_status": status}
    return await _write(
        conn, proposal_id, event="pd_response", summary=summary, actor=actor, at=at, extra=extra
    )


async def record_approval(conn: asyncpg.Connection, approval: ActionApproval, at: str) -> int:
    summary = f"#{approval.proposal_id} approval by {approval.approver} (revision {approval.revision})"
    extra = {"revision": approval.revision, "decision": str(approval.decision), "reason": approval.reason}
    return await _write(
        conn,
        approval.proposal_id,
        event="approval",
        summary=summary,
        actor=approval.approver,
        at=at,
        extra=extra,
    )


async def record_result(
    conn: asyncpg.Connection, proposal_id: int, *, log_id: int, result_json: str, actor: str, at: str
) -> int:
    result = json.loads(result_json)
    verification = result.get("verification") or {}
    parts = [f"operator {result.get('operator', 'NONE')}"]
    if verification:
        parts.append(f"verification {verification.get('status', '')}: {verification.get('message', '')}")
    summary = f"#{proposal_id} {result.get('state', '')}: " + "; ".join(parts)
    extra = {
        "log_id": log_id,
        "state": result.get("state"),
        "operator": result.get("operator"),
        "verification": verification or None,
        "message": result.get("message", ""),
    }
    return await _write(conn, proposal_id, event="result", summary=summary, actor=actor, at=at, extra=extra)
