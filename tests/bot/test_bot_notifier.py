"""SlackNotifier: the card posted and rewritten in place, one progress line, the result in the thread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import bot_samples as samples
import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from actions.models import ProposalState, Source, Ticket
from bot.app import build_web_client
from bot.notifier import SlackNotifier
from bot.playground.fake_slack import FakeSlack
from bot.tickets import StoreTickets

CHANNEL = "C0OPS"


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
    for step in range(5):
        await notifier.progress(proposal, f"admin-transfer-leader on region 12: RUNNING step {step}")
    replies = fake.thread(CHANNEL, card.message_ts)[1:]
    assert len(replies) == 1 and "step 4" in replies[0].text
    assert len(fake.calls("chat.update")) == 4
    await notifier.finished(proposal, samples.result(proposal))
    replies = fake.thread(CHANNEL, card.message_ts)[1:]
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
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200]
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
