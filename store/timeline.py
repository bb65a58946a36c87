"""One timeline per proposal: every step of a proposal's life becomes an audit row.

The store calls these inside the transaction that makes the step (a transition, an approval, a result),
so each row is durable exactly when the step is, before anyone is told, and it joins the hash chain in
commit order (``store.chain``). ``/tikv audit`` and the export read these rows like any other.

Events: ``created`` (from a slash command, by the agent for a ticket, as the undo or the automatic
revert of #N), ``edited`` (with the parameters that changed), ``revised`` (the cluster changed under a
pending proposal), ``approval``, ``approved`` (quorum reached), ``rejected``, ``expired``,
``superseded``, ``pd_response`` (what PD answered, with the ``X-Caller-ID``), ``result`` (operator
outcome and verification), ``state_changed`` (any other transition). The ``pd_request`` row of an
execution, dry-runs and refusals are written by their callers (see ``store.summaries``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from actions.models import ActionApproval, AuditEntry, ProposalState
from store import audit
from store.codec import from_db_time
from store.summaries import clip, params_text

SYSTEM_PREFIX = "tikv-chatops"


def _proposal(conn: sqlite3.Connection, proposal_id: int) -> tuple[dict[str, Any], int | None, int | None]:
    row = conn.execute(
        "SELECT request_json, ticket_id, undo_of FROM proposals WHERE id = ?", (proposal_id,)
    ).fetchone()
    if row is None:
        return {}, None, None
    return json.loads(row["request_json"]), row["ticket_id"], row["undo_of"]


def _write(
    conn: sqlite3.Connection,
    proposal_id: int,
    *,
    event: str,
    summary: str,
    actor: str,
    at: str,
    extra: dict[str, Any],
) -> int:
    request, ticket_id, _ = _proposal(conn, proposal_id)
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
    return audit.insert(conn, audit.prepare(entry))


def _what(request: dict[str, Any]) -> str:
    params = params_text(request.get("params"))
    return f"{request.get('action', '')}" + (f" {params}" if params else "")


def _previous_params(conn: sqlite3.Connection, proposal_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT request_json FROM action_log"
        " WHERE proposal_id = ? AND event IN ('created', 'edited', 'revised') ORDER BY id DESC LIMIT 1",
        (proposal_id,),
    ).fetchone()
    if row is None:
        return {}
    params = json.loads(row["request_json"]).get("params")
    return params if isinstance(params, dict) else {}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{name: [old, new]}`` for every parameter that changed (``None`` where one side has none)."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _diff_text(changes: dict[str, list[Any]]) -> str:
    return ", ".join(f"{key} {old} → {new}" for key, (old, new) in changes.items()) or "no parameter changed"


def record_transition(
    conn: sqlite3.Connection,
    proposal_id: int,
    from_state: ProposalState | None,
    to_state: ProposalState,
    revision: int,
    actor: str,
    at: str,
    detail: dict[str, Any],
) -> int | None:
    """The timeline row of one transition (none for approved -> executing: its PD-request row is it)."""
    request, ticket_id, undo_of = _proposal(conn, proposal_id)
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
        return _write(
            conn,
            proposal_id,
            event="created",
            summary=f"#{proposal_id} {what} proposed by {actor} from {origin}",
            actor=actor,
            at=at,
            extra=extra,
        )
    if from_state == ProposalState.PENDING and to_state == ProposalState.PENDING:
        before = _previous_params(conn, proposal_id)
        changes = diff(before, request.get("params") or {})
        event = "revised" if actor.startswith(SYSTEM_PREFIX) else "edited"
        lead = "revised after the cluster changed" if event == "revised" else f"edited by {actor}"
        summary = f"#{proposal_id} {lead} to revision {revision}: {_diff_text(changes)}"
        return _write(
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
        return _pd_response(conn, proposal_id, to_state, actor, at, detail, base)
    else:
        event = "state_changed"
        summary = f"#{proposal_id} {from_state} → {to_state} by {actor}" + (f": {reason}" if reason else "")
    return _write(conn, proposal_id, event=event, summary=summary, actor=actor, at=at, extra=base)


def _pd_response(
    conn: sqlite3.Connection,
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
        row = conn.execute(
            "SELECT caller_id, request_json, result_json FROM action_log WHERE id = ?", (log_id,)
        ).fetchone()
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
    return _write(conn, proposal_id, event="pd_response", summary=summary, actor=actor, at=at, extra=extra)


def record_approval(conn: sqlite3.Connection, approval: ActionApproval, at: str) -> int:
    """The timeline row of one approval (whether or not it completes the quorum)."""
    summary = f"#{approval.proposal_id} approval by {approval.approver} (revision {approval.revision})"
    extra = {"revision": approval.revision, "decision": str(approval.decision), "reason": approval.reason}
    return _write(
        conn,
        approval.proposal_id,
        event="approval",
        summary=summary,
        actor=approval.approver,
        at=at,
        extra=extra,
    )


def record_result(
    conn: sqlite3.Connection, proposal_id: int, *, log_id: int, result_json: str, actor: str, at: str
) -> int:
    """The timeline row of a refined result: the operator's outcome and the verification."""
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
    return _write(conn, proposal_id, event="result", summary=summary, actor=actor, at=at, extra=extra)
