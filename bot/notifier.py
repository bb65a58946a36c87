"""``SlackNotifier``: the action core's ``Notifier`` port, spoken through Slack's Web API.

    publish   chat.postMessage of the card          -> CardRef(channel, ts)
    update    chat.update of the card, in place
    progress  one message in the card's thread, posted once and then edited with chat.update
    finished  a reply in the card's thread with the result and the verification

Telling people must never change what happened: a Slack failure (429 or 5xx after the client's
retries, a channel the bot is not in, a network error) is logged and never raised. Why a call failed
is decided by ``bot.notify_failures``. When the failure is Slack's or the network's (it may clear),
what Slack missed is recorded in the store's Slack outbox, and ``bot.catchup`` tells it once Slack is
back; this port wakes the catch-up when a call succeeds again and keeps the wait Slack asked for.

A card is never posted twice. Slack has no idempotency key for chat.postMessage, so a card is retried
(by ``publish``, not by the client, whose retries judge only the last attempt) or owed only while
every failure proves Slack did not post it: a 429 (Slack refused the call before acting on it) or a
connection that was never made. After a 5xx, a timeout or a connection lost mid-call the card may be
in the channel already; it is not posted again, and the error log and
``tikv_chatops_slack_cards_in_doubt_total`` say so (the requester was told it is not shown yet).
A live update or result whose copy of the proposal has no card re-reads the store under the card's
lock, so one that races a catch-up posting the card reaches it. A thread result or a card update is
owed after any transient failure; progress lines are not owed: the result supersedes them.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from actions.clock import Clock, utc_now
from actions.models import ActionResult, Proposal, Ticket
from actions.ports import CardRef
from bot import texts
from bot.metrics import Metrics
from bot.notify_failures import SLACK_FAILURES, Failure
from bot.render.checks import details_message
from bot.render.kit import Message
from bot.render.proposal import progress_message, proposal_card, result_message
from bot.render.told import TOLD_STATES, requester_notice
from store.outbox import SlackDebt, SlackDebtKind

logger = logging.getLogger(__name__)

# Attempts at posting a card before it is owed (as the client's retry handlers: one and two retries),
# and the longest Retry-After waited for inline; a longer one is left to the catch-up.
CARD_ATTEMPTS = 3
CARD_RETRY_WAIT_MAX = 10.0


class Tickets(Protocol):
    """Where a card finds the ticket (the agent's finding) its proposal answers."""

    async def ticket(self, ticket_id: int) -> Ticket | None: ...


class Ledger(Protocol):
    """The store as the notifier uses it: proposals' current state, their cards and the Slack outbox
    (``store.sqlite.SqliteProposalStore``)."""

    async def get_proposal(self, proposal_id: int) -> Proposal | None: ...

    async def set_card(self, proposal_id: int, *, channel: str, message_ts: str) -> None: ...

    async def owe_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, channel: str | None, error: str, now: datetime
    ) -> SlackDebt: ...

    async def slack_owed(self, *, limit: int = 100, proposal_id: int | None = None) -> list[SlackDebt]: ...

    async def claim_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, now: datetime, stale_before: datetime
    ) -> SlackDebt | None: ...

    async def release_slack(
        self, proposal_id: int, kind: SlackDebtKind, *, error: str, now: datetime
    ) -> None: ...

    async def settle_slack(self, proposal_id: int, kind: SlackDebtKind, *, generation: int) -> bool: ...

    async def forget_slack(self, proposal_id: int, kind: SlackDebtKind) -> None: ...


@dataclass
class _Held:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding or waiting


@dataclass
class SlackPace:
    """What the live port learns about Slack that the catch-up (``bot.catchup``) paces itself by."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set by a success while something is owed
    maybe_owed: bool = True  # until a catch-up pass has looked (debts survive restarts)
    not_before: float = 0.0  # loop time before which Slack asked not to be called again


class SlackNotifier:
    """Posts and rewrites proposal cards and their threads; records in the outbox what Slack missed."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        default_channel: str | None = None,
        tickets: Tickets | None = None,
        ledger: Ledger | None = None,
        clock: Clock = utc_now,
        metrics: Metrics | None = None,
    ) -> None:
        self._client = client
        # Calls made ``once`` skip the client's retries: a card post judges each attempt itself, and the
        # catch-up's interval (or Slack's Retry-After) is its retry, so a card's claim covers one request.
        self._client_once = copy.copy(client)
        self._client_once.retry_handlers = []
        self._default_channel = default_channel
        self._tickets = tickets
        self._ledger = ledger  # None: failures are only logged (nothing is told later)
        self._clock = clock
        self._metrics = metrics
        self._progress: dict[int, tuple[str, str]] = {}  # proposal id -> (channel, ts) of its progress line
        self._told: set[tuple[int, str]] = set()  # (proposal id, state) whose requester was told
        self._locks: dict[int, asyncio.Lock] = {}
        # One writer of a card at a time: a catch-up reads the state and rewrites the card under it, so
        # a live update cannot land between the two and be overwritten by an older state.
        self._card_locks: dict[int, _Held] = {}
        self.pace = SlackPace()

    @property
    def ledger(self) -> Ledger | None:
        """Where what Slack missed is kept (None: failures are only logged)."""
        return self._ledger

    @property
    def default_channel(self) -> str | None:
        return self._default_channel

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def metrics(self) -> Metrics | None:
        return self._metrics

    # --- the Notifier port -----------------------------------------------------------------------

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        target = channel or proposal.channel or self._default_channel
        if target is None:
            logger.warning(
                "proposal %s has no channel to post its card in (set PROPOSAL_CHANNEL)", proposal.id
            )
            return None
        card = await self.card(proposal)
        # Not through the client's retries: they would judge only the last attempt, and a 429 after a
        # 503 would make a card Slack may have posted look unsent. Retried here only while every
        # failure so far proves Slack did not post it.
        for attempt in range(CARD_ATTEMPTS):
            response, failure = await self.call(
                "chat_postMessage", proposal, once=True, channel=target, **card.payload()
            )
            if failure is None:
                ref = CardRef(channel=str(response.get("channel") or target), message_ts=str(response["ts"]))
                await self._post_details(proposal, ref)
                return ref
            if not (failure.transient and failure.unsent):
                # Refused for good, or Slack may have it: never owed, so no catch-up posts it again.
                if failure.transient:
                    self.in_doubt(proposal.id, failure)
                return None
            wait = failure.retry_after if failure.retry_after is not None else 0.5 * 2**attempt
            if attempt + 1 == CARD_ATTEMPTS or wait > CARD_RETRY_WAIT_MAX:
                await self._owe(proposal.id, SlackDebtKind.CARD, failure, channel=target)
                return None
            await asyncio.sleep(wait)
        return None  # not reached: the last attempt returns above

    async def _post_details(self, proposal: Proposal, ref: CardRef) -> None:
        """The data behind the card's checks, as the first reply in its thread (best-effort)."""
        details = details_message(texts.CHECK_DETAILS.format(id=proposal.id), proposal.preflight)
        if details is None:
            return
        posted = proposal.model_copy(update={"channel": ref.channel, "message_ts": ref.message_ts})
        await self.reply(posted, details, once=True)

    async def update(self, proposal: Proposal) -> None:
        if proposal.channel is None or proposal.message_ts is None:
            # A catch-up may be posting the card from the state it read before this change: rewrite
            # the card it stored (from the stored state).
            current = await self._stored_with_card(proposal.id, owed=SlackDebtKind.UPDATE)
            if current is None:
                return
            proposal = current
        async with self.card_lock(proposal.id):
            _, failure = await self.call(
                "chat_update",
                proposal,
                channel=proposal.channel,
                ts=proposal.message_ts,
                **(await self.card(proposal)).payload(),
            )
        if failure is not None and failure.transient:
            await self._owe(proposal.id, SlackDebtKind.UPDATE, failure)
        await self._tell_requester(proposal)

    async def _tell_requester(self, proposal: Proposal) -> None:
        """Mention the requester in the thread, once, when their proposal will not run."""
        told = (proposal.id, proposal.state.value)
        if proposal.state not in TOLD_STATES or told in self._told:
            return
        notice = requester_notice(proposal)
        if notice is None:
            return
        self._told.add(told)
        await self.reply(proposal, notice, once=True)

    async def _stored_with_card(self, proposal_id: int, *, owed: SlackDebtKind) -> Proposal | None:
        """The stored proposal when a card is on record for it, for a caller whose copy has none.

        A catch-up may have posted the card since, or be posting it now: waiting for the card lock
        waits for it. None when there is still no card; if the card itself is owed, ``owed`` (the
        caller's update or result) is owed with it, and the catch-up tells both.
        """
        if self._ledger is None:
            return None
        async with self.card_lock(proposal_id):
            current = await self._reread(proposal_id)
            if current is None or current.channel is None or current.message_ts is None:
                if await self.card_owed(proposal_id):
                    await self._owe(proposal_id, owed, None)
                return None
        return current

    async def card(self, proposal: Proposal) -> Message:
        ticket_id = proposal.request.ticket_id
        finding = None
        if ticket_id is not None and self._tickets is not None:
            finding = await self._tickets.ticket(ticket_id)
        return proposal_card(proposal, finding=finding)

    async def progress(self, proposal: Proposal, text: str) -> None:
        if proposal.channel is None or proposal.message_ts is None:
            return
        message = progress_message(proposal, text)
        # One progress line per proposal: concurrent polls must not both post a first message.
        async with self._locks.setdefault(proposal.id, asyncio.Lock()):
            known = self._progress.get(proposal.id)
            if known is not None:
                await self.call("chat_update", proposal, channel=known[0], ts=known[1], **message.payload())
                return
            response, _ = await self.reply(proposal, message)
            if response is not None:
                self._progress[proposal.id] = (
                    str(response.get("channel") or proposal.channel),
                    str(response["ts"]),
                )

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        if proposal.channel is None or proposal.message_ts is None:
            current = await self._stored_with_card(proposal.id, owed=SlackDebtKind.RESULT)
            if current is None:
                return
            proposal = proposal.model_copy(
                update={"channel": current.channel, "message_ts": current.message_ts}
            )
        _, failure = await self.reply(proposal, result_message(proposal, result))
        self._progress.pop(proposal.id, None)
        self._locks.pop(proposal.id, None)
        if failure is not None and failure.transient:
            await self._owe(proposal.id, SlackDebtKind.RESULT, failure)

    async def reply(
        self, proposal: Proposal, message: Message, *, once: bool = False
    ) -> tuple[Any, Failure | None]:
        return await self.call(
            "chat_postMessage",
            proposal,
            once=once,
            channel=proposal.channel,
            thread_ts=proposal.message_ts,
            **message.payload(),
        )

    async def call(
        self, method: str, proposal: Proposal, *, once: bool = False, **kwargs: Any
    ) -> tuple[Any, Failure | None]:
        """The call's response, or the reason it failed (logged here, never raised); ``once``: without
        the client's retries."""
        client = self._client_once if once else self._client
        try:
            response = await getattr(client, method)(**kwargs)
        except SLACK_FAILURES as exc:
            failure = Failure.of(exc)
            logger.warning(
                "Slack %s for proposal %s failed (%s); the proposal's outcome is unchanged",
                method,
                proposal.id,
                failure.reason,
                exc_info=not failure.transient,  # a refusal for good may be our bug: show where
            )
            if failure.retry_after is not None:
                self.pace.not_before = asyncio.get_running_loop().time() + failure.retry_after
            return None, failure
        # Slack answers: whatever it missed can be told now rather than at the next interval.
        if self.pace.maybe_owed:
            self.pace.wake.set()
        return response, None

    # --- what Slack missed -----------------------------------------------------------------------

    async def _owe(
        self, proposal_id: int, kind: SlackDebtKind, failure: Failure | None, *, channel: str | None = None
    ) -> None:
        if self._ledger is None:
            return
        reason = failure.reason if failure is not None else "waiting for the card"
        try:
            await self._ledger.owe_slack(proposal_id, kind, channel=channel, error=reason, now=self._clock())
        except Exception:
            # Nowhere else to keep it: this is the only trace that Slack missed it.
            logger.exception(
                "could not record that Slack is owed proposal %s's %s (%s); it is lost and will not be "
                "told later: see /tikv pending or the audit log for the proposal's state",
                proposal_id,
                kind,
                reason,
            )
            return
        self.pace.maybe_owed = True
        logger.info("Slack is owed proposal %s's %s; it is told once Slack answers again", proposal_id, kind)

    async def _reread(self, proposal_id: int) -> Proposal | None:
        """The proposal as stored now (None when it cannot be read: logged)."""
        if self._ledger is None:
            return None
        try:
            return await self._ledger.get_proposal(proposal_id)
        except Exception:
            logger.exception("could not read proposal %s to find its card", proposal_id)
            return None

    async def card_owed(self, proposal_id: int) -> bool:
        if self._ledger is None:
            return False
        try:
            owed = await self._ledger.slack_owed(proposal_id=proposal_id)
        except Exception:
            logger.exception("could not read what Slack is owed for proposal %s", proposal_id)
            return False
        return any(d.kind is SlackDebtKind.CARD for d in owed)

    def in_doubt(self, proposal_id: int, failure: Failure) -> None:
        logger.error(
            "the card of proposal %s may or may not have been posted (%s); it is not posted again so it "
            "cannot show twice: find it in the channel, or propose again if it is not there",
            proposal_id,
            failure.reason,
        )
        if self._metrics is not None:
            self._metrics.slack_cards_in_doubt.inc()

    @asynccontextmanager
    async def card_lock(self, proposal_id: int) -> AsyncIterator[None]:
        # Counted, so the lock is dropped only once nobody holds or waits for it (a lock that merely
        # looks free may already be promised to a waiter).
        held = self._card_locks.setdefault(proposal_id, _Held())
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            held.users -= 1
            if held.users == 0:
                del self._card_locks[proposal_id]
