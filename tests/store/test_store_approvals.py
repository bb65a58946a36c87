"""Approvals and rejections: one transaction each, so quorum is reached exactly once under any race."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import store_builders as b

from actions.errors import ProposalNotFound
from actions.models import Decision, ProposalState
from actions.ports import ApprovalOutcome
from store.sqlite import SqliteProposalStore, open_store


async def test_quorum_needs_the_required_number_of_distinct_approvers(store: SqliteProposalStore) -> None:
    """With two required, the first approval is recorded and the second approves."""
    proposal = await b.pending(store, required=2)
    assert await store.add_approval(b.approval(proposal, "U0ALICE"), required=2) is ApprovalOutcome.RECORDED
    middle = await store.get_proposal(proposal.id)
    assert middle is not None and middle.state is ProposalState.PENDING and middle.approvers == ("U0ALICE",)
    assert await store.add_approval(b.approval(proposal, "U0BOB"), required=2) is ApprovalOutcome.APPROVED
    done = await store.get_proposal(proposal.id)
    assert done is not None and done.state is ProposalState.APPROVED
    assert done.approvers == ("U0ALICE", "U0BOB")
    assert done.updated_at == b.approval(proposal, "U0BOB").decided_at
    last = (await store.events(proposal.id))[-1]
    assert (last.to_state, last.actor, last.detail) == (
        "approved",
        "U0BOB",
        {"approvers": ["U0ALICE", "U0BOB"], "required": 2},
    )


async def test_the_same_approver_twice_is_a_duplicate(store: SqliteProposalStore) -> None:
    """A second click by the same person writes nothing and reports DUPLICATE, before and after quorum."""
    proposal = await b.pending(store, required=2)
    await store.add_approval(b.approval(proposal, "U0ALICE"), required=2)
    assert await store.add_approval(b.approval(proposal, "U0ALICE"), required=2) is ApprovalOutcome.DUPLICATE
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and loaded.state is ProposalState.PENDING and len(loaded.approvals) == 1
    await store.add_approval(b.approval(proposal, "U0BOB"), required=2)
    assert await store.add_approval(b.approval(proposal, "U0BOB"), required=2) is ApprovalOutcome.DUPLICATE


async def test_fifty_concurrent_approvals_approve_exactly_once(store: SqliteProposalStore) -> None:
    """50 users approving at once with one approval required: one APPROVED, 49 STALE, one approval row."""
    proposal = await b.pending(store)
    outcomes = await asyncio.gather(
        *(store.add_approval(b.approval(proposal, f"U{i:03d}"), required=1) for i in range(50))
    )
    assert Counter(outcomes) == {ApprovalOutcome.APPROVED: 1, ApprovalOutcome.STALE: 49}
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and loaded.state is ProposalState.APPROVED and len(loaded.approvals) == 1
    assert [e.to_state for e in await store.events(proposal.id)] == ["pending", "approved"]


async def test_concurrent_approvals_through_two_connections_approve_exactly_once(db_path: str) -> None:
    """Two processes' worth of connections on one file race 50 approvals: still exactly one APPROVED."""
    first = await open_store(db_path, busy_timeout=10.0)
    second = await open_store(db_path, busy_timeout=10.0)
    try:
        proposal = await b.pending(first, required=3)
        outcomes = await asyncio.gather(
            *(
                (first if i % 2 else second).add_approval(b.approval(proposal, f"U{i:03d}"), required=3)
                for i in range(50)
            )
        )
        loaded = await second.get_proposal(proposal.id)
    finally:
        await first.aclose()
        await second.aclose()
    assert Counter(outcomes) == {
        ApprovalOutcome.RECORDED: 2,
        ApprovalOutcome.APPROVED: 1,
        ApprovalOutcome.STALE: 47,
    }
    assert loaded is not None and loaded.state is ProposalState.APPROVED and len(loaded.approvals) == 3


async def test_an_approval_of_an_old_revision_is_stale(store: SqliteProposalStore) -> None:
    """After an edit, approving the revision someone saw before is STALE and is not stored."""
    proposal = await b.pending(store)
    revised = await store.revise(
        proposal.id,
        expected_revision=1,
        request=b.request(params={"region_id": 12, "to_store_id": 6}),
        preflight=b.preflight("fp-2"),
        expires_at=proposal.expires_at,
        actor="U0EDITOR",
        now=b.T0,
    )
    assert revised is not None
    assert (
        await store.add_approval(b.approval(proposal, "U0ALICE", revision=1), required=1)
        is ApprovalOutcome.STALE
    )
    assert await store.add_approval(b.approval(revised, "U0ALICE"), required=1) is ApprovalOutcome.APPROVED


async def test_approvals_of_an_old_revision_do_not_count_towards_the_new_one(
    store: SqliteProposalStore,
) -> None:
    """Alice approved revision 1; after the edit she must approve again, and her old approval is not shown."""
    proposal = await b.pending(store, required=2)
    await store.add_approval(b.approval(proposal, "U0ALICE"), required=2)
    revised = await store.revise(
        proposal.id,
        expected_revision=1,
        request=b.request(params={"region_id": 12, "to_store_id": 6}),
        preflight=b.preflight("fp-2"),
        expires_at=proposal.expires_at,
        actor="U0EDITOR",
        now=b.T0,
    )
    assert revised is not None and revised.approvals == ()
    assert await store.add_approval(b.approval(revised, "U0BOB"), required=2) is ApprovalOutcome.RECORDED
    assert await store.add_approval(b.approval(revised, "U0ALICE"), required=2) is ApprovalOutcome.APPROVED


async def test_approving_a_decided_proposal_is_stale(store: SqliteProposalStore) -> None:
    """Once approved, a new approver's click is STALE."""
    proposal = await b.approved(store)
    assert await store.add_approval(b.approval(proposal, "U0LATE"), required=1) is ApprovalOutcome.STALE


async def test_approving_an_unknown_proposal_raises_not_found(store: SqliteProposalStore) -> None:
    """There is nothing to approve: ProposalNotFound."""
    proposal = await b.pending(store)
    ghost = proposal.model_copy(update={"id": 4040})
    with pytest.raises(ProposalNotFound):
        await store.add_approval(b.approval(ghost, "U0ALICE"), required=1)


async def test_reject_moves_pending_to_rejected_with_the_reason(store: SqliteProposalStore) -> None:
    """A rejection is recorded with its reason, moves the proposal once, and later decisions are refused."""
    proposal = await b.pending(store)
    assert await store.reject(b.approval(proposal, "U0BOB", decision=Decision.REJECT))
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and loaded.state is ProposalState.REJECTED
    assert [(a.approver, a.decision, a.reason) for a in loaded.approvals] == [
        ("U0BOB", "reject", "looks wrong")
    ]
    assert loaded.approvers == ()
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state, last.actor, last.detail) == (
        "pending",
        "rejected",
        "U0BOB",
        {"reason": "looks wrong"},
    )
    assert not await store.reject(b.approval(proposal, "U0CAROL", decision=Decision.REJECT))
    assert await store.add_approval(b.approval(proposal, "U0CAROL"), required=1) is ApprovalOutcome.STALE


async def test_rejecting_after_approving_the_same_revision_records_the_rejection(
    store: SqliteProposalStore,
) -> None:
    """Someone who approved and then rejects: their decision on that revision becomes the rejection."""
    proposal = await b.pending(store, required=2)
    await store.add_approval(b.approval(proposal, "U0ALICE"), required=2)
    assert await store.reject(b.approval(proposal, "U0ALICE", decision=Decision.REJECT))
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None
    assert [(a.approver, a.decision) for a in loaded.approvals] == [("U0ALICE", "reject")]


async def test_reject_of_a_stale_revision_is_refused(store: SqliteProposalStore) -> None:
    """A rejection aimed at a revision the proposal has left does nothing."""
    proposal = await b.pending(store)
    assert not await store.reject(b.approval(proposal, "U0BOB", revision=2, decision=Decision.REJECT))
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and loaded.state is ProposalState.PENDING and loaded.approvals == ()


async def test_decisions_must_go_through_the_matching_method(store: SqliteProposalStore) -> None:
    """add_approval takes approvals and reject takes rejections; a mix-up is a ValueError."""
    proposal = await b.pending(store)
    with pytest.raises(ValueError, match="reject"):
        await store.add_approval(b.approval(proposal, "U0A", decision=Decision.REJECT), required=1)
    with pytest.raises(ValueError, match="add_approval"):
        await store.reject(b.approval(proposal, "U0A"))
    with pytest.raises(ValueError, match="required must be at least 1"):
        await store.add_approval(b.approval(proposal, "U0A"), required=0)
