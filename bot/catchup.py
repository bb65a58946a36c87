"""``SlackCatchUp``: tells Slack what the live port (``bot.notifier``) recorded it missed.

A debt in the store's Slack outbox is told once Slack answers again, rendered from the proposal's
state at that moment:

    card     the card is posted and its CardRef stored (``set_card``, as for a card posted at once)
    update   the card is rewritten to the current state
    result   the current result is posted in the card's thread

A catch-up claims each debt in the store before calling Slack. A card is never posted twice: a card
whose claim a crash or a stop left behind mid-post is treated as possibly posted (dropped, logged,
counted in ``tikv_chatops_slack_cards_in_doubt_total``), and a card post that fails in a way that
does not prove Slack did not post it is dropped the same way. A thread result or a card update is owed
after any such failure: an update is idempotent, and a result posted twice is a repeated line in a
thread with no buttons, which is better than a result never told.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from actions.models import Proposal
from bot.notifier import Ledger, SlackNotifier
from bot.notify_failures import Failure
from bot.render.proposal import result_message
from store.outbox import SlackDebt, SlackDebtKind

logger = logging.getLogger(__name__)

# A claim older than this was abandoned (its process died mid-call): longer than one Web API call with
# the client's retries and their Retry-After waits.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Debts read per catch-up pass; the rest wait for the next pass.
CATCH_UP_BATCH = 100
# A success elsewhere wakes the catch-up early, but not more often than this (seconds).
WAKE_GAP = 1.0


@dataclass
class _Flight:
    sent: bool = False  # the card's chat.postMessage has started: Slack may have it from now on


class _Paid(Enum):
    PAID = "paid"  # Slack accepted it
    SKIPPED = "skipped"  # nothing to do (claimed elsewhere, nothing left to tell, refused for good)
    DEFERRED = "deferred"  # this one failed (Slack refused it, or the store or rendering failed): owed still
    FAILED = "failed"  # Slack as a whole is still failing: stop this pass


class SlackCatchUp:
    """Passes over the Slack outbox, through ``notifier``'s calls, card locks and pacing."""

    def __init__(self, notifier: SlackNotifier) -> None:
        self._notifier = notifier
        self._pace = notifier.pace
        self._pass = asyncio.Lock()

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Until ``stop`` is set: a catch-up pass at once, then every ``interval`` seconds (or as soon as
        a call to Slack succeeds while something is owed, or later if Slack asked to wait longer)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._pace.wake.clear()
            try:
                await self.catch_up()
            except Exception:
                logger.exception("telling Slack what it missed failed; trying again in %gs", interval)
            self._pace.wake.clear()  # the pass's own successes say nothing new
            started = loop.time()
            delay = max(interval, self._pace.not_before - started)
            await _first(stop, self._pace.wake, seconds=delay)
            # Woken by a success: Slack is back, whatever it said before; still, not in a tight loop.
            if self._pace.wake.is_set() and not stop.is_set():
                await _first(stop, seconds=max(0.0, WAKE_GAP - (loop.time() - started)))

    async def catch_up(self) -> int:
        """One pass over what Slack is owed, oldest proposal first; stops at the first call that says
        Slack is still down (a rate limit, a 5xx, the network), and goes on past a debt that failed on
        its own (Slack refused that one call, or the store or the rendering failed for it). Returns how
        many deliveries Slack accepted."""
        ledger = self._notifier.ledger
        if ledger is None:
            return 0
        async with self._pass:
            debts = await ledger.slack_owed(limit=CATCH_UP_BATCH)
            paid = 0
            for debt in debts:
                outcome = await self._pay(ledger, debt)
                if outcome is _Paid.FAILED:
                    self._pace.maybe_owed = True
                    return paid
                if outcome is _Paid.PAID:
                    paid += 1
                    if self._notifier.metrics is not None:
                        self._notifier.metrics.slack_caught_up.labels(debt.kind.value).inc()
            self._pace.maybe_owed = len(debts) >= CATCH_UP_BATCH or bool(await ledger.slack_owed(limit=1))
            if paid:
                logger.info("told Slack %d thing(s) it missed", paid)
            return paid

    async def _pay(self, ledger: Ledger, debt: SlackDebt) -> _Paid:
        now = self._notifier.clock()
        flight = _Flight()
        claimed: SlackDebt | None = None
        # Shielded: a claim committed by a call that was cancelled would be left behind, and a card
        # debt with a stale claim is dropped as possibly posted.
        claiming = asyncio.ensure_future(
            ledger.claim_slack(debt.proposal_id, debt.kind, now=now, stale_before=now - CLAIM_TIMEOUT)
        )
        try:
            claimed = await asyncio.shield(claiming)
            if claimed is None:
                return _Paid.SKIPPED  # paid meanwhile, or another process is paying it
            async with self._notifier.card_lock(debt.proposal_id):
                proposal = await ledger.get_proposal(debt.proposal_id)
                if proposal is None:
                    await ledger.forget_slack(debt.proposal_id, debt.kind)
                    return _Paid.SKIPPED
                if claimed.kind is SlackDebtKind.CARD:
                    return await self._pay_card(ledger, claimed, proposal, flight)
                return await self._pay_thread(ledger, claimed, proposal)
        except asyncio.CancelledError:
            # Stopped (the bot is shutting down). An update or a result can safely be told again, and so
            # can a card whose post had not started; a card stopped mid-post keeps its claim, and the
            # next start treats it as possibly posted.
            if debt.kind is not SlackDebtKind.CARD or not flight.sent:
                await asyncio.shield(self._unclaim(ledger, debt, claiming, "stopped"))
            raise
        except Exception as exc:
            # Not Slack's answer (those are handled where the call is made): the store, the rendering.
            # The debt stays owed and unclaimed unless a card post may have gone out, as when stopped.
            logger.exception(
                "could not tell Slack proposal %s's %s; it stays owed", debt.proposal_id, debt.kind
            )
            if debt.kind is not SlackDebtKind.CARD or not flight.sent:
                await self._unclaim(ledger, debt, claiming, f"{type(exc).__name__}: {exc}")
            return _Paid.DEFERRED

    async def _unclaim(
        self, ledger: Ledger, debt: SlackDebt, claiming: asyncio.Future[SlackDebt | None], error: str
    ) -> None:
        """Drop this pass's claim on ``debt``, if it made one."""
        try:
            if await claiming is None:
                return
        except Exception:
            return  # the claim itself failed: there is none to drop
        try:
            await ledger.release_slack(debt.proposal_id, debt.kind, error=error, now=self._notifier.clock())
        except Exception:
            logger.exception(
                "could not release the claim on proposal %s's Slack %s; it is retried once the claim "
                "is stale (a card is then dropped as possibly posted)",
                debt.proposal_id,
                debt.kind,
            )

    async def _pay_card(self, ledger: Ledger, debt: SlackDebt, proposal: Proposal, flight: _Flight) -> _Paid:
        notifier = self._notifier
        if proposal.message_ts is not None:
            # The card is there (stored by the live path, or by a catch-up that stopped before settling).
            await ledger.forget_slack(proposal.id, debt.kind)
            return _Paid.SKIPPED
        if debt.claimed_at is not None:
            await ledger.forget_slack(proposal.id, debt.kind)
            notifier.in_doubt(proposal.id, Failure("a catch-up was stopped while posting it", True, False))
            return _Paid.SKIPPED
        target = debt.channel or proposal.channel or notifier.default_channel
        if target is None:
            await ledger.forget_slack(proposal.id, debt.kind)
            return _Paid.SKIPPED
        card = await notifier.card(proposal)
        flight.sent = True
        response, failure = await notifier.call(
            "chat_postMessage", proposal, once=True, channel=target, **card.payload()
        )
        if failure is not None:
            if failure.transient and failure.unsent:
                await ledger.release_slack(proposal.id, debt.kind, error=failure.reason, now=notifier.clock())
                return _Paid.FAILED if failure.outage else _Paid.DEFERRED
            await ledger.forget_slack(proposal.id, debt.kind)
            if failure.transient:
                notifier.in_doubt(proposal.id, failure)
                return _Paid.FAILED if failure.outage else _Paid.SKIPPED
            return _Paid.SKIPPED
        # Stored the way a card posted at once is (Operations stores the CardRef publish returns).
        await ledger.set_card(
            proposal.id, channel=str(response.get("channel") or target), message_ts=str(response["ts"])
        )
        await ledger.settle_slack(proposal.id, debt.kind, generation=debt.generation)
        return _Paid.PAID

    async def _pay_thread(self, ledger: Ledger, debt: SlackDebt, proposal: Proposal) -> _Paid:
        notifier = self._notifier
        if proposal.channel is None or proposal.message_ts is None:
            if await notifier.card_owed(proposal.id):
                # Its card is still owed (claimed elsewhere, or failing): wait for it.
                await ledger.release_slack(
                    proposal.id, debt.kind, error="waiting for the card", now=notifier.clock()
                )
                return _Paid.SKIPPED
            await ledger.forget_slack(proposal.id, debt.kind)  # no card will come: nowhere to tell it
            return _Paid.SKIPPED
        if debt.kind is SlackDebtKind.UPDATE:
            _, failure = await notifier.call(
                "chat_update",
                proposal,
                once=True,
                channel=proposal.channel,
                ts=proposal.message_ts,
                **(await notifier.card(proposal)).payload(),
            )
        else:
            if proposal.result is None:
                await ledger.forget_slack(proposal.id, debt.kind)
                return _Paid.SKIPPED
            _, failure = await notifier.reply(proposal, result_message(proposal, proposal.result), once=True)
        if failure is None:
            await ledger.settle_slack(proposal.id, debt.kind, generation=debt.generation)
            return _Paid.PAID
        if failure.transient:
            await ledger.release_slack(proposal.id, debt.kind, error=failure.reason, now=notifier.clock())
            return _Paid.FAILED if failure.outage else _Paid.DEFERRED
        await ledger.forget_slack(proposal.id, debt.kind)  # refused for good (message gone, no access)
        return _Paid.SKIPPED


async def _first(*events: asyncio.Event, seconds: float) -> None:
    """Return when any of ``events`` is set, or after ``seconds``."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
