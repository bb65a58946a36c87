"""``Operations``: proposing, approving, rejecting, editing and undoing, over the PD simulator and SQLite."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from actions_support import (
    AGENT,
    ALICE,
    BOB,
    CAROL,
    REQUESTER,
    Env,
    RecordingNotifier,
    approved_proposal,
    ops_env,
    transfer_leader,
)

from actions.errors import (
    ActionError,
    InvalidRequest,
    PartlyRecorded,
    PolicyRefusal,
    PreflightFailed,
    Recorded,
    StaleDecision,
    StorageUnavailable,
)
from actions.models import ActionRequest, ActionType, Actor, CheckStatus, OperatorOutcome, ProposalState
from actions.operations import ApproveOutcome, ApproveResult
from actions.params import InvalidParams
from actions.policy import Policy
from actions.ports import AuditQuery


def _adjacent_pair(env: Env) -> tuple[int, int]:
    """Two neighbouring, healthy regions without operators: a merge that passes preflight."""
    ordered = list(env.model.regions_in_order())
    for left, right in itertools.pairwise(ordered):
        if all(r.leader is not None and not r.down_peers and not r.pending_peers for r in (left, right)):
            return left.id, right.id
    raise AssertionError("no adjacent healthy regions")


def _merge(source: int, target: int) -> ActionRequest:
    return ActionRequest(
        action=ActionType.MERGE_REGION,
        params={"source_region_id": source, "target_region_id": target},
        requester=REQUESTER.user_id,
    )


async def test_propose_checks_pd_and_posts_the_card() -> None:
    """A passing request becomes a pending proposal with its TTL, preflight and card reference stored."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER, channel="C0OPS")
        assert proposal.state is ProposalState.PENDING
        assert proposal.expires_at == env.clock.now + timedelta(hours=1)
        assert proposal.preflight is not None and not proposal.preflight.blocked
        assert (proposal.channel, proposal.message_ts) == ("C0OPS", f"1700000000.{proposal.id:06d}")
        assert [p.id for p in env.notifier.published] == [proposal.id]
        assert env.cluster.sent == []


async def test_propose_is_refused_when_preflight_fails_and_the_refusal_is_logged() -> None:
    """A request PD would refuse is not proposed; the failed checks are in the error and the audit log."""
    async with ops_env() as env:
        region, _, _ = env.transfer_target()
        stranger = env.store_without_peer(region)
        with pytest.raises(PreflightFailed, match=f"Move the leader of region {region}") as caught:
            await env.ops.propose(transfer_leader(region, stranger), actor=REQUESTER)
        assert "target holds a voter" in str(caught.value)
        assert await env.ops.pending() == []
        [row] = await env.ops.audit(AuditQuery(region_id=region))
        assert row.result_json is not None and row.result_json["refused"] == "preflight"
        assert any(c["status"] == "fail" for c in row.result_json["checks"])


async def test_the_requester_cannot_approve_their_own_action() -> None:
    """Self-approval is refused with the policy's sentence and changes nothing."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        with pytest.raises(PolicyRefusal) as caught:
            await env.ops.approve(proposal.id, actor=REQUESTER)
        assert str(caught.value) == "You requested this action, so someone else has to approve it."
        assert (await env.ops.get(proposal.id)).state is ProposalState.PENDING
        assert env.cluster.sent == []


async def test_a_non_approver_is_refused_for_structural_actions() -> None:
    """With approvers configured, only they may approve an add-peer; the approver's click runs it."""
    policy = Policy.from_mapping({"approvers": {"users": [ALICE.user_id], "groups": ["S0OPS"]}})
    async with ops_env(policy) as env:
        region, _, _ = env.transfer_target()
        store = env.store_without_peer(region)
        request = ActionRequest(
            action=ActionType.ADD_PEER, params={"region_id": region, "store_id": store}, requester="U0REQ"
        )
        proposal = await env.ops.propose(request, actor=REQUESTER)
        with pytest.raises(PolicyRefusal) as caught:
            await env.ops.approve(proposal.id, actor=BOB)
        assert (
            str(caught.value)
            == "Only members of the approvers list or groups S0OPS may approve structural actions."
        )
        result = await env.ops.approve(proposal.id, actor=ALICE)
        assert result.outcome is ApproveOutcome.EXECUTED
        assert env.admin_operators == [("admin-add-peer", region)]


async def test_irreversible_actions_need_two_distinct_approvers() -> None:
    """A merge runs on the second distinct approval; the first approver cannot count twice."""
    async with ops_env() as env:
        source, target = _adjacent_pair(env)
        proposal = await env.ops.propose(_merge(source, target), actor=REQUESTER)
        assert proposal.approvals_required == 2
        first = await env.ops.approve(proposal.id, actor=ALICE)
        assert first.outcome is ApproveOutcome.RECORDED
        assert first.message == "Approval recorded: 1 of 2. It runs once another person approves."
        with pytest.raises(PolicyRefusal, match="You already approved this"):
            await env.ops.approve(proposal.id, actor=ALICE)
        assert env.cluster.sent == []
        second = await env.ops.approve(proposal.id, actor=BOB)
        assert second.outcome is ApproveOutcome.EXECUTED
        assert second.proposal.approvers == (ALICE.user_id, BOB.user_id)
        await env.executor.drain()
        assert len(env.cluster.sent) == 1
        assert (await env.ops.get(proposal.id)).state is ProposalState.SUCCEEDED
        assert source not in env.model.regions


async def test_an_expired_proposal_cannot_be_approved() -> None:
    """After its TTL the proposal is expired on the click, the card rewritten, and nothing sent."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        env.clock.advance(timedelta(hours=1, seconds=1))
        with pytest.raises(StaleDecision, match=f"Proposal #{proposal.id} expired at 10:00 UTC"):
            await env.ops.approve(proposal.id, actor=ALICE)
        expired = await env.ops.get(proposal.id)
        assert expired.state is ProposalState.EXPIRED
        assert env.notifier.updates[-1].state is ProposalState.EXPIRED
        assert env.cluster.sent == []


async def test_fifty_concurrent_approvals_send_exactly_one_write() -> None:
    """Fifty people clicking Approve at once: one PD write, 49 clear refusals, one intent and one result."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        people = [Actor(user_id=f"U{n:04d}") for n in range(50)]
        outcomes = await asyncio.gather(
            *(env.ops.approve(proposal.id, actor=p) for p in people), return_exceptions=True
        )
        await env.executor.drain()
        executed = [o for o in outcomes if isinstance(o, ApproveResult)]
        refused = [o for o in outcomes if isinstance(o, ActionError)]
        assert [o.outcome for o in executed] == [ApproveOutcome.EXECUTED]
        assert len(refused) == 49
        assert all(isinstance(o, StaleDecision | PolicyRefusal) and str(o) for o in refused)
        assert all("Traceback" not in str(o) for o in refused)
        assert len(env.cluster.sent) == 1
        assert env.admin_operators == [("admin-transfer-leader", region)]
        rows = await env.ops.audit(AuditQuery(proposal_id=proposal.id, limit=100))
        intents = [r for r in rows if r.caller_id == f"tikv-chatops/{proposal.id}"]
        assert len(intents) == 1 and intents[0].result_json is not None
        assert intents[0].result_json["state"] == "succeeded"
        moves = [(e.from_state, e.to_state) for e in await env.store.events(proposal.id)]
        assert moves.count(("approved", "executing")) == 1
        assert moves.count(("pending", "approved")) == 1
        assert (await env.ops.get(proposal.id)).state is ProposalState.SUCCEEDED


async def test_edit_makes_a_new_revision_and_resets_approvals() -> None:
    """Edited parameters are re-checked and need fresh approvals; the old card's click is out of date."""
    policy = Policy.from_mapping({"tiers": {"reversible": {"approvals": 2}}})
    async with ops_env(policy) as env:
        region, leader, target = env.transfer_target()
        other = next(p.store_id for p in env.model.region(region).peers if p.store_id not in (leader, target))
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        await env.ops.approve(proposal.id, actor=ALICE, revision=1)
        edited = await env.ops.edit(
            proposal.id, actor=REQUESTER, params={"region_id": str(region), "to_store_id": str(other)}
        )
        assert (edited.revision, edited.approvals, edited.request.params["to_store_id"]) == (2, (), other)
        assert edited.original_params["to_store_id"] == target
        with pytest.raises(StaleDecision, match=r"^This card is out of date: the proposal was edited"):
            await env.ops.approve(proposal.id, actor=BOB, revision=1)
        again = await env.ops.approve(proposal.id, actor=ALICE, revision=2)
        assert again.outcome is ApproveOutcome.RECORDED
        assert env.cluster.sent == []


async def test_edit_rejects_bad_fields_inline_and_the_editor_cannot_approve_their_edit() -> None:
    """Invalid fields raise InvalidParams per field; a person who edited a revision cannot approve it."""
    async with ops_env() as env:
        region, leader, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        with pytest.raises(InvalidParams) as caught:
            await env.ops.edit(proposal.id, actor=BOB, params={"region_id": "x", "to_store_id": str(target)})
        assert set(caught.value.errors) == {"region_id"}
        other = next(p.store_id for p in env.model.region(region).peers if p.store_id not in (leader, target))
        await env.ops.edit(
            proposal.id, actor=BOB, params={"region_id": str(region), "to_store_id": str(other)}
        )
        with pytest.raises(PolicyRefusal, match="You edited this proposal"):
            await env.ops.approve(proposal.id, actor=BOB)
        assert (await env.ops.approve(proposal.id, actor=CAROL)).outcome is ApproveOutcome.EXECUTED


async def test_a_moved_fingerprint_makes_a_new_revision_and_asks_again() -> None:
    """If the cluster changed but the action still passes, approvals reset and the card says what changed."""
    async with ops_env() as env:
        region, leader, target = env.transfer_target()
        other = next(p.store_id for p in env.model.region(region).peers if p.store_id not in (leader, target))
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        env.model.set_leader(region, other)
        with pytest.raises(StaleDecision) as caught:
            await env.ops.approve(proposal.id, actor=ALICE)
        assert str(caught.value).startswith("The cluster changed since this was checked: ")
        assert f"region.leader_store_id was {leader}, now {other}" in str(caught.value)
        assert str(caught.value).endswith("Review and approve again.")
        revised = await env.ops.get(proposal.id)
        assert (revised.state, revised.revision, revised.approvals) == (ProposalState.PENDING, 2, ())
        assert env.notifier.updates[-1].revision == 2
        assert env.cluster.sent == []
        result = await env.ops.approve(proposal.id, actor=ALICE, revision=2)
        assert result.outcome is ApproveOutcome.EXECUTED


async def test_a_failing_preflight_on_approve_supersedes_the_proposal() -> None:
    """When the action no longer passes its checks, the proposal is superseded and nothing is sent."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        env.model.remove_peer(region, target)
        with pytest.raises(PreflightFailed, match="no longer passes its checks") as caught:
            await env.ops.approve(proposal.id, actor=ALICE)
        assert f"region.peers.{target} was Voter, now nothing" in str(caught.value)
        superseded = await env.ops.get(proposal.id)
        assert superseded.state is ProposalState.SUPERSEDED
        [event] = [e for e in await env.store.events(proposal.id) if e.to_state == "superseded"]
        assert event.actor == "tikv-chatops/preflight" and "target holds a voter" in event.detail["reason"]
        assert env.cluster.sent == []


async def test_reject_closes_the_proposal_and_later_approvals_are_stale() -> None:
    """A rejection with a reason ends the proposal; approving it afterwards is refused clearly."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        rejected = await env.ops.reject(proposal.id, actor=BOB, reason="not during the sale")
        assert rejected.state is ProposalState.REJECTED
        assert rejected.approvals[0].reason == "not during the sale"
        with pytest.raises(StaleDecision, match=f"Proposal #{proposal.id} is already rejected"):
            await env.ops.approve(proposal.id, actor=ALICE)
        assert env.cluster.sent == []


async def test_undo_proposes_the_inverse_which_is_approved_like_any_other() -> None:
    """Undo of a succeeded transfer-leader proposes moving the leader back; once approved it runs."""
    async with ops_env() as env:
        region, leader, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        with pytest.raises(InvalidRequest, match="Only actions that succeeded can be undone"):
            await env.ops.undo(proposal.id, actor=BOB)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        undo = await env.ops.undo(proposal.id, actor=BOB)
        assert (undo.undo_of, undo.request.action, undo.request.params) == (
            proposal.id,
            ActionType.TRANSFER_LEADER,
            {"region_id": region, "to_store_id": leader},
        )
        assert undo.requester == BOB.user_id and undo.state is ProposalState.PENDING
        with pytest.raises(StaleDecision, match=f"#{undo.id} already undoes #{proposal.id}"):
            await env.ops.undo(proposal.id, actor=CAROL)
        await env.ops.approve(undo.id, actor=ALICE)
        await env.executor.drain()
        back = env.model.region(region).leader
        assert back is not None and back.store_id == leader
        assert len(env.cluster.sent) == 2


async def test_actions_without_an_inverse_cannot_be_undone() -> None:
    """A merge has no inverse: undo is refused with the reason."""
    async with ops_env() as env:
        source, target = _adjacent_pair(env)
        proposal = await env.ops.propose(_merge(source, target), actor=REQUESTER)
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.ops.approve(proposal.id, actor=BOB)
        await env.executor.drain()
        with pytest.raises(InvalidRequest, match="merge-region cannot be undone"):
            await env.ops.undo(proposal.id, actor=BOB)


async def test_the_agent_may_not_propose_irreversible_actions_and_channels_are_enforced() -> None:
    """Tier and channel rules refuse before anything is checked or stored."""
    policy = Policy.from_mapping({"channels": ["C0OPS"]})
    async with ops_env(policy) as env:
        source, target = _adjacent_pair(env)
        with pytest.raises(PolicyRefusal, match="The agent may not propose irreversible actions"):
            await env.ops.propose(_merge(source, target), actor=AGENT)
        with pytest.raises(PolicyRefusal, match="use one of the operations channels: C0OPS"):
            await env.ops.propose(_merge(source, target), actor=REQUESTER, channel="C0RANDOM")
        assert await env.store.list_proposals() == []


async def test_dry_run_shows_the_request_and_is_audited_without_writing() -> None:
    """Dry-run returns checks, exact request, pd-ctl line, tier and approvals; it is logged as a dry-run."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        report = await env.ops.dry_run(transfer_leader(region, target), actor=REQUESTER)
        assert all(c.status is CheckStatus.PASS for c in report.preflight.checks)
        assert report.pd_request.describe() == (
            'POST /pd/api/v1/operators {"name": "transfer-leader", '
            f'"region_id": {region}, "to_store_id": {target}}}'
        )
        assert report.pd_ctl == f"pd-ctl operator add transfer-leader {region} {target}"
        assert (report.tier.value, report.approvals_required) == ("reversible", 1)
        [row] = await env.ops.audit(AuditQuery(limit=5))
        assert row.dry_run and row.id == report.audit_id and row.caller_id == ""
        assert env.cluster.sent == [] and env.admin_operators == []


async def test_notifier_failures_never_change_the_outcome() -> None:
    """With Slack down, the proposal is stored without a card and still executes and succeeds."""
    async with ops_env(notifier=RecordingNotifier(fail=True)) as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        assert proposal.message_ts is None
        await env.ops.approve(proposal.id, actor=ALICE)
        await env.executor.drain()
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED
        assert done.result is not None and done.result.operator is OperatorOutcome.SUCCESS


# --- the database failing after the first write committed ------------------------------------------


class _Outage:
    """The store's ``failing`` call raises ``StorageUnavailable`` while the outage is on; ``after`` names a
    call whose first return switches it on (the first write committed, then the database locks)."""

    def __init__(self, env: Env, failing: str, *, after: str | None = None) -> None:
        self.on = after is None
        self.refused = 0
        original: Callable[..., Awaitable[Any]] = getattr(env.store, failing)

        async def refusing(*args: Any, **kwargs: Any) -> Any:
            if self.on:
                self.refused += 1
                raise StorageUnavailable("database is locked")
            return await original(*args, **kwargs)

        setattr(env.store, failing, refusing)
        if after is not None:
            trigger: Callable[..., Awaitable[Any]] = getattr(env.store, after)

            async def then_lock(*args: Any, **kwargs: Any) -> Any:
                answer = await trigger(*args, **kwargs)
                self.on = True
                setattr(env.store, after, trigger)  # once
                return answer

            setattr(env.store, after, then_lock)


GRACE = timedelta(minutes=2)


async def test_an_approval_whose_read_back_fails_is_told_as_recorded_and_the_sweep_runs_it_once() -> None:
    """The completing approval commits, then the database locks: the approver hears it is recorded and that
    nothing was sent; a retry is refused; the next periodic pass (without waiting out its grace) runs it
    exactly once."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        outage = _Outage(env, "get_proposal", after="add_approval")
        with pytest.raises(PartlyRecorded) as caught:
            await env.ops.approve(proposal.id, actor=ALICE)
        outage.on = False
        assert caught.value.recorded is Recorded.APPROVAL_RUN_WAITS
        assert caught.value.proposal_id == proposal.id
        assert outage.refused >= 1 and env.cluster.sent == []
        assert (await env.ops.get(proposal.id)).state is ProposalState.APPROVED
        with pytest.raises(StaleDecision, match="already approved"):
            await env.ops.approve(proposal.id, actor=ALICE)
        resumed = await env.reconciler.resume_approved(older_than=GRACE)
        assert [p.id for p in resumed] == [proposal.id]
        await env.executor.drain()
        assert await env.reconciler.resume_approved(older_than=GRACE) == []
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED
        assert len(env.cluster.sent) == 1 and env.admin_operators == [("admin-transfer-leader", region)]


async def test_a_claim_the_database_refuses_is_run_once_by_the_sweep_and_not_before_by_others() -> None:
    """The claim after the last approval hits a locked database: nothing is sent and the approver is told
    the run waits; two sweeps racing then send it once, and an approval nobody gave up on that is younger
    than the grace is left to its approver."""
    async with ops_env() as env:
        region, leader, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        young = await approved_proposal(env, transfer_leader(region, leader))
        outage = _Outage(env, "claim_for_execution")
        with pytest.raises(PartlyRecorded) as caught:
            await env.ops.approve(proposal.id, actor=ALICE)
        outage.on = False
        assert caught.value.recorded is Recorded.APPROVAL_RUN_WAITS and outage.refused == 1
        assert env.cluster.sent == [] and env.executor.is_deferred(proposal.id)
        first, second = await asyncio.gather(
            env.reconciler.resume_approved(older_than=GRACE), env.reconciler.resume_approved(older_than=GRACE)
        )
        await env.executor.drain()
        assert young.id not in [p.id for p in first + second]
        assert (await env.ops.get(young.id)).state is ProposalState.APPROVED
        assert (await env.ops.get(proposal.id)).state is ProposalState.SUCCEEDED
        assert not env.executor.is_deferred(proposal.id)
        assert [caller for _, caller in env.cluster.sent] == [f"tikv-chatops/{proposal.id}"]
        assert env.admin_operators == [("admin-transfer-leader", region)]


async def test_an_approval_short_of_the_quorum_whose_read_back_fails_is_told_as_recorded() -> None:
    """The first of two approvals commits, then the database locks: the approver hears it counts (not
    "try again"), and it does count."""
    async with ops_env() as env:
        source, target = _adjacent_pair(env)
        proposal = await env.ops.propose(_merge(source, target), actor=REQUESTER)
        outage = _Outage(env, "get_proposal", after="add_approval")
        with pytest.raises(PartlyRecorded) as caught:
            await env.ops.approve(proposal.id, actor=ALICE)
        outage.on = False
        assert caught.value.recorded is Recorded.APPROVAL
        stored = await env.ops.get(proposal.id)
        assert stored.state is ProposalState.PENDING and tuple(stored.approvers) == (ALICE.user_id,)
        assert not env.executor.is_deferred(proposal.id)
        assert (await env.ops.approve(proposal.id, actor=BOB)).outcome is ApproveOutcome.EXECUTED


async def test_a_database_that_locks_after_the_pd_write_still_tells_what_pd_did_and_follows_it() -> None:
    """PD accepted and the result is recorded, then every read fails: the approver hears PD's answer (not
    "nothing was done"), the operator is still followed, and its outcome is recorded once reads work."""
    async with ops_env(step_delay=0.2) as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        outage = _Outage(env, "get_proposal", after="finish_execution")
        approved = await env.ops.approve(proposal.id, actor=ALICE)
        assert outage.refused >= 2  # the executor's read-back and the service's
        assert approved.outcome is ApproveOutcome.EXECUTED and approved.result is not None
        assert approved.message.startswith("Approved and sent. PD accepted the request")
        assert approved.proposal.state is ProposalState.SUCCEEDED
        assert env.executor.is_busy(proposal.id)  # following the operator
        outage.on = False
        await asyncio.wait_for(env.executor.drain(), timeout=10)
        done = await env.ops.get(proposal.id)
        assert done.state is ProposalState.SUCCEEDED and done.result is not None
        assert done.result.operator is OperatorOutcome.SUCCESS
        assert len(env.cluster.sent) == 1


async def test_a_card_whose_place_cannot_be_noted_is_told_as_proposed_and_not_duplicated() -> None:
    """The proposal is stored and its card posted, then noting the card fails: the requester hears it is
    proposed with a live card (not "try again"), one proposal exists, and it can still be approved."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        outage = _Outage(env, "set_card")
        with pytest.raises(PartlyRecorded) as caught:
            await env.ops.propose(transfer_leader(region, target), actor=REQUESTER, channel="C0OPS")
        outage.on = False
        assert caught.value.recorded is Recorded.PROPOSAL_CARD_UNNOTED
        [pending] = await env.ops.pending()
        assert pending.id == caught.value.proposal_id and pending.message_ts is None
        assert [p.id for p in env.notifier.published] == [pending.id]
        assert (await env.ops.approve(pending.id, actor=ALICE)).outcome is ApproveOutcome.EXECUTED


async def test_a_rejection_whose_read_back_fails_is_still_a_rejection() -> None:
    """The rejection commits, then reading it back fails: the rejecter is answered from what was written."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=REQUESTER)
        outage = _Outage(env, "get_proposal", after="reject")
        rejected = await env.ops.reject(proposal.id, actor=ALICE, reason="not now")
        outage.on = False
        assert outage.refused == 1 and rejected.state is ProposalState.REJECTED
        assert (await env.ops.get(proposal.id)).state is ProposalState.REJECTED


async def test_refused_decisions_are_audited_with_the_reason_given() -> None:
    """A refused approval, rejection or edit is an audit row of the proposal, carrying the sentence the
    person was shown, written before the refusal is raised; `within` counts back from the clock."""
    policy = Policy.from_mapping({"approvers": {"users": [ALICE.user_id]}})
    async with ops_env(policy) as env:
        region, _, _ = env.transfer_target()
        request = ActionRequest(
            action=ActionType.ADD_PEER,
            params={"region_id": region, "store_id": env.store_without_peer(region)},
            requester="U0REQ",
        )
        proposal = await env.ops.propose(request, actor=REQUESTER)
        refusals = []
        for attempt in (
            env.ops.approve(proposal.id, actor=REQUESTER),
            env.ops.reject(proposal.id, actor=BOB, reason="no"),
            env.ops.edit(proposal.id, actor=BOB, params={"store_id": "1"}),
        ):
            with pytest.raises(PolicyRefusal) as caught:
                await attempt
            refusals.append(str(caught.value))
        rows = await env.ops.audit(AuditQuery(proposal_id=proposal.id, within=timedelta(minutes=5)))
        refused = {r.event: r for r in rows if r.event.endswith("_refused")}
        assert set(refused) == {"approval_refused", "rejection_refused", "edit_refused"}
        order = ("approval_refused", "rejection_refused", "edit_refused")
        assert [(refused[e].result_json or {}).get("reason") for e in order] == refusals
        assert refused["rejection_refused"].actor == BOB.user_id
        assert f"#{proposal.id} approval by {REQUESTER.user_id} refused: You requested" in (
            refused["approval_refused"].summary
        )
        assert [r.event for r in rows][-1] == "created"
