"""Realistic domain objects for rendering tests: proposals in every state, reports, audit rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from actions.catalog import CATALOG, parse_action
from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    AuditEntry,
    CheckResult,
    CheckStatus,
    Decision,
    DryRunReport,
    Evidence,
    OperatorOutcome,
    PreflightReport,
    Proposal,
    ProposalState,
    Source,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def request(text: str, *, requester: str = "U0ALICE", **extra: Any) -> ActionRequest:
    action, params = parse_action(text.split())
    return ActionRequest(action=action, params=params, requester=requester, **extra)


def checks(count: int, *, fail: int = 0, warn: int = 0) -> PreflightReport:
    results = []
    for i in range(count):
        status = CheckStatus.FAIL if i < fail else CheckStatus.WARN if i < fail + warn else CheckStatus.PASS
        results.append(
            CheckResult(
                name=f"check-{i:03d} store and region facts",
                status=status,
                message=f"store {i % 7 + 1} is Up with {1000 + i} regions and {200 + i} leaders; "
                + "the target has room for the new peer" * (1 + i % 3),
                data={
                    "store_id": i % 7 + 1,
                    "regions": 1000 + i,
                    "leaders": 200 + i,
                    "labels": {"zone": "z1"},
                },
            )
        )
    return PreflightReport(
        checks=tuple(results), fingerprint="0123456789abcdef", facts={"region": {"id": 12}}
    )


def proposal(
    text: str = "transfer-leader 12 3",
    *,
    state: ProposalState = ProposalState.PENDING,
    pid: int = 7,
    revision: int = 1,
    preflight: PreflightReport | None = None,
    approvals: tuple[ActionApproval, ...] = (),
    result: ActionResult | None = None,
    source: Source = Source.HUMAN,
    rationale: str = "",
    evidence: tuple[Evidence, ...] = (),
    channel: str | None = "C0OPS",
    message_ts: str | None = "1700000000.000100",
) -> Proposal:
    req = request(text, source=source, rationale=rationale, evidence=evidence)
    spec = CATALOG[req.action]
    return Proposal(
        id=pid,
        revision=revision,
        state=state,
        request=req,
        original_params=dict(req.params),
        tier=spec.tier,
        approvals_required=2 if spec.tier.value == "irreversible" else 1,
        fingerprint="0123456789abcdef",
        preflight=preflight if preflight is not None else checks(4, warn=1),
        approvals=approvals,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        channel=channel,
        message_ts=message_ts,
        result=result,
    )


def approval(
    user: str, decision: Decision = Decision.APPROVE, reason: str = "", pid: int = 7
) -> ActionApproval:
    return ActionApproval(
        proposal_id=pid, revision=1, approver=user, decision=decision, reason=reason, decided_at=NOW
    )


def result(p: Proposal, state: ProposalState = ProposalState.SUCCEEDED, message: str = "") -> ActionResult:
    spec = CATALOG[p.request.action]
    return ActionResult(
        state=state,
        message=message or "PD finished the operator on region 12: transfer leader: store 1 to 3.",
        pd_request=spec.pd_request(p.request.params),
        pd_response="The operator is created.",
        pd_status=200,
        caller_id=f"tikv-chatops/{p.id}",
        operator=OperatorOutcome.SUCCESS,
        verification=CheckResult(
            name="leader moved",
            status=CheckStatus.PASS,
            message="store 3 leads region 12",
            data={"leader": 3},
        ),
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=4),
    )


def dry_run(text: str = "transfer-leader 12 3", *, report: PreflightReport | None = None) -> DryRunReport:
    req = request(text)
    spec = CATALOG[req.action]
    return DryRunReport(
        request=req,
        preflight=report or checks(5, warn=1),
        pd_request=spec.pd_request(req.params),
        pd_ctl=spec.pd_ctl(req.params),
        tier=spec.tier,
        approvals_required=1,
        audit_id=42,
    )


def audit_entries(count: int) -> list[AuditEntry]:
    entries = []
    for i in range(count):
        entries.append(
            AuditEntry(
                id=count - i,
                proposal_id=i % 40 + 1,
                actor="U0ALICE" if i % 2 else "tikv-chatops/executor",
                action="transfer-leader",
                dry_run=i % 5 == 0,
                request_json={"action": "transfer-leader", "params": {"region_id": 12 + i, "to_store_id": 3}},
                result_json={"state": "succeeded", "message": "PD finished the operator " * (1 + i % 4)},
                caller_id=f"tikv-chatops/{i % 40 + 1}",
                created_at=NOW - timedelta(minutes=i),
            )
        )
    return entries
