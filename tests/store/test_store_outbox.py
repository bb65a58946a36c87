"""The Slack outbox: one debt per proposal and kind, paid in order, claimed before Slack is called, kept
across a restart, and never lost to a settle that raced a newer failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_builders import T0, pending

from store.errors import StoreError
from store.outbox import SlackDebtKind
from store.sqlite import SqliteProposalStore, open_store

CARD, UPDATE, RESULT = SlackDebtKind.CARD, SlackDebtKind.UPDATE, SlackDebtKind.RESULT
LATER = T0 + timedelta(seconds=30)


async def test_debts_are_listed_oldest_proposal_first_and_card_before_update_before_result(
    store: SqliteProposalStore,
) -> None:
    """Whatever order they were owed in, a proposal's card comes before its update and its result, and
    an older proposal before a newer one."""
    first, second = await pending(store), await pending(store)
    await store.owe_slack(second.id, RESULT, channel=None, error="HTTP 429 ratelimited", now=T0)
    await store.owe_slack(first.id, RESULT, channel=None, error="HTTP 429 ratelimited", now=T0)
    await store.owe_slack(first.id, UPDATE, channel=None, error="HTTP 503", now=T0)
    await store.owe_slack(first.id, CARD, channel="C0OPS", error="HTTP 429 ratelimited", now=T0)
    owed = await store.slack_owed()
    assert [(d.proposal_id, d.kind) for d in owed] == [
        (first.id, CARD),
        (first.id, UPDATE),
        (first.id, RESULT),
        (second.id, RESULT),
    ]
    assert owed[0].channel == "C0OPS" and owed[0].claimed_at is None and owed[0].attempts == 0
    assert [d.kind for d in await store.slack_owed(proposal_id=second.id)] == [RESULT]
    assert len(await store.slack_owed(limit=2)) == 2
    assert await store.slack_owed_counts() == {CARD: 1, UPDATE: 1, RESULT: 2}


async def test_owing_the_same_thing_again_keeps_one_row_with_a_new_generation(
    store: SqliteProposalStore,
) -> None:
    """A second failure of the same kind is one debt, not two; its generation and last error move on,
    and the channel it was first owed for stays when the later failure names none."""
    proposal = await pending(store)
    first = await store.owe_slack(proposal.id, CARD, channel="C0OPS", error="HTTP 429", now=T0)
    again = await store.owe_slack(proposal.id, CARD, channel=None, error="HTTP 500", now=LATER)
    assert (first.generation, again.generation) == (1, 2)
    assert again.channel == "C0OPS" and again.last_error == "HTTP 500"
    assert again.created_at == T0 and again.updated_at == LATER
    assert len(await store.slack_owed()) == 1


async def test_a_claimed_debt_is_not_claimed_again_until_its_claim_is_stale(
    store: SqliteProposalStore,
) -> None:
    """Two payers cannot both take a debt; a claim older than ``stale_before`` was abandoned and can be
    taken over, and the debt handed over then shows the abandoned claim."""
    proposal = await pending(store)
    await store.owe_slack(proposal.id, CARD, channel="C0OPS", error="HTTP 429", now=T0)
    taken = await store.claim_slack(proposal.id, CARD, now=T0, stale_before=T0 - timedelta(minutes=10))
    assert taken is not None and taken.claimed_at is None
    assert (
        await store.claim_slack(proposal.id, CARD, now=LATER, stale_before=LATER - timedelta(minutes=10))
        is None
    )
    much_later = T0 + timedelta(minutes=11)
    abandoned = await store.claim_slack(
        proposal.id, CARD, now=much_later, stale_before=much_later - timedelta(minutes=10)
    )
    assert abandoned is not None and abandoned.claimed_at == T0
    assert await store.claim_slack(proposal.id, UPDATE, now=T0, stale_before=T0) is None  # never owed


async def test_release_unclaims_and_counts_the_attempt(store: SqliteProposalStore) -> None:
    """Slack failing again leaves the debt owed, claimable at once, with the attempt and its error."""
    proposal = await pending(store)
    await store.owe_slack(proposal.id, UPDATE, channel=None, error="HTTP 429", now=T0)
    assert await store.claim_slack(proposal.id, UPDATE, now=T0, stale_before=T0) is not None
    await store.release_slack(proposal.id, UPDATE, error="HTTP 503 fatal_error", now=LATER)
    [debt] = await store.slack_owed()
    assert debt.claimed_at is None and debt.attempts == 1 and debt.last_error == "HTTP 503 fatal_error"
    assert await store.claim_slack(proposal.id, UPDATE, now=LATER, stale_before=T0) is not None


async def test_settle_deletes_the_debt_it_paid_but_not_a_newer_failure(store: SqliteProposalStore) -> None:
    """Paying generation 1 while a new failure raised it to 2 keeps the debt (unclaimed) for the next
    pass; paying the current generation deletes it."""
    proposal = await pending(store)
    owed = await store.owe_slack(proposal.id, UPDATE, channel=None, error="HTTP 429", now=T0)
    await store.claim_slack(proposal.id, UPDATE, now=T0, stale_before=T0)
    newer = await store.owe_slack(proposal.id, UPDATE, channel=None, error="HTTP 429", now=LATER)
    assert not await store.settle_slack(proposal.id, UPDATE, generation=owed.generation)
    [kept] = await store.slack_owed()
    assert kept.claimed_at is None and kept.generation == newer.generation
    assert await store.settle_slack(proposal.id, UPDATE, generation=newer.generation)
    assert await store.slack_owed() == []
    assert await store.slack_owed_counts() == {CARD: 0, UPDATE: 0, RESULT: 0}


async def test_forget_drops_a_debt_whatever_its_claim(store: SqliteProposalStore) -> None:
    """A debt that must not be paid (a card that may be posted) is dropped even while claimed."""
    proposal = await pending(store)
    await store.owe_slack(proposal.id, CARD, channel="C0OPS", error="HTTP 429", now=T0)
    await store.claim_slack(proposal.id, CARD, now=T0, stale_before=T0)
    await store.forget_slack(proposal.id, CARD)
    assert await store.slack_owed() == []


async def test_debts_survive_closing_and_reopening_the_database(db_path: str) -> None:
    """The outbox is in the file: a restart finds what Slack was owed, claims included."""
    first = await open_store(db_path)
    proposal = await pending(first)
    await first.owe_slack(proposal.id, CARD, channel="C0OPS", error="HTTP 429", now=T0)
    await first.owe_slack(proposal.id, RESULT, channel=None, error="waiting for the card", now=T0)
    await first.claim_slack(proposal.id, CARD, now=LATER, stale_before=T0)
    await first.aclose()
    again = await open_store(db_path)
    try:
        owed = await again.slack_owed()
        assert [(d.kind, d.claimed_at) for d in owed] == [(CARD, LATER), (RESULT, None)]
    finally:
        await again.aclose()


async def test_a_debt_needs_a_real_proposal(store: SqliteProposalStore) -> None:
    """The outbox refers to proposals: a debt for an id that was never stored is refused."""
    with pytest.raises(StoreError):
        await store.owe_slack(999, UPDATE, channel=None, error="HTTP 429", now=T0)
    assert await store.slack_owed() == []
