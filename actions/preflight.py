"""Preflight: run an action's checks against live PD, and fingerprint the facts they relied on.

The same preflight runs when a request is proposed, when it is edited, on every approval and before
execution. Approval binds to the fingerprint; when it moves, ``facts`` says what changed. Reads are
cached and bounded per preflight (``actions.checks.MAX_PD_READS``); a PD outage becomes a failed check,
never an exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from actions.catalog import CATALOG
from actions.checks.base import CheckContext
from actions.models import ActionRequest, CheckResult, PreflightReport
from actions.policy import Policy
from actions.ports import Cluster
from actions.risk import assess_in


def fingerprint(facts: Mapping[str, Any]) -> str:
    """First 16 hex digits of the sha256 of the canonical JSON of ``facts``."""
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


async def run_preflight(
    request: ActionRequest, cluster: Cluster, policy: Policy | None = None
) -> PreflightReport:
    """Every check of ``request``'s action, in catalog order, with the facts and their fingerprint,
    and the request's risk (``actions.risk``) judged under ``policy`` (the defaults when None).

    A refusal of the risk assessment is one more failed check, named ``risk``.
    """
    spec = CATALOG[request.action]
    ctx = CheckContext(request, cluster)
    ctx.facts["action"] = request.action.value
    ctx.facts["params"] = dict(request.params)
    results, (risk, refusal) = await asyncio.gather(
        asyncio.gather(*(check(ctx) for check in spec.checks)), assess_in(ctx, policy or Policy())
    )
    checks: tuple[CheckResult, ...] = tuple(r for r in (*results, refusal) if r is not None)
    facts = json.loads(json.dumps(ctx.facts, default=str))
    return PreflightReport(checks=checks, fingerprint=fingerprint(facts), facts=facts, risk=risk)
