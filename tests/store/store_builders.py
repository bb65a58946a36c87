"""Builders for the store's tests: valid domain objects with the few fields a test cares about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    ActionType,
    AuditEntry,
    CheckResult,
    CheckStatus,
    Decision,
    Evidence,
    OperatorOutcome,
    PDRequest,
    PreflightReport,
    Proposal,
    ProposalState,
    Tier,
)
from store.sqlite import SqliteProposalStore

T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
"""A fixed 'now' so timestamps in assertions are exact."""


def request(
    action: ActionType = ActionType.TRANSFER_LEADER,
    params: dict[str, Any] | None = None,
    *,
    requester: str = "U0REQ",
    ticket_id: int | None = None,
) -> ActionRequest:
    return ActionRequest(
        action=action,
        params=params if params is not None else {"region_id": 12, "to_store_id": 3},
        requester=requester,
        rationale="leader imbalance on store 1",
        evidence=(Evidence(label="leaders on store 1", value="812", source="GET /pd/api/v1/stores"),),
        ticket_id=ticket_id,
    )


def preflight(fingerprint: str = "fp-1") -> PreflightReport:
    return PreflightReport(
        checks=(
            CheckResult(
                name="region exists", status=CheckStatus.PASS, message="region 12", data={"epoch": [5, 7]}
            ),
            CheckResult(name="target store up", status=CheckStatus.WARN, message="store 3 is busy"),
        ),
        fingerprint=fingerprint,
        facts={"leader_store_id": 1, "target_state": "Up"},
    )


async def pending(
    store: SqliteProposalStore,
    *,
    req: ActionRequest | None = None,
    required: int = 1,
    now: datetime = T0,
    ttl: timedelta = timedelta(hours=1),
) -> Proposal:
    """A new pending proposal."""
    return await store.create_proposal(
        request=req or request(),
        tier=Tier.REVERSIBLE,
        approvals_required=required,
        preflight=preflight(),
        expires_at=now + ttl,
        now=now,
    )


def approval(
    proposal: Proposal, approver: str, *, revision: int | None = None, decision: Decision = Decision.APPROVE
) -> ActionApproval:
    return ActionApproval(
        proposal_id=proposal.id,
        revision=proposal.revision if revision is None else revision,
        approver=approver,
        decision=decision,
        reason="looks wrong" if decision is Decision.REJECT else "",
        decided_at=T0 + timedelta(minutes=1),
    )


async def approved(store: SqliteProposalStore, **kwargs: Any) -> Proposal:
    """A proposal that one approval has moved to approved."""
    proposal = await pending(store, **kwargs)
    await store.add_approval(approval(proposal, "U0APPROVER"), required=1)
    result = await store.get_proposal(proposal.id)
    assert result is not None and result.state is ProposalState.APPROVED
    return result


def entry(
    params: dict[str, Any] | None = None,
    *,
    actor: str = "U0APPROVER",
    action: str = "transfer-leader",
    proposal_id: int | None = None,
    ticket_id: int | None = None,
    dry_run: bool = False,
    created_at: datetime = T0,
    request_json: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry(
        proposal_id=proposal_id,
        ticket_id=ticket_id,
        actor=actor,
        action=action,
        dry_run=dry_run,
        request_json=request_json if request_json is not None else {"action": action, "params": params or {}},
        caller_id="" if proposal_id is None else f"tikv-chatops/{proposal_id}",
        created_at=created_at,
    )


def pd_request() -> PDRequest:
    return PDRequest(
        name="TransferLeader",
        method="POST",
        path="/pd/api/v1/operators",
        body={"name": "transfer-leader", "region_id": 12, "to_store_id": 3},
    )


def result(
    state: ProposalState = ProposalState.SUCCEEDED, *, message: str = "PD accepted the operator"
) -> ActionResult:
    return ActionResult(
        state=state,
        message=message,
        pd_request=pd_request(),
        pd_response="The operator is created.",
        pd_status=200,
        caller_id="tikv-chatops/1",
        operator=OperatorOutcome.RUNNING,
        started_at=T0 + timedelta(minutes=2),
        finished_at=T0 + timedelta(minutes=2, seconds=1),
    )


def intents(rows: list[AuditEntry]) -> list[AuditEntry]:
    """The "about to call PD" rows among ``rows`` (the timeline rows of transitions left out)."""
    return [r for r in rows if r.event == "pd_request"]
