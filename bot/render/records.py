"""Pending proposals and audit rows as listings (see ``bot.render.listing`` for the paging)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actions.models import AuditEntry, Proposal
from actions.ports import AuditQuery
from bot import texts
from bot.render.kit import clip, compact_json, escape, user, when
from bot.render.listing import Listing
from bot.render.proposal import what


def pending_listing(proposals: Sequence[Proposal]) -> Listing:
    rows = tuple(
        texts.PENDING_ROW.format(
            id=p.id,
            what=escape(what(p)),
            tier=p.tier.value,
            who=user(p.requester),
            received=len(set(p.approvers)),
            required=p.approvals_required,
            when=when(p.expires_at),
        )
        for p in proposals
    )
    return Listing(title=texts.PENDING_TITLE, rows=rows, empty=texts.NOTHING_PENDING)


def _params(request: dict[str, Any]) -> str:
    params = request.get("params")
    if isinstance(params, dict) and params:
        return " ".join(f"{k}={v}" for k, v in params.items())
    return ""


def _outcome(entry: AuditEntry) -> str:
    result = entry.result_json
    if not result:
        return texts.AUDIT_INTENT if entry.caller_id else ""
    for key in ("state", "refused", "reconciled", "outcome"):
        if key in result:
            value = result[key]
            message = result.get("message") or result.get("found") or ""
            return f"{key}: {value}" + (f" — {message}" if message else "")
    if "blocked" in result:
        return texts.AUDIT_WOULD_FAIL if result["blocked"] else texts.AUDIT_WOULD_PASS
    return clip(compact_json(result), 150)


def audit_row(entry: AuditEntry) -> str:
    parts = [
        f"`{entry.id}`" if entry.id is not None else "`-`",
        when(entry.created_at),
        user(entry.actor),
        f"*{escape(entry.action)}*",
    ]
    params = _params(entry.request_json)
    if params:
        parts.append(escape(clip(params, 120)))
    if entry.proposal_id is not None:
        parts.append(f"#{entry.proposal_id}")
    if entry.dry_run:
        parts.append(texts.AUDIT_DRY_RUN)
    outcome = _outcome(entry)
    if outcome:
        parts.append(escape(clip(outcome, 160)))
    return " · ".join(parts)


def audit_title(query: AuditQuery) -> str:
    for label, value in (
        ("region", query.region_id),
        ("store", query.store_id),
        ("ticket", query.ticket_id),
        ("proposal", query.proposal_id),
    ):
        if value is not None:
            return texts.AUDIT_TITLE_FOR.format(what=label, id=value)
    return texts.AUDIT_TITLE


def audit_listing(query: AuditQuery, entries: Sequence[AuditEntry]) -> Listing:
    return Listing(
        title=audit_title(query),
        rows=tuple(audit_row(e) for e in entries),
        empty=texts.NO_AUDIT_ROWS,
        footer=texts.AUDIT_FOOTER.format(limit=query.limit),
    )
