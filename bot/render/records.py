"""Pending proposals and audit rows as listings (see ``bot.render.listing`` for the paging)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from actions.models import AuditEntry, Proposal
from actions.ports import AuditQuery
from bot import texts
from bot.render.kit import clip, compact_json, escape, user, when
from bot.render.listing import Listing
from bot.render.proposal import what


def _on(cluster: object) -> str:
    """`` on `prod``` after what a row is about; nothing for the one unnamed cluster ("default")."""
    if not isinstance(cluster, str) or cluster in ("", "default"):
        return ""
    return texts.ON_CLUSTER.format(cluster=escape(clip(cluster, 63)))


def pending_listing(proposals: Sequence[Proposal]) -> Listing:
    rows = tuple(
        texts.PENDING_ROW.format(
            id=p.id,
            what=escape(what(p)) + _on(p.request.cluster),
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
    if entry.summary:
        return _timeline_row(entry)
    parts = [
        f"`{entry.id}`" if entry.id is not None else "`-`",
        when(entry.created_at),
        user(entry.actor),
        f"*{escape(entry.action)}*{_on(entry.request_json.get('cluster'))}",
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


_MENTION = re.compile(r"\b([UW][A-Z0-9]*[0-9][A-Z0-9]*)\b")
"""A Slack user id in a summary (``edited by U0BOB``): shown as a mention, so Slack shows the name."""


def _timeline_row(entry: AuditEntry) -> str:
    """A row that carries its own one-line summary (every row written since the audit chain)."""
    parts = [
        f"`{entry.id}`" if entry.id is not None else "`-`",
        when(entry.created_at),
        user(entry.actor),
        f"*{escape(entry.event.replace('_', ' '))}*{_on(entry.request_json.get('cluster'))}",
        _MENTION.sub(lambda m: user(m[1]), escape(clip(entry.summary, 240))),
    ]
    return " · ".join(parts)


def _is_timeline(query: AuditQuery) -> bool:
    """Only a proposal asked for: its life reads oldest first."""
    return (
        query.proposal_id is not None
        and (
            query.region_id,
            query.store_id,
            query.ticket_id,
            query.actor,
            query.since,
            query.within,
        )
        == (None,) * 6
    )


def audit_title(query: AuditQuery) -> str:
    if _is_timeline(query):
        return texts.AUDIT_TIMELINE_TITLE.format(id=query.proposal_id)
    parts = [
        f"{label} {value}"
        for label, value in (
            ("region", query.region_id),
            ("store", query.store_id),
            ("ticket", query.ticket_id),
            ("proposal", query.proposal_id),
        )
        if value is not None
    ]
    if query.actor is not None:
        parts.append(f"user {user(query.actor)}")
    if query.within is not None:
        parts.append(texts.AUDIT_WITHIN.format(hours=round(query.within.total_seconds() / 3600, 2)))
    if not parts:
        return texts.AUDIT_TITLE
    first, _, rest = parts[0].partition(" ")
    title = texts.AUDIT_TITLE_FOR.format(what=first, id=rest)
    return ", ".join([title, *parts[1:]])


def audit_listing(query: AuditQuery, entries: Sequence[AuditEntry]) -> Listing:
    timeline = _is_timeline(query)
    ordered = list(reversed(entries)) if timeline else list(entries)
    footer = texts.AUDIT_TIMELINE_FOOTER if timeline else texts.AUDIT_FOOTER
    return Listing(
        title=audit_title(query),
        rows=tuple(audit_row(e) for e in ordered),
        empty=texts.NO_AUDIT_ROWS,
        footer=footer.format(limit=query.limit),
    )
