"""Dry-run: everything a real request would do up to the PD write, recorded, and no write."""

from __future__ import annotations

from actions.audit import checks_json, note_entry
from actions.catalog import CATALOG
from actions.clock import Clock
from actions.models import ActionRequest, Actor, DryRunReport
from actions.policy import Policy
from actions.ports import Cluster, ProposalStore
from actions.preflight import run_preflight
from actions.risk import effective_tier


async def dry_run(
    request: ActionRequest,
    *,
    actor: Actor,
    cluster: Cluster,
    store: ProposalStore,
    policy: Policy,
    clock: Clock,
) -> DryRunReport:
    """Run the preflight against live PD and show the exact request, its pd-ctl line, tier and approvals.

    Only reads PD; the report is recorded in the audit log with ``dry_run=True``.
    """
    spec = CATALOG[request.action]
    report = await run_preflight(request, cluster, policy)
    tier = effective_tier(report, request.action)
    pd_request = spec.pd_request(request.params)
    pd_ctl = spec.pd_ctl(request.params)
    approvals = policy.tier_policy(tier).approvals
    audit_id = await store.log_entry(
        note_entry(
            actor=actor.user_id,
            request=request,
            dry_run=True,
            pd_request=pd_request,
            pd_ctl=pd_ctl,
            result={
                "blocked": report.blocked,
                "checks": checks_json(report),
                "fingerprint": report.fingerprint,
                "tier": tier.value,
                "approvals_required": approvals,
                "risk": report.risk.model_dump(mode="json") if report.risk is not None else None,
            },
            now=clock(),
        )
    )
    return DryRunReport(
        request=request,
        preflight=report,
        pd_request=pd_request,
        pd_ctl=pd_ctl,
        tier=tier,
        approvals_required=approvals,
        audit_id=audit_id,
    )
