"""Proposals: stored faithfully, moved only by guarded transitions, each transition logged once."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
import store_builders as b

from actions.errors import ProposalNotFound
from actions.models import ActionType, Proposal, ProposalState, Tier
from store.sqlite import SqliteProposalStore


async def test_a_created_proposal_reads_back_exactly(store: SqliteProposalStore) -> None:
    """Every field given at creation comes back, as the same models, from a fresh read."""
    undo_target = await b.pending(store)
    ticket, _ = await store.open_ticket(key="hot-region:12", title="Hot region 12", detail={}, now=b.T0)
    req = b.request(
        ActionType.TRANSFER_PEER, {"region_id": 12, "from_store_id": 1, "to_store_id": 4}, ticket_id=ticket.id
    )
    created = await store.create_proposal(
        request=req,
        tier=Tier.STRUCTURAL,
        approvals_required=2,
        preflight=b.preflight("fp-xyz"),
        expires_at=b.T0 + timedelta(minutes=30),
        now=b.T0,
        channel="C0OPS",
        undo_of=undo_target.id,
        revert_at=b.T0 + timedelta(hours=2),
    )
    loaded = await store.get_proposal(created.id)
    assert loaded == created
    assert loaded.request == req
    assert loaded.preflight == b.preflight("fp-xyz")
    assert (loaded.state, loaded.revision, loaded.fingerprint) == (ProposalState.PENDING, 1, "fp-xyz")
    assert loaded.original_params == {"region_id": 12, "from_store_id": 1, "to_store_id": 4}
    assert (loaded.tier, loaded.approvals_required, loaded.channel) == (Tier.STRUCTURAL, 2, "C0OPS")
    assert (loaded.undo_of, loaded.revert_at) == (undo_target.id, b.T0 + timedelta(hours=2))
    assert (loaded.created_at, loaded.updated_at, loaded.expires_at) == (
        b.T0,
        b.T0,
        b.T0 + timedelta(minutes=30),
    )
    assert (loaded.approvals, loaded.result, loaded.message_ts) == ((), None, None)


async def test_an_unknown_proposal_reads_as_none(store: SqliteProposalStore) -> None:
    """get_proposal of an id never created is None."""
    assert await store.get_proposal(404) is None


async def test_list_proposals_filters_by_state_and_ticket_newest_first(store: SqliteProposalStore) -> None:
    """States and ticket filters combine; results come newest first and honour the limit."""
    ticket, _ = await store.open_ticket(key="k", title="t", detail={}, now=b.T0)
    first = await b.pending(store, req=b.request(ticket_id=ticket.id))
    second = await b.approved(store, req=b.request(ticket_id=ticket.id))
    third = await b.pending(store)
    assert [p.id for p in await store.list_proposals()] == [third.id, second.id, first.id]
    assert [p.id for p in await store.list_proposals(states=[ProposalState.PENDING])] == [third.id, first.id]
    assert [p.id for p in await store.list_proposals(ticket_id=ticket.id)] == [second.id, first.id]
    both = await store.list_proposals(
        states=[ProposalState.PENDING, ProposalState.APPROVED], ticket_id=ticket.id
    )
    assert [p.id for p in both] == [second.id, first.id]
    assert [p.id for p in await store.list_proposals(limit=1)] == [third.id]
    assert await store.list_proposals(states=[]) == []
    assert [
        a.approver for a in (await store.list_proposals(states=[ProposalState.APPROVED]))[0].approvals
    ] == ["U0APPROVER"]


async def test_set_card_records_where_the_card_lives(store: SqliteProposalStore) -> None:
    """set_card stores channel and message ts without a transition; an unknown id is ProposalNotFound."""
    proposal = await b.pending(store)
    await store.set_card(proposal.id, channel="C0OPS", message_ts="1732795200.000100")
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and (loaded.channel, loaded.message_ts) == ("C0OPS", "1732795200.000100")
    assert len(await store.events(proposal.id)) == 1
    with pytest.raises(ProposalNotFound):
        await store.set_card(999, channel="C0OPS", message_ts="1")


async def test_transition_refuses_a_wrong_expected_state(store: SqliteProposalStore) -> None:
    """A guarded move from a state the proposal is not in does nothing and says so."""
    proposal = await b.pending(store)
    moved = await store.transition(
        proposal.id, expected=ProposalState.APPROVED, new=ProposalState.EXECUTING, actor="U0X", now=b.T0
    )
    assert moved is False
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and loaded.state is ProposalState.PENDING
    assert len(await store.events(proposal.id)) == 1


async def test_transition_refuses_a_wrong_revision(store: SqliteProposalStore) -> None:
    """With a revision given, the move only happens at that revision."""
    proposal = await b.pending(store)
    later = b.T0 + timedelta(minutes=5)
    assert not await store.transition(
        proposal.id,
        expected=ProposalState.PENDING,
        new=ProposalState.SUPERSEDED,
        actor="U0X",
        now=later,
        revision=2,
    )
    assert await store.transition(
        proposal.id,
        expected=ProposalState.PENDING,
        new=ProposalState.SUPERSEDED,
        actor="U0X",
        now=later,
        revision=1,
        detail={"changed": {"leader_store_id": [1, 2]}},
    )
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and (loaded.state, loaded.updated_at) == (ProposalState.SUPERSEDED, later)
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state, last.revision, last.actor, last.at) == (
        "pending",
        "superseded",
        1,
        "U0X",
        later,
    )
    assert last.detail == {"changed": {"leader_store_id": [1, 2]}}


async def test_transition_of_an_unknown_proposal_is_false(store: SqliteProposalStore) -> None:
    """Nothing to move: False, like any other failed guard."""
    assert not await store.transition(
        77, expected=ProposalState.PENDING, new=ProposalState.REJECTED, actor="U0X", now=b.T0
    )


async def test_transition_to_the_same_state_is_refused(store: SqliteProposalStore) -> None:
    """expected == new is a caller's bug, not a transition."""
    proposal = await b.pending(store)
    with pytest.raises(ValueError, match="must change the state"):
        await store.transition(
            proposal.id, expected=ProposalState.PENDING, new=ProposalState.PENDING, actor="U", now=b.T0
        )


async def test_revise_bumps_the_revision_and_resets_approvals(store: SqliteProposalStore) -> None:
    """An edit makes revision 2 with new parameters, keeps the original ones, and shows no approvals."""
    proposal = await b.pending(store, required=2)
    assert await store.add_approval(b.approval(proposal, "U0ALICE"), required=2) == "recorded"
    edited = b.request(params={"region_id": 12, "to_store_id": 5})
    revised = await store.revise(
        proposal.id,
        expected_revision=1,
        request=edited,
        preflight=b.preflight("fp-2"),
        expires_at=b.T0 + timedelta(hours=2),
        actor="U0EDITOR",
        now=b.T0 + timedelta(minutes=3),
    )
    assert revised is not None
    assert (revised.revision, revised.state, revised.approvals) == (2, ProposalState.PENDING, ())
    assert (revised.request, revised.fingerprint, revised.preflight) == (edited, "fp-2", b.preflight("fp-2"))
    assert revised.original_params == {"region_id": 12, "to_store_id": 3}
    assert revised.expires_at == b.T0 + timedelta(hours=2)
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state, last.revision, last.actor) == (
        "pending",
        "pending",
        2,
        "U0EDITOR",
    )
    assert last.detail == {
        "edited_from_revision": 1,
        "params": {"region_id": 12, "to_store_id": 5},
        "editor": "U0EDITOR",
        "system": False,
        "changes": [],
    }


async def _edit(store: SqliteProposalStore, proposal_id: int, revision: int) -> Proposal | None:
    return await store.revise(
        proposal_id,
        expected_revision=revision,
        request=b.request(params={"region_id": 12, "to_store_id": 5}),
        preflight=b.preflight("fp-2"),
        expires_at=b.T0 + timedelta(hours=2),
        actor="U0EDITOR",
        now=b.T0,
    )


async def test_revise_refuses_a_stale_revision_or_a_decided_proposal(store: SqliteProposalStore) -> None:
    """revise is None when the revision moved on or the proposal is no longer pending; nothing changes."""
    proposal = await b.pending(store)
    assert await _edit(store, proposal.id, revision=2) is None
    done = await b.approved(store)
    assert await _edit(store, done.id, revision=1) is None
    assert await store.get_proposal(proposal.id) == proposal
    assert await store.get_proposal(done.id) == done


async def test_expire_due_moves_only_overdue_pending_proposals(store: SqliteProposalStore) -> None:
    """Pending proposals past expires_at expire, with an event; due-exactly-now, later and decided stay."""
    overdue = await b.pending(store, ttl=timedelta(minutes=10))
    due_now = await b.pending(store, ttl=timedelta(minutes=30))
    later = await b.pending(store, ttl=timedelta(hours=2))
    decided = await b.approved(store, ttl=timedelta(minutes=10))
    now = b.T0 + timedelta(minutes=30)
    expired = await store.expire_due(now=now)
    assert [p.id for p in expired] == [overdue.id]
    assert (expired[0].state, expired[0].updated_at) == (ProposalState.EXPIRED, now)
    states = {p.id: p.state for p in await store.list_proposals()}
    assert states == {
        overdue.id: ProposalState.EXPIRED,
        due_now.id: ProposalState.PENDING,
        later.id: ProposalState.PENDING,
        decided.id: ProposalState.APPROVED,
    }
    last = (await store.events(overdue.id))[-1]
    assert (last.from_state, last.to_state, last.actor) == ("pending", "expired", "tikv-chatops")
    assert await store.expire_due(now=now) == []


async def test_every_transition_writes_exactly_one_event(store: SqliteProposalStore) -> None:
    """created → pending → approved → executing → succeeded leaves four events, in order."""
    proposal = await b.pending(store)
    await store.add_approval(b.approval(proposal, "U0ALICE"), required=1)
    log_id = await store.claim_for_execution(proposal.id, intent=b.entry(actor="U0ALICE"), now=b.T0)
    assert log_id is not None
    await store.finish_execution(proposal.id, log_id=log_id, result=b.result(), now=b.T0)
    steps = [(e.from_state, e.to_state, e.revision) for e in await store.events(proposal.id)]
    assert steps == [
        (None, "pending", 1),
        ("pending", "approved", 1),
        ("approved", "executing", 1),
        ("executing", "succeeded", 1),
    ]


async def test_events_are_append_only(store: SqliteProposalStore, db_path: str) -> None:
    """The schema refuses to rewrite or delete an events row, whoever asks."""
    await b.pending(store)
    with closing(sqlite3.connect(db_path)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET to_state = 'approved'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events")


async def test_approvals_required_must_be_positive(store: SqliteProposalStore) -> None:
    """A proposal needing zero approvals is a caller's bug and is refused before any write."""
    with pytest.raises(ValueError, match="approvals_required must be at least 1"):
        await b.pending(store, required=0)
