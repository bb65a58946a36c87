"""The effective tier: the catalog's base raised by the parameters and PD's state, with one reason line;
used by dry-run, proposal and, again, approval."""

from __future__ import annotations

import pytest
from actions_support import ops_env
from cluster_fake import standard_cluster

from actions.catalog import parse_action
from actions.errors import PolicyRefusal, PreflightFailed, StaleDecision
from actions.models import ActionRequest, ActionType, Actor, ProposalState, Tier
from actions.policy import Policy
from actions.preflight import run_preflight
from actions.risk import ClusterState, assess, raise_one

APPROVERS = {"approvers": {"users": ["U0CAROL"]}}
ALICE, BOB, CAROL = Actor(user_id="U0ALICE"), Actor(user_id="U0BOB"), Actor(user_id="U0CAROL")


def _request(text: str) -> ActionRequest:
    action, params = parse_action(text.split())
    return ActionRequest(action=action, params=params, requester="U0ALICE")


HEALTHY = ClusterState(config={"max-replicas": 3, "halt-scheduling": "false"}, up_store_ids=(1, 2, 3, 4, 5))


def test_lowering_max_replicas_is_irreversible_and_refused_below_three_unless_allowed() -> None:
    verdict = assess(_request("set-config max-replicas 1"), HEALTHY, Policy())
    assert verdict.risk.base is Tier.CONFIG and verdict.risk.tier is Tier.IRREVERSIBLE
    assert verdict.risk.reason == (
        "irreversible: lowers max-replicas 3 → 1, two of three copies of every region are dropped"
    )
    assert verdict.refusal is not None and "max-replicas 1 is below 3" in verdict.refusal
    assert "allow_unsafe_max_replicas" in verdict.refusal
    allowed = assess(_request("set-config max-replicas 1"), HEALTHY, Policy(allow_unsafe_max_replicas=True))
    assert allowed.refusal is None and allowed.risk.tier is Tier.IRREVERSIBLE


def test_max_replicas_above_the_up_stores_is_refused_unless_allowed() -> None:
    three_up = ClusterState(config={"max-replicas": 3}, up_store_ids=(1, 2, 3))
    verdict = assess(_request("set-config max-replicas 5"), three_up, Policy())
    assert verdict.refusal is not None and "needs 5 Up stores and the cluster has 3" in verdict.refusal
    assert assess(_request("set-config max-replicas 5"), HEALTHY, Policy()).refusal is None
    allowed = assess(_request("set-config max-replicas 5"), three_up, Policy(allow_unsafe_max_replicas=True))
    assert allowed.refusal is None


def test_scheduling_stoppers_are_structural_and_tuning_stays_config() -> None:
    halt = assess(_request("set-config halt-scheduling true"), HEALTHY, Policy())
    assert halt.risk.tier is Tier.STRUCTURAL and "all scheduling stops" in halt.risk.reason
    tune = assess(_request("set-config leader-schedule-limit 8"), HEALTHY, Policy())
    assert tune.risk.tier is Tier.CONFIG and tune.refusal is None


def test_store_actions_on_a_degraded_cluster_rise_a_tier_naming_the_count() -> None:
    degraded = ClusterState(down_store_ids=(4,), degraded_regions=17)
    verdict = assess(_request("offline-store 2"), degraded, Policy())
    assert verdict.risk.tier is Tier.IRREVERSIBLE  # already the top
    moved = assess(_request("transfer-peer 12 1 5"), degraded, Policy())
    assert moved.risk.base is Tier.STRUCTURAL and moved.risk.tier is Tier.IRREVERSIBLE
    assert (
        "store 4 is down" in moved.risk.reason
        and "17 regions have a down or missing replica" in moved.risk.reason
    )
    evict = assess(_request("evict-leader 2"), ClusterState(degraded_regions=1), Policy())
    assert evict.risk.tier is Tier.STRUCTURAL and "1 region has a down or missing" in evict.risk.reason
    assert assess(_request("evict-leader 2"), ClusterState(), Policy()).risk.tier is Tier.REVERSIBLE
    # Actions that help a degraded cluster are not raised.
    assert assess(_request("cancel-offline 2"), degraded, Policy()).risk.tier is Tier.REVERSIBLE
    assert raise_one(Tier.REVERSIBLE) is Tier.TEMPORARY and raise_one(Tier.IRREVERSIBLE) is Tier.IRREVERSIBLE


def test_no_approvers_with_real_slack_leaves_a_gap_the_assessment_carries() -> None:
    closed = Policy().fail_closed()
    halt = assess(_request("set-config halt-scheduling true"), HEALTHY, closed)
    assert "Nobody can approve structural actions" in halt.risk.approval_gap
    assert assess(_request("set-config leader-schedule-limit 8"), HEALTHY, closed).risk.approval_gap == ""
    assert assess(_request("set-config halt-scheduling true"), HEALTHY, Policy()).risk.approval_gap == ""


async def test_the_preflight_records_the_tier_and_reads_degradation_only_for_store_actions() -> None:
    cluster = standard_cluster()
    report = await run_preflight(_request("transfer-leader 12 2"), cluster)
    assert report.risk is not None and report.risk.tier is Tier.REVERSIBLE
    assert report.facts["risk"] == {"tier": "reversible"}
    assert all(method != "get_degraded_region_ids" for method, _ in cluster.reads)
    cluster.set_store(3, state_name="Down")
    report = await run_preflight(_request("evict-leader 2"), cluster)
    assert report.risk is not None and report.risk.tier is Tier.STRUCTURAL
    assert "store 3 is down" in report.risk.reason


# --- the service: proposal, dry-run and approval use the effective tier -------------------------


async def test_dry_run_and_proposal_use_the_effective_tier() -> None:
    async with ops_env(Policy.from_mapping(APPROVERS)) as env:
        dry = await env.ops.dry_run(_request("set-config halt-scheduling true"), actor=ALICE)
        assert dry.tier is Tier.STRUCTURAL and dry.approvals_required == 1
        proposal = await env.ops.propose(_request("set-config halt-scheduling true"), actor=ALICE)
        assert proposal.tier is Tier.STRUCTURAL
        with pytest.raises(PolicyRefusal, match="Only members of"):
            await env.ops.approve(proposal.id, actor=BOB)
        assert env.cluster.sent == []
        with pytest.raises(PreflightFailed, match="below 3"):
            await env.ops.propose(_request("set-config max-replicas 1"), actor=ALICE)


async def test_the_agent_may_not_propose_what_turns_out_irreversible() -> None:
    async with ops_env(Policy.from_mapping({**APPROVERS, "allow_unsafe_max_replicas": True})) as env:
        agent = Actor(user_id="agent", is_agent=True)
        with pytest.raises(PolicyRefusal, match="irreversible"):
            await env.ops.propose(_request("set-config max-replicas 1"), actor=agent)


async def test_approval_reassesses_and_a_degraded_cluster_needs_the_higher_tier() -> None:
    async with ops_env(Policy.from_mapping(APPROVERS)) as env:
        region, _leader, target = env.transfer_target()
        spare = env.store_without_peer(region)
        proposal = await env.ops.propose(_request(f"transfer-peer {region} {target} {spare}"), actor=ALICE)
        assert proposal.tier is Tier.STRUCTURAL and proposal.approvals_required == 1
        peers = env.model.region(region)
        down = next(s for s in sorted(env.model.stores) if peers.peer_on(s) is None and s != spare)
        env.model.fail_store(down)
        with pytest.raises(StaleDecision, match=r"risk\.tier was structural, now irreversible"):
            await env.ops.approve(proposal.id, actor=CAROL)
        raised = await env.ops.get(proposal.id)
        assert raised.tier is Tier.IRREVERSIBLE and raised.approvals_required == 2
        assert raised.state is ProposalState.PENDING and raised.revision == 2
        assert env.cluster.sent == []
        outcome = await env.ops.approve(proposal.id, actor=CAROL)
        assert outcome.proposal.state is ProposalState.PENDING  # one of the two approvals it now needs
        assert env.cluster.sent == []
        assert raised.request.action is ActionType.TRANSFER_PEER


async def test_removing_the_dead_peer_itself_is_the_repair_and_is_not_raised() -> None:
    cluster = standard_cluster()
    cluster.set_region(12, down_peer_store_ids=(3,))
    report = await run_preflight(_request("remove-peer 12 3"), cluster)
    assert report.risk is not None and report.risk.tier is Tier.STRUCTURAL
    other = await run_preflight(_request("remove-peer 14 2"), cluster)
    assert other.risk is not None and other.risk.tier is Tier.IRREVERSIBLE
    assert "1 region has a down or missing replica" in other.risk.reason
    cluster.set_store(3, state_name="Down")
    drained = await run_preflight(_request("evict-leader 3"), cluster)
    assert drained.risk is not None and drained.risk.tier is Tier.STRUCTURAL  # region 12 is still degraded
    cluster.set_region(12, down_peer_store_ids=())
    drained = await run_preflight(_request("evict-leader 3"), cluster)
    assert drained.risk is not None and drained.risk.tier is Tier.REVERSIBLE
