"""SlackNotifier: the card posted and rewritten in place, one progress line, the result in the thread, and
what Slack missed while it failed told once it is back (the store's Slack outbox and ``catch_up``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import bot_samples as samples
import pytest
from slack_sdk.http_retry import builtin_async_handlers, jitter
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from actions.audit import intent_entry
from actions.catalog import CATALOG
from actions.clock import utc_now
from actions.models import (
    ActionApproval,
    ActionResult,
    Decision,
    Proposal,
    ProposalState,
    Source,
    Ticket,
    Tier,
)
from actions.ports import ApprovalOutcome
from bot.bolt import build_web_client
from bot.catchup import CLAIM_TIMEOUT, SlackCatchUp
from bot.metrics import Metrics
from bot.notifier import SlackNotifier
from bot.playground.fake_slack import FakeSlack
from bot.tickets import StoreTickets
from store.errors import StoreUnavailable
from store.outbox import SlackDebtKind
from store.sqlite import SqliteProposalStore, open_store

CHANNEL = "C0OPS"


@pytest.fixture(autouse=True)
def no_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk adds up to a second of random wait to each retry; pinned to none, so the failures these
    tests queue cost no time."""
    still = SimpleNamespace(random=lambda: 0.0)
    monkeypatch.setattr(builtin_async_handlers, "random", still)
    monkeypatch.setattr(jitter, "random", still)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


def _notifier(fake: FakeSlack, *, default_channel: str | None = CHANNEL) -> SlackNotifier:
    return SlackNotifier(build_web_client(fake.token, base_url=fake.api_url), default_channel=default_channel)


async def test_publish_posts_the_card_and_returns_where_it_is(fake: FakeSlack) -> None:
    """chat.postMessage in the proposal channel; the CardRef names the channel and the message ts."""
    notifier = _notifier(fake)
    card = await notifier.publish(samples.proposal(channel=None, message_ts=None))
    assert card is not None and card.channel == CHANNEL
    message = fake.message(CHANNEL, card.message_ts)
    assert "Proposal #7" in message.text
    assert any(b["type"] == "actions" for b in message.blocks)


async def test_publish_without_any_channel_posts_nothing(fake: FakeSlack) -> None:
    """No channel on the proposal and no PROPOSAL_CHANNEL: None, and no call to Slack."""
    notifier = _notifier(fake, default_channel=None)
    assert await notifier.publish(samples.proposal(channel=None, message_ts=None)) is None
    assert fake.calls("chat.postMessage") == []


async def test_update_rewrites_the_card_in_place(fake: FakeSlack) -> None:
    """After a decision the same message loses its buttons and says who decided."""
    notifier = _notifier(fake)
    card = await notifier.publish(samples.proposal(channel=None, message_ts=None))
    assert card is not None
    decided = samples.proposal(
        state=ProposalState.APPROVED,
        approvals=(samples.approval("U0BOB"),),
        channel=card.channel,
        message_ts=card.message_ts,
    )
    await notifier.update(decided)
    message = fake.message(CHANNEL, card.message_ts)
    assert not any(b["type"] == "actions" for b in message.blocks)
    assert "approved by <@U0BOB>" in str(message.blocks)
    assert len(fake.messages(CHANNEL)) == 1


async def test_progress_is_one_thread_message_edited_in_place(fake: FakeSlack) -> None:
    """Five progress reports make one reply, updated four times, then the result is a second reply."""
    notifier = _notifier(fake)
    card = await notifier.publish(samples.proposal(channel=None, message_ts=None))
    assert card is not None
    proposal = samples.proposal(
        state=ProposalState.SUCCEEDED, channel=card.channel, message_ts=card.message_ts
    )
    # The card's first reply holds the data behind its checks; the card itself has none.
    [details] = fake.thread(CHANNEL, card.message_ts)[1:]
    assert details.text.startswith("🔎") and '"regions": 1000' in str(details.blocks)
    assert '"regions"' not in str(fake.messages(CHANNEL)[0].blocks)
    for step in range(5):
        await notifier.progress(proposal, f"admin-transfer-leader on region 12: RUNNING step {step}")
    replies = fake.thread(CHANNEL, card.message_ts)[2:]
    assert len(replies) == 1 and "step 4" in replies[0].text
    assert len(fake.calls("chat.update")) == 4
    await notifier.finished(proposal, samples.result(proposal))
    replies = fake.thread(CHANNEL, card.message_ts)[2:]
    assert len(replies) == 2 and "succeeded" in replies[1].text


async def test_slack_failures_are_logged_and_swallowed(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx that outlasts the retries, or channel_not_found: logged, never raised into the executor."""
    notifier = _notifier(fake)
    fake.fail_next("chat.postMessage", error="internal_error", status=500, times=5)
    assert await notifier.publish(samples.proposal(channel=None, message_ts=None)) is None
    fake.fail_next("chat.update", error="channel_not_found", status=200)
    await notifier.update(samples.proposal())
    assert "chat_postMessage for proposal 7 failed" in caplog.text
    assert "chat_update for proposal 7 failed" in caplog.text


async def test_a_rate_limit_is_retried_after_retry_after(fake: FakeSlack) -> None:
    """A 429 with Retry-After: 0 is retried by the client's handler and the card still lands."""
    notifier = _notifier(fake)
    fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    card = await notifier.publish(samples.proposal(channel=None, message_ts=None))
    assert card is not None
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200, 200]  # the card, its details
    assert any(
        isinstance(h, AsyncRateLimitErrorRetryHandler)
        for h in build_web_client("x", base_url="http://x/").retry_handlers
    )


class _Tickets:
    """The store's ticket reads, counted; ``fail`` makes the next read raise."""

    def __init__(self, *tickets: Ticket) -> None:
        self.open = list(tickets)
        self.reads = 0
        self.fail = False

    async def list_open_tickets(self) -> list[Ticket]:
        self.reads += 1
        if self.fail:
            raise OSError("disk I/O error")
        return list(self.open)


async def test_an_agent_card_names_its_finding_read_once_from_the_store(fake: FakeSlack) -> None:
    """The card of a ticketed proposal shows the finding; the ticket is read once, and still shown on
    the rewrite after it closed."""
    store = _Tickets(Ticket(id=3, key="store-down:5", title="Store 5 is Down", created_at=samples.NOW))
    notifier = SlackNotifier(
        build_web_client(fake.token, base_url=fake.api_url),
        default_channel=CHANNEL,
        tickets=StoreTickets(store),  # type: ignore[arg-type]
    )
    base = samples.proposal("evict-leader 5", source=Source.AGENT, channel=None, message_ts=None)
    proposal = base.model_copy(update={"request": base.request.model_copy(update={"ticket_id": 3})})
    card = await notifier.publish(proposal)
    assert card is not None
    assert "store-down:5" in str(fake.message(CHANNEL, card.message_ts).blocks)
    store.open.clear()  # the finding is gone; the card is rewritten after the decision
    decided = proposal.model_copy(
        update={"state": ProposalState.REJECTED, "channel": card.channel, "message_ts": card.message_ts}
    )
    await notifier.update(decided)
    assert "Store 5 is Down" in str(fake.message(CHANNEL, card.message_ts).blocks)
    assert store.reads == 1


async def test_a_card_whose_ticket_cannot_be_read_is_posted_without_it(fake: FakeSlack) -> None:
    """The store failing to list tickets costs the finding line, never the card."""
    store = _Tickets()
    store.fail = True
    notifier = SlackNotifier(
        build_web_client(fake.token, base_url=fake.api_url),
        default_channel=CHANNEL,
        tickets=StoreTickets(store),  # type: ignore[arg-type]
    )
    base = samples.proposal(channel=None, message_ts=None)
    proposal = base.model_copy(update={"request": base.request.model_copy(update={"ticket_id": 9})})
    card = await notifier.publish(proposal)
    assert card is not None and "Finding:" not in str(fake.message(CHANNEL, card.message_ts).blocks)


# --- what Slack missed: the outbox and the catch-up --------------------------------------------------


@pytest.fixture
async def store() -> AsyncIterator[SqliteProposalStore]:
    opened = await open_store(":memory:")
    yield opened
    await opened.aclose()


def _keeping(fake: FakeSlack, store: SqliteProposalStore, metrics: Metrics | None = None) -> SlackNotifier:
    """A notifier that records what Slack missed in ``store`` and tells it in ``catch_up``."""
    return SlackNotifier(
        build_web_client(fake.token, base_url=fake.api_url),
        default_channel=CHANNEL,
        ledger=store,
        metrics=metrics,
    )


async def _stored(store: SqliteProposalStore, text: str = "transfer-leader 12 3") -> Proposal:
    return await store.create_proposal(
        request=samples.request(text),
        tier=Tier.REVERSIBLE,
        approvals_required=1,
        preflight=samples.checks(4),
        expires_at=samples.NOW + timedelta(days=3650),
        now=samples.NOW,
        channel=CHANNEL,
    )


async def _with_card(store: SqliteProposalStore, notifier: SlackNotifier) -> Proposal:
    """A stored proposal whose card was posted (and stored, as Operations does)."""
    proposal = await _stored(store)
    card = await notifier.publish(proposal)
    assert card is not None
    await store.set_card(proposal.id, channel=card.channel, message_ts=card.message_ts)
    return await _current(store, proposal.id)


async def _current(store: SqliteProposalStore, proposal_id: int) -> Proposal:
    found = await store.get_proposal(proposal_id)
    assert found is not None
    return found


def _cards(fake: FakeSlack) -> list[Any]:
    return [m for m in fake.messages(CHANNEL) if m.text.startswith("Proposal #")]


async def test_a_card_refused_with_429_is_owed_and_posted_once_when_slack_is_back(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """chat.postMessage answers 429 past the retries: nothing is posted and the card is owed; the
    catch-up posts it once, stores where it is, and a second pass posts nothing."""
    metrics = Metrics()
    notifier = _keeping(fake, store, metrics)
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    assert await notifier.publish(proposal) is None
    assert _cards(fake) == []
    [owed] = await store.slack_owed()
    assert (owed.proposal_id, owed.kind, owed.channel) == (proposal.id, SlackDebtKind.CARD, CHANNEL)

    assert await SlackCatchUp(notifier).catch_up() == 1
    [card] = _cards(fake)
    assert any(b["type"] == "actions" for b in card.blocks)
    assert (await _current(store, proposal.id)).message_ts == card.ts
    assert await store.slack_owed() == []
    assert await SlackCatchUp(notifier).catch_up() == 0 and len(_cards(fake)) == 1
    assert metrics.registry.get_sample_value("tikv_chatops_slack_caught_up_total", {"kind": "card"}) == 1


@pytest.mark.parametrize(("status", "error"), [(500, "internal_error"), (503, "fatal_error")])
async def test_a_card_post_that_may_have_reached_slack_is_not_posted_again(
    fake: FakeSlack, store: SqliteProposalStore, caplog: pytest.LogCaptureFixture, status: int, error: str
) -> None:
    """A 5xx does not prove Slack did not post the card, so it is not owed: no catch-up can post it a
    second time; the error log and the in-doubt counter say so."""
    metrics = Metrics()
    notifier = _keeping(fake, store, metrics)
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", error=error, status=status, retry_after=0, times=3)
    assert await notifier.publish(proposal) is None
    assert await store.slack_owed() == []
    assert await SlackCatchUp(notifier).catch_up() == 0
    assert len(fake.calls("chat.postMessage")) == 1  # not retried (a retry could be a second card)
    assert metrics.registry.get_sample_value("tikv_chatops_slack_cards_in_doubt_total") == 1
    assert f"the card of proposal {proposal.id} may or may not have been posted" in caplog.text


async def test_a_missed_update_is_rendered_from_the_state_the_proposal_has_when_slack_is_back(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """The rewrite after an approval fails; by the time Slack answers, the proposal was rejected: the
    card shows the rejection, not the state the failed call carried."""
    notifier = _keeping(fake, store)
    proposal = await _with_card(store, notifier)
    fake.fail_next("chat.update", status=503, error="fatal_error", retry_after=0, times=3)
    await notifier.update(proposal)
    assert [d.kind for d in await store.slack_owed()] == [SlackDebtKind.UPDATE]
    assert await store.reject(
        ActionApproval(
            proposal_id=proposal.id,
            revision=proposal.revision,
            approver="U0BOB",
            decision=Decision.REJECT,
            decided_at=samples.NOW,
        )
    )

    assert await SlackCatchUp(notifier).catch_up() == 1
    [card] = _cards(fake)
    assert "(rejected)" in card.text and not any(b["type"] == "actions" for b in card.blocks)
    assert await store.slack_owed() == []


async def test_a_result_owed_before_its_card_is_told_in_the_card_s_thread_after_it(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """The card could not be posted and the action finished meanwhile (an automatic revert): once Slack
    is back the card is posted, showing the outcome, and the result follows in its thread."""
    notifier = _keeping(fake, store)
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    assert await notifier.publish(proposal) is None
    result = await _run(store, proposal)
    await notifier.finished(await _current(store, proposal.id), result)  # no card: nothing sent yet
    assert [d.kind for d in await store.slack_owed()] == [SlackDebtKind.CARD, SlackDebtKind.RESULT]

    assert await SlackCatchUp(notifier).catch_up() == 2
    [card] = _cards(fake)
    assert "(succeeded)" in card.text
    [reply] = fake.thread(CHANNEL, card.ts)[1:]
    assert reply.text.startswith(f"✅ #{proposal.id} succeeded")


async def _run(store: SqliteProposalStore, proposal: Proposal) -> ActionResult:
    """Approve, claim and finish ``proposal`` in the store, as the executor does; returns the result."""
    outcome = await store.add_approval(samples.approval("U0BOB", pid=proposal.id), required=1)
    assert outcome is ApprovalOutcome.APPROVED
    spec = CATALOG[proposal.request.action]
    intent = intent_entry(
        proposal,
        actor="U0BOB",
        pd_request=spec.pd_request(proposal.request.params),
        pd_ctl=spec.pd_ctl(proposal.request.params),
        now=samples.NOW,
    )
    log_id = await store.claim_for_execution(proposal.id, intent=intent, now=samples.NOW)
    assert log_id is not None
    result = samples.result(proposal)
    assert await store.finish_execution(proposal.id, log_id=log_id, result=result, now=samples.NOW)
    return result


async def test_a_pass_stops_at_the_first_call_slack_still_fails(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """Slack still failing: the pass tries the oldest debt once (no client retries) and leaves the rest
    for later, all still owed; Retry-After from Slack is noted."""
    notifier = _keeping(fake, store)
    first, second = await _with_card(store, notifier), await _with_card(store, notifier)
    fake.fail_next("chat.update", status=429, retry_after=0, times=6)
    await notifier.update(first)
    await notifier.update(second)
    fake.fail_next("chat.update", status=429, retry_after=0, times=1)
    calls = len(fake.calls("chat.update"))
    assert await SlackCatchUp(notifier).catch_up() == 0
    assert len(fake.calls("chat.update")) == calls + 1
    owed = await store.slack_owed()
    assert [(d.proposal_id, d.attempts) for d in owed] == [(first.id, 1), (second.id, 0)]
    assert all(d.claimed_at is None for d in owed)
    assert await SlackCatchUp(notifier).catch_up() == 2 and await store.slack_owed() == []


async def test_a_card_whose_post_was_interrupted_is_never_posted_again(
    fake: FakeSlack, store: SqliteProposalStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A claim left on a card debt (a bot stopped mid-post) means Slack may have the card: once the
    claim is stale the debt is dropped, with an error log, and nothing is posted."""
    notifier = _keeping(fake, store)
    proposal = await _stored(store)
    await store.owe_slack(proposal.id, SlackDebtKind.CARD, channel=CHANNEL, error="HTTP 429", now=samples.NOW)
    long_ago = utc_now() - CLAIM_TIMEOUT - timedelta(minutes=1)
    assert await store.claim_slack(proposal.id, SlackDebtKind.CARD, now=long_ago, stale_before=long_ago)
    assert await SlackCatchUp(notifier).catch_up() == 0
    assert fake.calls("chat.postMessage") == [] and await store.slack_owed() == []
    assert "may or may not have been posted" in caplog.text


async def test_a_success_wakes_the_catch_up_before_its_interval(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """With an hour between passes, a call Slack accepts (Slack is back) starts a pass at once."""
    notifier = _keeping(fake, store)
    proposal = await _with_card(store, notifier)
    stop = asyncio.Event()
    loop = asyncio.create_task(SlackCatchUp(notifier).run(stop, 3600))
    try:
        await asyncio.sleep(0.1)  # the first pass, at start, finds nothing
        fake.fail_next("chat.update", status=429, retry_after=0, times=3)
        await notifier.update(proposal)
        assert len(await store.slack_owed()) == 1
        updates = len(fake.calls("chat.update"))
        await notifier.progress(proposal, "admin-transfer-leader on region 12: RUNNING")  # Slack answers
        for _ in range(150):
            if not await store.slack_owed():
                break
            await asyncio.sleep(0.02)
        assert await store.slack_owed() == []
        assert [c.status for c in fake.calls("chat.update")[updates:]] == [200]
    finally:
        stop.set()
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_without_a_ledger_failures_are_only_logged(fake: FakeSlack) -> None:
    """A notifier built without the store (tools, tests) keeps the old behaviour: nothing is owed and a
    catch-up does nothing."""
    notifier = _notifier(fake)
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    assert await notifier.publish(samples.proposal(channel=None, message_ts=None)) is None
    assert await SlackCatchUp(notifier).catch_up() == 0


async def test_a_card_retried_after_a_5xx_is_never_owed_even_if_a_later_attempt_is_rate_limited(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """A 503 (Slack may have posted the card) followed by 429s: the later 429s prove nothing about the
    first attempt, so the card is in doubt, not owed, and no catch-up posts it a second time."""
    notifier = _keeping(fake, store)
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", error="fatal_error", status=503, retry_after=0)
    fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0, times=5)
    assert await notifier.publish(proposal) is None
    assert await store.slack_owed() == []
    assert await SlackCatchUp(notifier).catch_up() == 0
    assert [c.status for c in fake.calls("chat.postMessage")] == [503]


async def test_a_card_is_retried_while_slack_only_rate_limits_it(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """Two 429s (each proving nothing was posted) and then an answer: the card lands once, nothing owed."""
    notifier = _keeping(fake, store)
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0, times=2)
    card = await notifier.publish(proposal)
    assert card is not None and [m.ts for m in _cards(fake)] == [card.message_ts]
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 429, 200, 200]  # card, details
    assert await store.slack_owed() == []


class _Flaky:
    """The store, with ``fail[name]`` calls to method ``name`` raising StoreUnavailable first, and
    ``set_card`` held until ``gate`` is set (``entered`` says a call is waiting there)."""

    def __init__(self, store: SqliteProposalStore, **fail: int) -> None:
        self._store = store
        self.fail = dict(fail)
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()

    def _maybe_fail(self, name: str) -> None:
        if self.fail.get(name, 0) > 0:
            self.fail[name] -= 1
            raise StoreUnavailable("database is locked")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get_proposal(self, proposal_id: int) -> Proposal | None:
        self._maybe_fail("get_proposal")
        return await self._store.get_proposal(proposal_id)

    async def owe_slack(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_fail("owe_slack")
        return await self._store.owe_slack(*args, **kwargs)

    async def set_card(self, proposal_id: int, *, channel: str, message_ts: str) -> None:
        self.entered.set()
        await self.gate.wait()
        await self._store.set_card(proposal_id, channel=channel, message_ts=message_ts)


def _over(fake: FakeSlack, ledger: _Flaky) -> SlackNotifier:
    return SlackNotifier(
        build_web_client(fake.token, base_url=fake.api_url),
        default_channel=CHANNEL,
        ledger=ledger,  # type: ignore[arg-type]
    )


async def test_a_card_debt_survives_a_store_failure_during_the_catch_up(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """The store fails to read the proposal after its card debt was claimed: the pass logs it and goes
    on to the next debt; the card stays owed and unclaimed (not 'possibly posted'), and the next pass
    posts it once."""
    ledger = _Flaky(store, get_proposal=1)
    notifier = _over(fake, ledger)
    owed = await _stored(store)
    await store.owe_slack(owed.id, SlackDebtKind.CARD, channel=CHANNEL, error="HTTP 429", now=samples.NOW)
    other = await _with_card(store, notifier)
    await store.owe_slack(other.id, SlackDebtKind.UPDATE, channel=None, error="HTTP 429", now=samples.NOW)

    assert await SlackCatchUp(notifier).catch_up() == 1  # the update after it was still told
    [debt] = await store.slack_owed()
    assert (debt.proposal_id, debt.kind, debt.claimed_at, debt.attempts) == (
        owed.id,
        SlackDebtKind.CARD,
        None,
        1,
    )
    assert await SlackCatchUp(notifier).catch_up() == 1
    assert len(_cards(fake)) == 2 and await store.slack_owed() == []
    assert (await _current(store, owed.id)).message_ts is not None


async def test_a_live_update_during_a_catch_up_card_post_reaches_the_card(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """The catch-up has posted an owed card (rendered pending) and not yet stored it when the proposal is
    rejected and the live update arrives with no card on its copy: the card ends up showing the
    rejection instead of staying pending."""
    ledger = _Flaky(store)
    notifier = _over(fake, ledger)
    proposal = await _stored(store)
    await store.owe_slack(proposal.id, SlackDebtKind.CARD, channel=CHANNEL, error="HTTP 429", now=samples.NOW)
    ledger.gate.clear()
    paying = asyncio.create_task(SlackCatchUp(notifier).catch_up())
    await asyncio.wait_for(ledger.entered.wait(), 5)
    assert await store.reject(
        ActionApproval(
            proposal_id=proposal.id,
            revision=proposal.revision,
            approver="U0BOB",
            decision=Decision.REJECT,
            decided_at=samples.NOW,
        )
    )
    rejected = await _current(store, proposal.id)
    assert rejected.message_ts is None
    updating = asyncio.create_task(notifier.update(rejected))
    await asyncio.sleep(0.05)
    ledger.gate.set()
    await paying
    await updating
    await SlackCatchUp(notifier).catch_up()
    [card] = _cards(fake)
    assert "(rejected)" in card.text and not any(b["type"] == "actions" for b in card.blocks)
    assert await store.slack_owed() == []


async def test_a_result_told_with_a_copy_from_before_the_card_was_caught_up_reaches_its_thread(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """The executor's copy of the proposal predates the catch-up that posted its owed card: the result
    still goes to that card's thread (the store says where the card is), not nowhere."""
    notifier = _keeping(fake, store)
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    assert await notifier.publish(proposal) is None
    result = await _run(store, proposal)
    stale = await _current(store, proposal.id)
    assert await SlackCatchUp(notifier).catch_up() == 1
    await notifier.finished(stale, result)
    [card] = _cards(fake)
    [reply] = fake.thread(CHANNEL, card.ts)[1:]
    assert reply.text.startswith(f"✅ #{proposal.id} succeeded")


async def test_a_pass_goes_on_past_a_debt_slack_refuses_on_its_own(
    fake: FakeSlack, store: SqliteProposalStore
) -> None:
    """Slack answers one debt's call with an error of its own (ok: false, internal_error), not an
    outage: that debt stays owed with one more attempt, and the debts after it are still told."""
    notifier = _keeping(fake, store)
    first, second = await _with_card(store, notifier), await _with_card(store, notifier)
    for proposal in (first, second):
        await store.owe_slack(proposal.id, SlackDebtKind.UPDATE, channel=None, error="x", now=samples.NOW)
    fake.fail_next("chat.update", error="internal_error", status=200)
    assert await SlackCatchUp(notifier).catch_up() == 1
    [owed] = await store.slack_owed()
    assert (owed.proposal_id, owed.attempts, owed.claimed_at) == (first.id, 1, None)
    assert await SlackCatchUp(notifier).catch_up() == 1 and await store.slack_owed() == []


async def test_a_debt_the_store_cannot_keep_is_logged_as_lost(
    fake: FakeSlack, store: SqliteProposalStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Recording an owed card fails: an ERROR names the proposal and says it will not be told later."""
    notifier = _over(fake, _Flaky(store, owe_slack=1))
    proposal = await _stored(store)
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    assert await notifier.publish(proposal) is None
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert f"proposal {proposal.id}" in record.getMessage()
    assert "will not be told later" in record.getMessage()
    assert await store.slack_owed() == []
