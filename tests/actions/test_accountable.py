"""Accountable edits and scope in the action core: subjects, expiry that edits do not extend, the TTL
guard on a slow approval, the served cluster, and who belongs to the workspace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from actions_support import AGENT, ALICE, BOB, CAROL, REQUESTER, Env, ops_env, transfer_leader

from actions.catalog import CATALOG
from actions.edits import diff_params, subject_changes
from actions.errors import PolicyRefusal, StaleDecision
from actions.executor import Executor
from actions.membership import membership_refusal
from actions.models import (
    ActionApproval,
    ActionType,
    Actor,
    Decision,
    Membership,
    ParamChange,
    ProposalState,
)
from actions.operations import Operations
from actions.params import InvalidParams
from actions.reconcile import Reconciler


def test_every_action_names_its_subject_among_its_own_parameters() -> None:
    """Every catalog entry names its subject, and only with parameters the action has."""
    for action, spec in CATALOG.items():
        assert spec.subject and set(spec.subject) <= {p.name for p in spec.params}, action


def test_subject_changes_name_each_refused_field_and_diff_lists_the_rest() -> None:
    before = {"key": "leader-schedule-limit", "value": "8"}
    after = {"key": "max-replicas", "value": "1"}
    refused = subject_changes(ActionType.SET_CONFIG, before, after)
    assert set(refused) == {"key"} and "stays leader-schedule-limit" in refused["key"]
    assert (
        subject_changes(ActionType.SET_CONFIG, before, {"key": "leader-schedule-limit", "value": "4"}) == {}
    )
    assert diff_params({"region_id": 7, "to_store_id": 4}, {"region_id": 7, "to_store_id": 3}) == (
        ParamChange(name="to_store_id", before=4, after=3),
    )


def _person(**facts: Any) -> Actor:
    base: dict[str, Any] = {"home_team_id": "T0HOME", "user_team_id": "T0HOME", "request_team_id": "T0HOME"}
    return Actor(user_id="U0X", membership=Membership(**(base | facts)))


@pytest.mark.parametrize(
    ("facts", "refused"),
    [
        ({}, None),
        ({"is_stranger": True}, "not a member"),
        ({"user_team_id": "T0OTHER"}, "not a member"),
        ({"user_team_id": ""}, "not a member"),
        ({"request_team_id": "T0OTHER"}, "another workspace"),
        ({"home_team_id": ""}, "another workspace"),
        # Enterprise Grid, installed org-wide: a person and a request from another workspace of the org.
        (
            {
                "home_enterprise_id": "E0ORG",
                "user_team_id": "T0SISTER",
                "user_enterprise_id": "E0ORG",
                "request_team_id": "T0SISTER",
                "request_enterprise_id": "E0ORG",
            },
            None,
        ),
        (
            {"home_enterprise_id": "E0ORG", "user_team_id": "T0X", "user_enterprise_id": "E0ELSE"},
            "not a member",
        ),
    ],
)
def test_membership_is_decided_from_the_facts(facts: dict[str, Any], refused: str | None) -> None:
    refusal = membership_refusal(_person(**facts), verb="approve")
    assert (refusal is None) if refused is None else (refusal is not None and refused in refusal)


def test_actors_without_workspace_facts_are_not_judged() -> None:
    assert membership_refusal(AGENT, verb="propose") is None
    assert membership_refusal(ALICE, verb="approve") is None


async def test_edits_and_rechecks_do_not_extend_a_proposals_life() -> None:
    """expires_at stays where the first revision put it, through a person's edit and the bot's re-check."""
    async with ops_env() as env:
        region, leader, target = env.transfer_target()
        other = next(p.store_id for p in env.model.region(region).peers if p.store_id not in (leader, target))
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        env.clock.advance(timedelta(minutes=20))
        edited = await env.ops.edit(
            proposal.id, actor=BOB, params={"region_id": str(region), "to_store_id": str(other)}, revision=1
        )
        assert edited.expires_at == proposal.expires_at
        assert edited.last_edit is not None and edited.last_edit.editor == BOB.user_id
        assert edited.last_edit.changes == (ParamChange(name="to_store_id", before=target, after=other),)
        env.model.set_leader(region, target)
        env.clock.advance(timedelta(minutes=5))
        with pytest.raises(StaleDecision):
            await env.ops.approve(proposal.id, actor=CAROL)
        rechecked = await env.ops.get(proposal.id)
        assert rechecked.revision == 3 and rechecked.expires_at == proposal.expires_at
        with pytest.raises(PolicyRefusal, match="You edited this proposal"):
            await env.ops.approve(proposal.id, actor=BOB, revision=3)


async def test_an_edit_of_the_subject_or_of_an_older_revision_is_refused() -> None:
    async with ops_env() as env:
        region, _leader, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        other_region = next(r for r in sorted(env.model.regions) if r != region)
        with pytest.raises(InvalidParams) as caught:
            await env.ops.edit(
                proposal.id, actor=BOB, params={"region_id": str(other_region), "to_store_id": str(target)}
            )
        assert set(caught.value.errors) == {"region_id"}
        with pytest.raises(StaleDecision, match="out of date"):
            await env.ops.edit(
                proposal.id,
                actor=BOB,
                params={"region_id": str(region), "to_store_id": str(target)},
                revision=0,
            )
        assert (await env.ops.get(proposal.id)).revision == 1


def _slow_reads(env: Env, delay: timedelta) -> None:
    """Every region read during the approval's re-check takes ``delay`` (the clock moves on)."""
    read = env.cluster.get_region

    async def slow(region_id: int) -> Any:
        env.clock.advance(delay)
        return await read(region_id)

    env.cluster.get_region = slow  # type: ignore[method-assign]


async def test_a_click_just_before_expiry_with_a_slow_pd_never_runs() -> None:
    """The approval is judged against expires_at when it is recorded, not when it was clicked."""
    async with ops_env() as env:
        region, _leader, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        env.clock.now = proposal.expires_at - timedelta(seconds=1)
        _slow_reads(env, timedelta(seconds=5))
        with pytest.raises(StaleDecision, match="expired"):
            await env.ops.approve(proposal.id, actor=ALICE)
        assert (await env.ops.get(proposal.id)).state is ProposalState.EXPIRED
        assert env.cluster.sent == []


async def test_a_proposal_for_another_cluster_is_neither_approved_nor_run() -> None:
    """A `staging` proposal, seen by a bot that serves `prod` on the same database: approve refuses it,
    saying so; and one approved while the bot served staging is never run by the prod executor."""
    async with ops_env() as env:
        served = Operations(
            env.cluster, env.store, env.notifier, env.policy, env.executor, env.clock, cluster_name="prod"
        )
        region, _leader, target = env.transfer_target()
        staging = transfer_leader(region, target).model_copy(update={"cluster": "staging"})
        pending = await env.ops.propose(staging, actor=REQUESTER)  # made while the bot served staging
        with pytest.raises(PolicyRefusal, match="for cluster `staging`, but this bot serves `prod`"):
            await served.approve(pending.id, actor=ALICE)
        with pytest.raises(PolicyRefusal, match="serves `prod`"):
            await served.propose(staging, actor=ALICE)
        assert (await env.ops.get(pending.id)).approvals == ()

        await env.store.add_approval(
            ActionApproval(
                proposal_id=pending.id,
                revision=1,
                approver=ALICE.user_id,
                decision=Decision.APPROVE,
                decided_at=env.clock.now,
            ),
            required=1,
        )
        runner = Executor(env.cluster, env.store, env.notifier, env.clock, cluster_name="prod")
        assert await runner.execute(await env.ops.get(pending.id)) is None
        assert env.cluster.sent == []
        assert (await env.ops.get(pending.id)).state is ProposalState.APPROVED


async def test_the_agents_proposals_belong_to_the_served_cluster() -> None:
    async with ops_env() as env:
        served = Operations(
            env.cluster, env.store, env.notifier, env.policy, env.executor, env.clock, cluster_name="prod"
        )
        region, _leader, target = env.transfer_target()
        proposal = await served.propose(transfer_leader(region, target), actor=AGENT)
        assert proposal.request.cluster == "prod"


async def test_the_reconciler_leaves_another_clusters_approved_proposals_alone() -> None:
    """After a restart as `prod`, an approved `staging` proposal is neither run nor superseded."""
    async with ops_env() as env:
        region, _leader, target = env.transfer_target()
        staging = transfer_leader(region, target).model_copy(update={"cluster": "staging"})
        proposal = await env.ops.propose(staging, actor=REQUESTER)
        await env.store.add_approval(
            ActionApproval(
                proposal_id=proposal.id,
                revision=1,
                approver=ALICE.user_id,
                decision=Decision.APPROVE,
                decided_at=env.clock.now,
            ),
            required=1,
        )
        env.model.set_leader(region, target)  # even a drifted cluster does not make it prod's to settle
        runner = Executor(env.cluster, env.store, env.notifier, env.clock, cluster_name="prod")
        reconciler = Reconciler(env.cluster, env.store, env.notifier, runner, env.policy, env.clock)
        assert await reconciler.resume_approved() == []
        assert env.cluster.sent == []
        assert (await env.ops.get(proposal.id)).state is ProposalState.APPROVED
