"""Execution: claimed once with its intent row, finished once with its result, refined in place."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import store_builders as b

from actions.errors import ProposalNotFound
from actions.models import OperatorOutcome, ProposalState
from actions.ports import AuditQuery
from store.errors import StoreError
from store.sqlite import SqliteProposalStore, open_store


async def test_claim_moves_approved_to_executing_and_writes_the_intent_row(
    store: SqliteProposalStore,
) -> None:
    """The claim returns the audit row it wrote; the row names the proposal, its ticket and its approvers."""
    ticket, _ = await store.open_ticket(key="leader-imbalance", title="Leaders", detail={}, now=b.T0)
    proposal = await b.approved(store, req=b.request(ticket_id=ticket.id))
    claimed_at = b.T0 + timedelta(minutes=2)
    log_id = await store.claim_for_execution(
        proposal.id, intent=b.entry({"region_id": 12, "to_store_id": 3}), now=claimed_at
    )
    assert log_id is not None
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and (loaded.state, loaded.updated_at) == (ProposalState.EXECUTING, claimed_at)
    (row,) = b.intents(await store.query_audit(AuditQuery(proposal_id=proposal.id)))
    assert (row.id, row.proposal_id, row.ticket_id, row.result_json, row.executed_at) == (
        log_id,
        proposal.id,
        ticket.id,
        None,
        None,
    )
    assert row.approval_json is not None
    assert [(a["approver"], a["decision"], a["revision"]) for a in row.approval_json] == [
        ("U0APPROVER", "approve", 1)
    ]
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state, last.detail) == ("approved", "executing", {"log_id": log_id})


async def test_claim_keeps_the_approvals_and_ticket_the_executor_gave(store: SqliteProposalStore) -> None:
    """An intent that already carries approval_json and ticket_id is stored as given."""
    proposal = await b.approved(store)
    intent = b.entry(ticket_id=77).model_copy(update={"approval_json": [{"approver": "U0SOMEONE"}]})
    log_id = await store.claim_for_execution(proposal.id, intent=intent, now=b.T0)
    (row,) = b.intents(await store.query_audit(AuditQuery(proposal_id=proposal.id)))
    assert (row.id, row.ticket_id, row.approval_json) == (log_id, 77, [{"approver": "U0SOMEONE"}])


async def test_concurrent_claims_succeed_exactly_once(store: SqliteProposalStore) -> None:
    """Twenty executors racing for one approved proposal: one log id, one audit row."""
    proposal = await b.approved(store)
    claims = await asyncio.gather(
        *(
            store.claim_for_execution(proposal.id, intent=b.entry(actor=f"exec-{i}"), now=b.T0)
            for i in range(20)
        )
    )
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    assert [e.id for e in b.intents(await store.query_audit(AuditQuery(proposal_id=proposal.id)))] == winners


async def test_claims_through_two_connections_succeed_exactly_once(db_path: str) -> None:
    """Two replicas on one file racing to claim: exactly one gets a log id."""
    first = await open_store(db_path, busy_timeout=10.0)
    second = await open_store(db_path, busy_timeout=10.0)
    try:
        proposal = await b.approved(first)
        claims = await asyncio.gather(
            *(
                (first if i % 2 else second).claim_for_execution(proposal.id, intent=b.entry(), now=b.T0)
                for i in range(10)
            )
        )
        rows = b.intents(await first.query_audit(AuditQuery(proposal_id=proposal.id)))
    finally:
        await first.aclose()
        await second.aclose()
    assert len([c for c in claims if c is not None]) == 1
    assert len(rows) == 1


async def test_a_pending_proposal_cannot_be_claimed(store: SqliteProposalStore) -> None:
    """Only approved proposals execute: claiming a pending one is None and writes no audit row."""
    proposal = await b.pending(store)
    assert await store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0) is None
    assert b.intents(await store.query_audit(AuditQuery())) == []


async def test_an_intent_for_another_proposal_is_refused(store: SqliteProposalStore) -> None:
    """The intent's proposal_id, when set, must be the proposal being claimed."""
    proposal = await b.approved(store)
    with pytest.raises(ValueError, match="names proposal 99"):
        await store.claim_for_execution(proposal.id, intent=b.entry(proposal_id=99), now=b.T0)


async def test_finish_records_the_result_on_the_proposal_and_the_audit_row(
    store: SqliteProposalStore,
) -> None:
    """executing → succeeded; the result is on both, and executed_at is the finish time."""
    proposal = await b.approved(store)
    log_id = await store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0)
    assert log_id is not None
    finished_at = b.T0 + timedelta(minutes=3)
    assert await store.finish_execution(proposal.id, log_id=log_id, result=b.result(), now=finished_at)
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and (loaded.state, loaded.result) == (ProposalState.SUCCEEDED, b.result())
    (row,) = b.intents(await store.query_audit(AuditQuery(proposal_id=proposal.id)))
    assert row.result_json == b.result().model_dump(mode="json")
    assert row.executed_at == finished_at
    last = (await store.events(proposal.id))[-1]
    assert (last.from_state, last.to_state, last.actor) == ("executing", "succeeded", "U0APPROVER")


async def test_finish_is_refused_unless_executing(store: SqliteProposalStore) -> None:
    """Finishing twice (or finishing an unclaimed proposal) is False and changes nothing."""
    proposal = await b.approved(store)
    log_id = await store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0)
    assert log_id is not None
    assert await store.finish_execution(
        proposal.id, log_id=log_id, result=b.result(ProposalState.FAILED), now=b.T0
    )
    assert not await store.finish_execution(proposal.id, log_id=log_id, result=b.result(), now=b.T0)
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and loaded.state is ProposalState.FAILED


async def test_finish_with_another_proposals_audit_row_rolls_back(store: SqliteProposalStore) -> None:
    """A log id that is not this proposal's: StoreError; the proposal is still executing, with no result."""
    proposal = await b.approved(store)
    assert await store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0) is not None
    stranger = await store.log_entry(b.entry(dry_run=True))
    with pytest.raises(StoreError, match=f"audit row {stranger} is not proposal {proposal.id}'s"):
        await store.finish_execution(proposal.id, log_id=stranger, result=b.result(), now=b.T0)
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and (loaded.state, loaded.result) == (ProposalState.EXECUTING, None)
    assert [e.to_state for e in await store.events(proposal.id)][-1] == "executing"


async def test_finish_requires_a_final_state(store: SqliteProposalStore) -> None:
    """An execution ends succeeded, failed or unknown; anything else is a caller's bug."""
    with pytest.raises(ValueError, match="an execution ends in"):
        await store.finish_execution(1, log_id=1, result=b.result(ProposalState.APPROVED), now=b.T0)


async def test_update_result_refines_without_a_transition(store: SqliteProposalStore) -> None:
    """Operator progress replaces the result on the proposal and the audit row; no event, state unchanged."""
    proposal = await b.approved(store)
    log_id = await store.claim_for_execution(proposal.id, intent=b.entry(), now=b.T0)
    assert log_id is not None
    finished_at = b.T0 + timedelta(minutes=3)
    await store.finish_execution(proposal.id, log_id=log_id, result=b.result(), now=finished_at)
    events_before = await store.events(proposal.id)
    refined = b.result(message="operator finished").model_copy(update={"operator": OperatorOutcome.SUCCESS})
    await store.update_result(proposal.id, log_id=log_id, result=refined)
    loaded = await store.get_proposal(proposal.id)
    assert loaded is not None and (loaded.state, loaded.result) == (ProposalState.SUCCEEDED, refined)
    (row,) = b.intents(await store.query_audit(AuditQuery(proposal_id=proposal.id)))
    assert row.result_json == refined.model_dump(mode="json")
    assert row.executed_at == finished_at
    assert await store.events(proposal.id) == events_before
    with pytest.raises(ProposalNotFound):
        await store.update_result(4040, log_id=log_id, result=refined)
