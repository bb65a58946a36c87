"""``ApprovalManager``: the agent proposes and waits; decisions wake it, the store is the truth."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from actions_support import AGENT, ALICE, BOB, Env, ops_env, transfer_leader

from actions.errors import PolicyRefusal
from actions.models import ActionRequest, ActionType, Proposal, ProposalState


async def _first_pending(env: Env) -> Proposal:
    """The proposal the waiting agent created, once its card is posted."""
    await asyncio.wait_for(env.notifier.posted.wait(), timeout=30)
    return env.notifier.published[-1]


async def test_an_approval_wakes_the_waiting_agent_with_the_executed_proposal() -> None:
    """The agent's wait returns as soon as someone approves, with the action already sent to PD."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        waiting = asyncio.create_task(
            env.approvals.request_approval(transfer_leader(region, target), actor=AGENT, timeout=30)
        )
        proposal = await _first_pending(env)
        assert proposal.request.source.value == "agent" and proposal.requester == AGENT.user_id
        await env.ops.approve(proposal.id, actor=ALICE)
        decided = await asyncio.wait_for(waiting, timeout=30)
        assert decided.id == proposal.id and decided.state is ProposalState.SUCCEEDED
        assert len(env.cluster.sent) == 1


async def test_a_rejection_is_returned_to_the_agent() -> None:
    """A person saying no ends the wait with the rejected proposal and its reason."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        waiting = asyncio.create_task(
            env.approvals.request_approval(transfer_leader(region, target), actor=AGENT, timeout=30)
        )
        proposal = await _first_pending(env)
        await env.ops.reject(proposal.id, actor=BOB, reason="wait for the backup")
        decided = await asyncio.wait_for(waiting, timeout=30)
        assert decided.state is ProposalState.REJECTED
        assert decided.approvals[0].reason == "wait for the backup"
        assert env.cluster.sent == []


async def test_expiry_ends_the_wait() -> None:
    """The TTL sweep expiring the proposal wakes the agent with an expired proposal."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        waiting = asyncio.create_task(
            env.approvals.request_approval(transfer_leader(region, target), actor=AGENT, timeout=30)
        )
        await _first_pending(env)
        env.clock.advance(timedelta(hours=2))
        await env.reconciler.sweep_expired(env.clock.now)
        decided = await asyncio.wait_for(waiting, timeout=30)
        assert decided.state is ProposalState.EXPIRED


async def test_a_timeout_returns_the_proposal_as_stored_and_it_stays_open() -> None:
    """Nobody decided in time: the proposal comes back pending and can still be approved later."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.approvals.request_approval(
            transfer_leader(region, target), actor=AGENT, timeout=0.05
        )
        assert proposal.state is ProposalState.PENDING
        await env.ops.approve(proposal.id, actor=ALICE)
        assert (await env.ops.get(proposal.id)).state is ProposalState.SUCCEEDED


async def test_a_decision_made_elsewhere_is_found_in_the_store_when_the_wait_ends() -> None:
    """Without any in-process signal (another replica decided), the waiter re-reads the store."""
    async with ops_env() as env:
        region, _, target = env.transfer_target()
        proposal = await env.ops.propose(transfer_leader(region, target), actor=AGENT)
        await env.store.transition(
            proposal.id,
            expected=ProposalState.PENDING,
            new=ProposalState.REJECTED,
            actor="U0OTHER",
            now=env.clock.now,
        )
        decided = await env.approvals.wait_for_decision(proposal.id, timeout=0.05)
        assert decided.state is ProposalState.REJECTED


async def test_the_agent_cannot_request_what_the_policy_keeps_from_it() -> None:
    """Asking for an irreversible action raises the policy's refusal instead of waiting."""
    async with ops_env() as env:
        request = ActionRequest(
            action=ActionType.MERGE_REGION,
            params={"source_region_id": 2, "target_region_id": 3},
            requester=AGENT.user_id,
        )
        with pytest.raises(PolicyRefusal):
            await env.approvals.request_approval(request, actor=AGENT, timeout=1)
