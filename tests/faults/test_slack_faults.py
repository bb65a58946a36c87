"""Slack failing under the bot: 429s and 5xx on chat.postMessage and chat.update.

A failure that clears is retried by the Web API client the bot is built with (after Retry-After for a
429, with backoff for a 500/503) and nobody notices. A failure that outlasts the retries never changes
what happened: the action runs, its outcome is in the store and the audit log. What Slack missed is
kept in the store's Slack outbox and told once Slack is back, from the proposal's state by then: the
card rewritten, the result posted in its thread, and a card that was never posted posted once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from faults_support import (
    ALICE,
    BOB,
    CHANNEL,
    SECRET,
    FaultEnv,
    HoldingTap,
    eventually,
    fault_env,
    healthy_regions,
    model_for_faults,
    settings_for,
)
from slack_sdk.http_retry import builtin_async_handlers, jitter

from actions.models import ProposalState
from actions.ports import AuditQuery
from bot import texts
from bot.main import RunningBot, running
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message
from bot.playground.relay import BotRelay
from pd.simulator import SimulatorServer
from tests.timing import RELAY_ACK_TIMEOUT

RETRY_AFTER = 1  # seconds; Slack sends whole seconds
# A Slack outage outlasting the client's retries (1 attempt + 2 retries per call, for every call the
# bot makes while it lasts); Retry-After 0 keeps each retry's wait under a second.
OUTAGE_ANSWERS = 60
CATCH_UP = "0.2"  # seconds between the bot's passes over what Slack missed


@pytest.fixture(autouse=True)
def no_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk adds up to a second of random wait to each retry; pinned to none, a retry waits exactly
    Retry-After (or the backoff), which is the behaviour under test, and the outages stay short."""
    still = SimpleNamespace(random=lambda: 0.0)
    monkeypatch.setattr(builtin_async_handlers, "random", still)
    monkeypatch.setattr(jitter, "random", still)


class CallClock:
    """When the fake answered each call to one Web API method made inside ``clocked``.

    The fake stamps a call as it answers it, so a wait the bot makes after an answer (Retry-After)
    is measured from that answer, however late a busy machine runs the test's own code.
    """

    def __init__(self, fake: FakeSlack, method: str) -> None:
        self.fake = fake
        self.method = method
        self._before = len(fake.calls(method))

    @property
    def times(self) -> list[float]:
        return [call.at for call in self.fake.calls(self.method)[self._before :]]


@asynccontextmanager
async def clocked(fake: FakeSlack, method: str) -> AsyncIterator[CallClock]:
    yield CallClock(fake, method)


async def drain_faults(fake: FakeSlack, method: str, *, answers: int = OUTAGE_ANSWERS) -> None:
    """Slack recovers: use up the fault answers still queued for ``method`` with unauthenticated calls
    (the fake answers a queued fault before it checks the token, and ``not_authed`` once none is left)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(answers + 1):
            async with session.post(fake.api_url + method) as answer:
                if answer.status == 200:
                    return
    raise AssertionError(f"{method} still failing after {answers} answers")


def _statuses(fake: FakeSlack, method: str) -> list[int]:
    return [c.status for c in fake.calls(method) if c.headers.get("Authorization")]


def _card_with(env: FaultEnv, card: Message, state: str) -> bool:
    return f"({state})" in env.card(card).text


async def _settled(env: FaultEnv, proposal_id: int) -> None:
    """Wait until the proposal's final result is stored and the bot is done telling Slack about it."""

    async def finished() -> bool:
        stored = await env.bot.operations.get(proposal_id)
        result = stored.result
        return (
            stored.state is ProposalState.SUCCEEDED and result is not None and result.finished_at is not None
        )

    await eventually(finished, limit=30)
    await env.bot.executor.drain()  # the follower's last card update and thread reply, retries included


async def test_a_rate_limited_card_post_is_retried_and_the_card_appears(tmp_path: Path) -> None:
    """chat.postMessage of the card answers 429 once: it is retried after Retry-After and the card is
    posted once, with its buttons."""
    status = 429
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        env.fake.fail_next("chat.postMessage", error="ratelimited", status=status, retry_after=RETRY_AFTER)
        async with clocked(env.fake, "chat.postMessage") as clock:
            card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        assert _statuses(env.fake, "chat.postMessage") == [status, 200]
        assert clock.times[1] - clock.times[0] >= RETRY_AFTER - 0.02
        assert len(env.cards()) == 1 and any(b.get("type") == "actions" for b in card.blocks)
        proposal = await env.proposal(card)
        assert proposal.message_ts == card.ts


@pytest.mark.parametrize("status", [500, 503])
async def test_a_card_post_answered_with_a_5xx_is_not_posted_a_second_time(
    tmp_path: Path, status: int
) -> None:
    """A 5xx to the card's chat.postMessage does not prove Slack did not post it, and Slack has no
    idempotency key: the post is not retried and never owed, even if Slack then rate-limits, and the
    requester is told the card is not shown yet without a promise that it will be."""
    async with fault_env(tmp_path, SLACK_CATCH_UP_SECONDS=CATCH_UP) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        env.fake.fail_next("chat.postMessage", error="fatal_error", status=status, retry_after=0)
        env.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0, times=2)
        assert (await env.relay.command(ALICE, f"transfer-leader {region} {followers[0]}")).ok
        told = await env.fake.wait_for(
            lambda: next((e for e in env.fake.ephemerals(user=ALICE) if e.text.startswith("Proposed")), None),
            timeout=30,
        )
        assert "did not show its card yet" in told.text and "answers again" not in told.text
        await asyncio.sleep(0.5)  # a few catch-up passes
        assert _statuses(env.fake, "chat.postMessage") == [status]
        assert env.cards() == [] and await env.bot.store.slack_owed() == []


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_failed_card_update_is_retried_and_the_card_shows_the_outcome(
    tmp_path: Path, status: int
) -> None:
    """chat.update fails once after the approval: it is retried and the card and thread end up right."""
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        env.fake.fail_next(
            "chat.update",
            error="ratelimited" if status == 429 else "fatal_error",
            status=status,
            retry_after=RETRY_AFTER,
        )
        async with clocked(env.fake, "chat.update") as clock:
            await env.click(BOB, card, texts.ActionId.APPROVE)
            await env.fake.wait_for(lambda: _card_with(env, card, "succeeded"), timeout=30)
        updates = _statuses(env.fake, "chat.update")
        assert updates[:2] == [status, 200] and set(updates[2:]) <= {200}
        if status == 429:
            assert clock.times[1] - clock.times[0] >= RETRY_AFTER - 0.02
        await env.fake.wait_for(
            lambda: [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal.id} succeeded")]
        )
        assert not any(b.get("type") == "actions" for b in env.card(card).blocks)


async def _outage(env: FaultEnv, *methods: str) -> None:
    for method in methods:
        env.fake.fail_next(method, error="ratelimited", status=429, retry_after=0, times=OUTAGE_ANSWERS)


async def test_an_outcome_is_recorded_while_slack_keeps_failing(tmp_path: Path) -> None:
    """Slack answers every chat.postMessage and chat.update with 429 while the action runs: the action
    still runs once, and the store and the audit log hold its outcome."""
    async with fault_env(tmp_path) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        await _outage(env, "chat.postMessage", "chat.update")
        await env.click(BOB, card, texts.ActionId.APPROVE)
        await _settled(env, proposal.id)
        rows = await env.bot.store.query_audit(AuditQuery(proposal_id=proposal.id))
        [row] = [r for r in rows if r.event == "pd_request"]
        assert row.executed_at is not None and row.result_json is not None
        assert row.result_json["state"] == "succeeded" and row.result_json["operator"] == "SUCCESS"
        assert env.operators == [("admin-transfer-leader", region)] and len(env.pd_writes()) == 1
        assert env.leader_of(region) == followers[0]
        # Every attempt failed: Slack shows the stale card, and nothing in the thread.
        assert set(_statuses(env.fake, "chat.update")) <= {429}
        # (The card's first reply, the data behind its checks, was posted before Slack started failing.)
        replies = [r for r in env.replies(card) if not r.text.startswith("🔎")]
        assert "(pending)" in env.card(card).text and replies == []
        # The approver was still told, through the response URL.
        assert any(e.text.startswith("Approved and sent") for e in env.fake.ephemerals(user=BOB))


async def test_what_slack_missed_is_told_once_slack_recovers(tmp_path: Path) -> None:
    """After an outage that outlasted the retries, the card and the thread catch up with the outcome."""
    async with fault_env(tmp_path, SLACK_CATCH_UP_SECONDS=CATCH_UP) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        card = await env.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        proposal = await env.proposal(card)
        await _outage(env, "chat.postMessage", "chat.update")
        await env.click(BOB, card, texts.ActionId.APPROVE)
        await _settled(env, proposal.id)

        await drain_faults(env.fake, "chat.postMessage")
        await drain_faults(env.fake, "chat.update")
        await env.fake.wait_for(lambda: _card_with(env, card, "succeeded"), timeout=30)
        await env.fake.wait_for(
            lambda: [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal.id} succeeded")],
            timeout=30,
        )
        assert not any(b.get("type") == "actions" for b in env.card(card).blocks)
        # Told once: no second result and no second card, and nothing is owed any more.
        await asyncio.sleep(0.5)
        results = [r for r in env.replies(card) if r.text.startswith(f"✅ #{proposal.id}")]
        assert len(results) == 1 and len(env.cards()) == 1
        assert await env.bot.store.slack_owed() == []


async def test_a_card_lost_to_an_outage_is_posted_once_slack_recovers(tmp_path: Path) -> None:
    """The card could not be posted while Slack failed; once Slack is back it appears, with its buttons."""
    async with fault_env(tmp_path, SLACK_CATCH_UP_SECONDS=CATCH_UP) as env:
        region, _leader, followers = healthy_regions(env.model)[0]
        await _outage(env, "chat.postMessage")
        assert (await env.relay.command(ALICE, f"transfer-leader {region} {followers[0]}")).ok
        told = await env.fake.wait_for(
            lambda: next((e for e in env.fake.ephemerals(user=ALICE) if e.text.startswith("Proposed")), None),
            timeout=30,
        )
        assert "did not show its card yet" in told.text
        [pending] = await env.bot.operations.pending()
        assert pending.message_ts is None

        await drain_faults(env.fake, "chat.postMessage")
        cards = await env.fake.wait_for(env.cards, timeout=30)
        assert len(cards) == 1 and any(b.get("type") == "actions" for b in cards[0].blocks)
        # Stored as a card posted at once is, so its Approve button works and the card follows.
        assert (await env.proposal(cards[0])).id == pending.id
        await env.click(BOB, cards[0], texts.ActionId.APPROVE)
        await env.fake.wait_for(lambda: _card_with(env, cards[0], "succeeded"), timeout=30)
        assert len(env.cards()) == 1 and await env.bot.store.slack_owed() == []


async def test_a_card_still_owed_at_a_restart_is_posted_once_after_it(tmp_path: Path) -> None:
    """The bot stops while the card it owes Slack is still unposted; the debt is in the database, so the
    next start posts the card once Slack answers, and a third start posts nothing more."""
    model = model_for_faults()
    async with FakeSlack() as fake, SimulatorServer(model, tick_interval=0.02) as sim:
        tap = HoldingTap(target=sim.url)
        await tap.start()
        try:
            settings = settings_for(fake, tap, tmp_path / "chatops.db", SLACK_CATCH_UP_SECONDS=CATCH_UP)
            region, _leader, followers = healthy_regions(model)[0]
            async with (
                running(settings) as bot,
                BotRelay(
                    fake, bot_url=bot.url, signing_secret=SECRET, ack_timeout=RELAY_ACK_TIMEOUT
                ) as relay,
            ):
                fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0, times=600)
                assert (await relay.command(ALICE, f"transfer-leader {region} {followers[0]}")).ok
                [owed] = await eventually(bot.store.slack_owed, limit=30)
                assert owed.kind == "card"
            await drain_faults(fake, "chat.postMessage", answers=600)
            assert _cards(fake) == []

            for _ in range(2):
                async with running(settings) as bot:
                    [card] = await fake.wait_for(lambda: _cards(fake) or None, timeout=30)

                    async def stored(bot: RunningBot = bot, card: Message = card) -> bool:
                        [pending] = await bot.operations.pending()  # the store learns the ts just after Slack
                        return pending.message_ts == card.ts and await bot.store.slack_owed() == []

                    await eventually(stored)
            assert len(_cards(fake)) == 1
        finally:
            await tap.stop()


def _cards(fake: FakeSlack) -> list[Message]:
    return [m for m in fake.messages(CHANNEL) if m.text.startswith("Proposal #")]
