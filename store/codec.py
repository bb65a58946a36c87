"""How domain values become columns and back: timestamps, JSON blobs, and rows as models.

Timestamps are stored as fixed-width ISO-8601 UTC text (``2026-11-28T12:00:00.000000Z``) so that
text order is time order and ``expires_at < ?`` works in SQL. JSON blobs are pydantic's JSON
(``model_dump(mode="json")``), read back with ``model_validate``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pydantic_core

from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    AuditEntry,
    PreflightReport,
    Proposal,
    ProposalEdit,
    Ticket,
)
from actions.ports import ProposalEvent

REGION_KEYS = ("region_id", "source_region_id", "target_region_id")
"""Request parameters that name a region; the first present is the row's ``region_id`` column."""

STORE_KEYS = ("store_id", "to_store_id", "from_store_id")
"""Request parameters that name a store; the first present is the row's ``store_id`` column."""

PROPOSAL_COLUMNS = (
    "id, state, revision, fingerprint, tier, approvals_required, request_json, original_params_json,"
    " preflight_json, channel, message_ts, created_at, updated_at, expires_at, revert_at, undo_of,"
    " result_json, edits_json"
)
AUDIT_COLUMNS = (
    "id, proposal_id, ticket_id, actor, action, dry_run, caller_id, request_json, result_json,"
    " approval_json, created_at, executed_at, event, summary, prev_hash, row_hash"
)
APPROVAL_COLUMNS = "proposal_id, revision, approver, decision, reason, decided_at"
TICKET_COLUMNS = "id, key, title, state, detail_json, created_at"


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text; naive datetimes are refused because their zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone; the store only takes aware (UTC) datetimes")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def opt_time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def dumps(value: Any) -> str:
    """Compact JSON of anything pydantic can serialise (models, datetimes, enums, tuples)."""
    return pydantic_core.to_json(value).decode()


def opt_dumps(value: Any) -> str | None:
    return None if value is None else dumps(value)


def _ids(container: Any, keys: Iterable[str]) -> list[int]:
    found: list[int] = []
    if not isinstance(container, Mapping):
        return found
    for key in keys:
        value = container.get(key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value not in found:
            found.append(value)
    return found


def subjects(request_json: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """Region ids and store ids an audit row is about, in ``REGION_KEYS`` / ``STORE_KEYS`` order.

    The ids are read from ``params`` (an ``ActionRequest`` dump), ``body`` (a ``PDRequest`` dump)
    and the top level, so the executor may log either shape.
    """
    containers = (request_json.get("params"), request_json.get("body"), request_json)
    regions: list[int] = []
    stores: list[int] = []
    for container in containers:
        regions += [i for i in _ids(container, REGION_KEYS) if i not in regions]
        stores += [i for i in _ids(container, STORE_KEYS) if i not in stores]
    return regions, stores


def approval_from_row(row: sqlite3.Row) -> ActionApproval:
    return ActionApproval(
        proposal_id=row["proposal_id"],
        revision=row["revision"],
        approver=row["approver"],
        decision=row["decision"],
        reason=row["reason"],
        decided_at=from_db_time(row["decided_at"]),
    )


def proposal_from_row(row: sqlite3.Row, approvals: Iterable[ActionApproval]) -> Proposal:
    return Proposal(
        id=row["id"],
        revision=row["revision"],
        state=row["state"],
        request=ActionRequest.model_validate_json(row["request_json"]),
        original_params=json.loads(row["original_params_json"]),
        tier=row["tier"],
        approvals_required=row["approvals_required"],
        fingerprint=row["fingerprint"],
        preflight=(
            None
            if row["preflight_json"] is None
            else PreflightReport.model_validate_json(row["preflight_json"])
        ),
        approvals=tuple(approvals),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        expires_at=from_db_time(row["expires_at"]),
        channel=row["channel"],
        message_ts=row["message_ts"],
        result=None if row["result_json"] is None else ActionResult.model_validate_json(row["result_json"]),
        undo_of=row["undo_of"],
        revert_at=None if row["revert_at"] is None else from_db_time(row["revert_at"]),
        edits=tuple(ProposalEdit.model_validate(e) for e in json.loads(row["edits_json"])),
    )


def audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        proposal_id=row["proposal_id"],
        ticket_id=row["ticket_id"],
        actor=row["actor"],
        action=row["action"],
        dry_run=bool(row["dry_run"]),
        caller_id=row["caller_id"],
        request_json=json.loads(row["request_json"]),
        result_json=None if row["result_json"] is None else json.loads(row["result_json"]),
        approval_json=None if row["approval_json"] is None else json.loads(row["approval_json"]),
        created_at=from_db_time(row["created_at"]),
        executed_at=None if row["executed_at"] is None else from_db_time(row["executed_at"]),
        event=row["event"],
        summary=row["summary"],
        prev_hash=row["prev_hash"],
        row_hash=row["row_hash"],
    )


def event_from_row(row: sqlite3.Row) -> ProposalEvent:
    return ProposalEvent(
        proposal_id=row["proposal_id"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        revision=row["revision"],
        actor=row["actor"],
        at=from_db_time(row["at"]),
        detail=json.loads(row["detail_json"]),
    )


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    return Ticket(
        id=row["id"],
        key=row["key"],
        title=row["title"],
        state=row["state"],
        created_at=from_db_time(row["created_at"]),
        detail=json.loads(row["detail_json"]),
    )
