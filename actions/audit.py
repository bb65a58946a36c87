"""The rows the action core writes to the audit log, built in one place so they read alike.

Every row says who, what and (for writes) the exact PD request and the ``X-Caller-ID`` that joins it to
PD's own log. Values are JSON-ready (``mode="json"``) because the store keeps them as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from actions.leases import CLAIMED_BY
from actions.models import ActionRequest, AuditEntry, PDRequest, PreflightReport, Proposal

SYSTEM_ACTOR = "tikv-chatops"
"""The bot itself as an actor: transitions nobody clicked (expiry), and the prefix of its parts' names."""
RECONCILER_ACTOR = f"{SYSTEM_ACTOR}/reconciler"


def caller_id(proposal_id: int) -> str:
    """The ``X-Caller-ID`` every PD write of this proposal carries."""
    return f"{SYSTEM_ACTOR}/{proposal_id}"


def request_json(request: ActionRequest, pd_request: PDRequest, pd_ctl: str, **extra: Any) -> dict[str, Any]:
    return {
        "action": request.action.value,
        "params": request.params,
        "cluster": request.cluster,
        "requester": request.requester,
        "source": request.source.value,
        "pd_request": pd_request.model_dump(mode="json"),
        "pd_ctl": pd_ctl,
        # The agent's advisor (model, prompt version) when the action came from it.
        **({"advised_by": request.advised_by} if request.advised_by else {}),
        **extra,
    }


def find_intent(entries: list[AuditEntry], proposal_id: int) -> AuditEntry | None:
    """The latest "about to call PD" row of a proposal among ``entries``."""
    intents = [
        e for e in entries if e.caller_id == caller_id(proposal_id) and not e.dry_run and e.id is not None
    ]
    return max(intents, key=lambda e: e.id or 0, default=None)


def checks_json(report: PreflightReport) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in report.checks]


def intent_entry(
    proposal: Proposal,
    *,
    actor: str,
    pd_request: PDRequest,
    pd_ctl: str,
    now: datetime,
    replica: str | None = None,
) -> AuditEntry:
    """The "about to call PD" row, committed with the approved -> executing claim; ``replica`` names
    the bot process that claimed it (``actions.leases.claimed_by`` reads it back)."""
    return AuditEntry(
        proposal_id=proposal.id,
        ticket_id=proposal.request.ticket_id,
        actor=actor,
        action=proposal.request.action.value,
        request_json=request_json(
            proposal.request,
            pd_request,
            pd_ctl,
            revision=proposal.revision,
            tier=proposal.tier.value,
            fingerprint=proposal.fingerprint,
            **({CLAIMED_BY: replica} if replica else {}),
        ),
        approval_json=[a.model_dump(mode="json") for a in proposal.approvals],
        caller_id=caller_id(proposal.id),
        created_at=now,
    )


def note_entry(
    *,
    actor: str,
    request: ActionRequest,
    result: dict[str, Any],
    now: datetime,
    proposal_id: int | None = None,
    dry_run: bool = False,
    pd_request: PDRequest | None = None,
    pd_ctl: str = "",
) -> AuditEntry:
    """A row that records a finding rather than a PD write: dry-runs, refusals, reconcile results.

    It carries no ``caller_id``: that marks the rows of PD writes (see ``intent_entry``).
    """
    body: dict[str, Any] = {
        "action": request.action.value,
        "params": request.params,
        "cluster": request.cluster,
        "requester": request.requester,
        "source": request.source.value,
    }
    if pd_request is not None:
        body |= {"pd_request": pd_request.model_dump(mode="json"), "pd_ctl": pd_ctl}
    return AuditEntry(
        proposal_id=proposal_id,
        ticket_id=request.ticket_id,
        actor=actor,
        action=request.action.value,
        dry_run=dry_run,
        request_json=body,
        result_json=result,
        created_at=now,
        executed_at=now,
    )


def refusal_entry(proposal: Proposal, *, actor: str, verb: str, reason: str, now: datetime) -> AuditEntry:
    """The row of a decision the policy refused (a self-approval, a second approval…), with the reason
    the person was given; written before they are told."""
    return note_entry(
        actor=actor,
        request=proposal.request,
        result={"refused": verb, "reason": reason, "revision": proposal.revision},
        now=now,
        proposal_id=proposal.id,
    ).model_copy(
        update={
            "event": f"{verb}_refused",
            "summary": f"#{proposal.id} {verb} by {actor} refused: {reason}",
        }
    )
