"""Risk from the concrete request and the cluster's state: the tier a request really needs.

The catalog gives each action a base tier. ``assess`` raises it from what the parameters do (a config
key's class and value: ``actions.config_keys.config_impact``) and from PD's state (a store action on a
degraded cluster rises one tier), and says why in one line with the arithmetic. It also refuses what
no tier makes acceptable unless the policy says so (max-replicas below 3 or above the Up stores).

``gather`` reads what ``assess`` needs through the preflight's shared, bounded ``CheckContext``;
``assess`` itself is pure. The preflight records the effective tier in its facts, so a tier that
rises between proposal and approval moves the fingerprint: the approval then re-asks for the higher
tier's approvals (README, "How a tier is derived").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actions.catalog import CATALOG, RiskInputs
from actions.checks.base import CheckContext, plural, stores_text
from actions.config_keys import config_impact, config_key
from actions.models import (
    TIER_ORDER,
    ActionRequest,
    ActionType,
    CheckResult,
    CheckStatus,
    PreflightReport,
    RiskAssessment,
    Tier,
    higher_tier,
)
from actions.policy import Policy
from actions.ports import RegionSnapshot

SAFE_MIN_REPLICAS = 3
CHECK_NAME = "risk"
_UNHEALTHY_STATES = ("Down", "Disconnected")


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What the assessment needs to know about the cluster."""

    config: Mapping[str, Any] = field(default_factory=dict)
    up_store_ids: tuple[int, ...] = ()
    down_store_ids: tuple[int, ...] = ()  # Down or Disconnected
    degraded_regions: int = 0  # regions with a down peer or fewer voters than max-replicas


@dataclass(frozen=True, slots=True)
class Verdict:
    """``assess``'s answer: the assessment, and a refusal sentence when the request must not go ahead."""

    risk: RiskAssessment
    refusal: str | None = None


def raise_one(tier: Tier) -> Tier:
    """The next tier up (irreversible stays irreversible)."""
    index = TIER_ORDER.index(tier)
    return TIER_ORDER[min(index + 1, len(TIER_ORDER) - 1)]


def assess(request: ActionRequest, state: ClusterState, policy: Policy) -> Verdict:
    """The effective tier of ``request`` on a cluster in ``state``, and the one line saying why."""
    spec = CATALOG[request.action]
    base = spec.tier
    tier, reason, refusal = base, "", None
    if spec.risk_inputs is RiskInputs.CONFIG:
        tier, reason, refusal = _config(request, state, policy)
        tier = higher_tier(tier, base)
    elif spec.risk_inputs is RiskInputs.STORE and (state.down_store_ids or state.degraded_regions):
        # At least the approvers' tier: on a degraded cluster a store action is never a one-click change.
        tier = higher_tier(raise_one(base), Tier.STRUCTURAL)
        problems = []
        if state.down_store_ids:
            verb = "is" if len(state.down_store_ids) == 1 else "are"
            problems.append(f"{stores_text(state.down_store_ids)} {verb} down")
        if state.degraded_regions:
            count = state.degraded_regions
            verb = "has" if count == 1 else "have"
            problems.append(f"{plural(count, 'region')} {verb} a down or missing replica")
        reason = (
            f"raised from {base.value}: the cluster is degraded ({' and '.join(problems)}); "
            "this takes more away from it"
        )
    risk = RiskAssessment(
        base=base, tier=tier, reason=f"{tier.value}: {reason}" if reason else "", approval_gap=""
    )
    gap = policy.approval_gap(tier)
    if gap:
        risk = risk.model_copy(update={"approval_gap": gap})
    return Verdict(risk, refusal)


def _config(request: ActionRequest, state: ClusterState, policy: Policy) -> tuple[Tier, str, str | None]:
    key = config_key(str(request.params.get("key", "")))
    wanted = request.params.get("value")
    if not isinstance(wanted, int | float | str) or isinstance(wanted, bool):
        return Tier.CONFIG, "", None
    current = state.config.get(key.name)
    impact = config_impact(key.name, current, wanted)
    refusal = None
    if key.name == "max-replicas" and isinstance(wanted, int) and not policy.allow_unsafe_max_replicas:
        up = len(state.up_store_ids)
        how = "set allow_unsafe_max_replicas: true in the policy file to allow it"
        if wanted < SAFE_MIN_REPLICAS:
            survives = (wanted - 1) // 2
            refusal = (
                f"max-replicas {wanted} is below {SAFE_MIN_REPLICAS}: every region would keep "
                f"{words_copies(wanted)} and survive {plural(survives, 'failure')}; refused ({how})"
            )
        elif wanted > up:
            refusal = (
                f"max-replicas {wanted} needs {wanted} Up stores and the cluster has {up} "
                f"({stores_text(state.up_store_ids)}); PD could never place the extra "
                f"cop{'y' if wanted - up == 1 else 'ies'}; refused ({how})"
            )
    return impact.tier, impact.reason, refusal


def words_copies(count: int) -> str:
    return "one copy" if count == 1 else f"{count} copies"


async def gather(ctx: CheckContext) -> ClusterState:
    """Read (through the preflight's shared context) what ``assess`` needs for this request."""
    inputs = CATALOG[ctx.request.action].risk_inputs
    if inputs is RiskInputs.CONFIG:
        config = await ctx.config()
        up: tuple[int, ...] = ()
        if str(ctx.params.get("key", "")).endswith("max-replicas"):
            up = tuple(sorted(s.id for s in await ctx.stores() if s.state_name == "Up"))
        return ClusterState(config=config, up_store_ids=up)
    if inputs is RiskInputs.STORE:
        # What the action itself takes away is not "more" degradation: removing the dead peer of a
        # region, or draining a store that is down, is the repair.
        subject = _subject_store(ctx)
        stores = await ctx.stores()
        down = tuple(sorted(s.id for s in stores if s.state_name in _UNHEALTHY_STATES and s.id != subject))
        degraded = set(await ctx.degraded_regions())
        region_id = ctx.params.get("region_id")
        if isinstance(region_id, int) and region_id in degraded and subject is not None:
            region = await ctx.region(region_id)
            if region is not None and _only_unhealthy_on(region, subject, await ctx.max_replicas()):
                degraded.discard(region_id)
        return ClusterState(down_store_ids=down, degraded_regions=len(degraded))
    return ClusterState()


def _subject_store(ctx: CheckContext) -> int | None:
    """The store the action takes something from: ``store_id``, or ``from_store_id`` for transfer-peer."""
    for name in ("from_store_id", "store_id"):
        value = ctx.params.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _only_unhealthy_on(region: RegionSnapshot, store_id: int, max_replicas: int) -> bool:
    """Whether the one thing wrong with ``region`` is its peer on ``store_id`` (no voter missing)."""
    unhealthy = set(region.down_peer_store_ids) | set(region.pending_peer_store_ids)
    voters = sum(1 for p in region.peers if p.is_voter)
    return bool(unhealthy) and unhealthy <= {store_id} and voters >= max_replicas


async def assess_in(ctx: CheckContext, policy: Policy) -> tuple[RiskAssessment, CheckResult | None]:
    """Gather and assess inside a preflight: the assessment, and a failed check when it is refused.

    Records the effective tier in the facts (the fingerprint), never the counts behind it: those move
    with every heartbeat, the tier only when the approvals it needs change.
    """
    spec = CATALOG[ctx.request.action]
    try:
        verdict = assess(ctx.request, await gather(ctx), policy)
    except Exception as exc:
        tier = Tier.IRREVERSIBLE
        risk = RiskAssessment(
            base=spec.tier,
            tier=tier,
            reason=f"{tier.value}: the risk could not be assessed ({type(exc).__name__}: {exc})",
            approval_gap=policy.approval_gap(tier),
        )
        verdict = Verdict(risk)
    ctx.note("risk", "tier", verdict.risk.tier.value)
    check = None
    if verdict.refusal is not None:
        check = CheckResult(name=CHECK_NAME, status=CheckStatus.FAIL, message=verdict.refusal)
    return verdict.risk, check


def effective_tier(report: PreflightReport, action: ActionType) -> Tier:
    """The tier a preflight assessed (the catalog's, for a report stored before risk was assessed)."""
    return report.risk.tier if report.risk is not None else CATALOG[action].tier
