"""``SlackNotifier``: the action core's ``Notifier`` port, spoken through Slack's Web API.

    publish   chat.postMessage of the card          -> CardRef(channel, ts)
    update    chat.update of the card, in place
    progress  one message in the card's thread, posted once and then edited with chat.update
    finished  a reply in the card's thread with the result and the verification

Telling people must never change what happened: a Slack failure (429 or 5xx after the client's
retries, a channel the bot is not in, a network error) is logged and never raised. When the failure is
Slack's or the network's (it may clear), what Slack missed is recorded in the store's Slack outbox and
``catch_up`` tells it once Slack is back, rendered from the proposal's state at that moment:

    card     the card is posted and its CardRef stored (``set_card``, as for a card posted at once)
    update   the card is rewritten to the current state
    result   the current result is posted in the card's thread

A card is never posted twice. Slack has no idempotency key for chat.postMessage, so a card is retried
(by ``publish``, not by the client, whose retries judge only the last attempt) or owed only while
every failure proves Slack did not post it: a 429 (Slack refused the call before acting on it) or a
connection that was never made. After a 5xx, a timeout or a connection lost mid-call the card may be
in the channel already; it is not posted again, and the error log and
``tikv_chatops_slack_cards_in_doubt_total`` say so (the requester was told it is not shown yet).
A live update or result whose copy of the proposal has no card re-reads the store under the card's
lock, so one that races a catch-up posting the card reaches it.
A catch-up claims each debt in the store before calling Slack, so a card whose claim a crash left
behind is treated the same way. A thread result or a card update is owed after any such failure: an
update is idempotent, and a result posted twice is a repeated line in a thread with no buttons, which
is better than a result never told. Progress lines are not owed: the result supersedes them.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actions.clock import Clock, utc_now
from actions.models import ActionResult, Proposal, Ticket
from actions.ports import CardRef
from bot import texts
from bot.metrics import Metrics
from bot.render.checks import details_message
from bot.render.kit import Message
from bot.render.proposal import progress_message, proposal_card, result_message
from bot.render.told import TOLD_STATES, requester_notice
from store.outbox import SlackDebt, SlackDebtKind

logger = logging.getLogger(__name__)

# Everything a Web API call can fail with once the client has given up retrying.
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)

# Slack's answers that say the failure is Slack's and may clear (besides HTTP 429 and 5xx).
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
# Of those, the ones that prove Slack did not act on the call (its docs say a fatal or internal error
# may have done part of the work).
_UNSENT_ERRORS = frozenset({"ratelimited", "request_timeout"})

# Attempts at posting a card before it is owed (as the client's retry handlers: one and two retries),
# and the longest Retry-After waited for inline; a longer one is left to the catch-up.
CARD_ATTEMPTS = 3
CARD_RETRY_WAIT_MAX = 10.0
# A claim older than this was abandoned (its process died mid-call): longer than one Web API call with
# the client's retries and their Retry-After waits.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Debts read per catch-up pass; the rest wait for the next pass.
CATCH_UP_BATCH = 100
# A success elsewhere wakes the catch-up early, but not more often than this (seconds).
WAKE_GAP = 1.0


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


@dataclass(frozen=True)
class Failure:
    """Why a Web API call failed, as far as telling Slack again is concerned."""

    reason: str
    transient: bool  # Slack's or the network's failure: it may clear, so tell it again later
    unsent: bool  # the failure proves Slack did not act on the call
    retry_after: float | None = None  # seconds Slack asked us to wait
    # Slack as a whole (or the way to it) is failing, not this one call: a rate limit, a 5xx, the
    # network. A catch-up pass stops at such a failure and goes on past any other.
    outage: bool = True

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, SlackApiError):
            status = int(getattr(exc.response, "status_code", 0) or 0)
            error = str(exc.response.get("error") or "") if exc.response is not None else ""
            reason = f"HTTP {status} {error}".strip()
            limited = status == 429 or error in _UNSENT_ERRORS
            transient = limited or status >= 500 or error in _TRANSIENT_ERRORS
            outage = status == 429 or status >= 500 or error == "ratelimited"
            return cls(
                reason, transient=transient, unsent=limited, retry_after=_retry_after(exc), outage=outage
            )
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        # A connection that was never made carried nothing; one lost mid-call may have.
        return cls(reason, transient=True, unsent=isinstance(exc, aiohttp.ClientConnectorError))


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value[0] if isinstance(value, list) else value) if value is not None else None
    except ValueError:
        return None


@dataclass
class _Held:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding or waiting


@dataclass
class _Flight:
    sent: bool = False  # the card's chat.postMessage has started: Slack may have it from now on


class _Paid(Enum):
    PAID = "paid"  # Slack accepted it
    SKIPPED = "skipped"  # nothing to do (claimed elsewhere, nothing left to tell, refused for good)
    DEFERRED = "deferred"  # this one failed (Slack refused it, or the store or rendering failed): owed still
    FAILED = "failed"  # Slack as a whole is still failing: stop this pass


class SlackNotifier:
    """Posts and rewrites proposal cards and their threads, and tells Slack later what it missed."""

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
        # The catch-up calls Slack once per debt and pass: its interval (or Slack's Retry-After) is the
        # retry, and a card's claim then covers one request in flight, not the client's retry waits.
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
        self._pass = asyncio.Lock()
        self._wake = asyncio.Event()
        self._maybe_owed = True  # until a catch-up pass has looked (debts survive restarts)
        self._not_before = 0.0  # loop time before which Slack asked not to be called again

    # --- the Notifier port -----------------------------------------------------------------------

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        target = channel or proposal.channel or self._default_channel
        if target is None:
            logger.warning(
                "proposal %s has no channel to post its card in (set PROPOSAL_CHANNEL)", proposal.id
            )
            return None
        card = await self._card(proposal)
        # Not through the client's retries: they would judge only the last attempt, and a 429 after a
        # 503 would make a card Slack may have posted look unsent. Retried here only while every
        # failure so far proves Slack did not post it.
        for attempt in range(CARD_ATTEMPTS):
            response, failure = await self._call(
                "chat_postMessage", proposal, once=True, channel=target, **card.payload()
            )
            if failure is None:
                ref = CardRef(channel=str(response.get("channel") or target), message_ts=str(response["ts"]))
                await self._post_details(proposal, ref)
                return ref
            if not (failure.transient and failure.unsent):
                # Refused for good, or Slack may have it: never owed, so no catch-up posts it again.
                if failure.transient:
                    self._in_doubt(proposal.id, failure)
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
        await self._reply(posted, details, once=True)

    async def update(self, proposal: Proposal) -> None:
        if proposal.channel is None or proposal.message_ts is None:
            # A catch-up may be posting the card from the state it read before this change: rewrite
            # the card it stored (from the stored state).
            current = await self._stored_with_card(proposal.id, owed=SlackDebtKind.UPDATE)
            if current is None:
                return
            proposal = current
        async with self._card_lock(proposal.id):
            _, failure = await self._call(
                "chat_update",
                proposal,
                channel=proposal.channel,
                ts=proposal.message_ts,
                **(await self._card(proposal)).payload(),
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
        await self._reply(proposal, notice, once=True)

    async def _stored_with_card(self, proposal_id: int, *, owed: SlackDebtKind) -> Proposal | None:
        """The stored proposal when a card is on record for it, for a caller whose copy has none.

        A catch-up may have posted the card since, or be posting it now: waiting for the card lock
        waits for it. None when there is still no card; if the card itself is owed, ``owed`` (the
        caller's update or result) is owed with it, and the catch-up tells both.
        """
        if self._ledger is None:
            return None
        async with self._card_lock(proposal_id):
            current = await self._reread(proposal_id)
            if current is None or current.channel is None or current.message_ts is None:
                if await self._card_owed(proposal_id):
                    await self._owe(proposal_id, owed, None)
                return None
        return current

    async def _card(self, proposal: Proposal) -> Message:
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
                await self._call("chat_update", proposal, channel=known[0], ts=known[1], **message.payload())
                return
            response, _ = await self._reply(proposal, message)
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
        _, failure = await self._reply(proposal, result_message(proposal, result))
        self._progress.pop(proposal.id, None)
        self._locks.pop(proposal.id, None)
        if failure is not None and failure.transient:
            await self._owe(proposal.id, SlackDebtKind.RESULT, failure)

    async def _reply(
        self, proposal: Proposal, message: Message, *, once: bool = False
    ) -> tuple[Any, Failure | None]:
        return await self._call(
            "chat_postMessage",
            proposal,
            once=once,
            channel=proposal.channel,
            thread_ts=proposal.message_ts,
            **message.payload(),
        )

    async def _call(
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
                self._not_before = asyncio.get_running_loop().time() + failure.retry_after
            return None, failure
        # Slack answers: whatever it missed can be told now rather than at the next interval.
        if self._maybe_owed:
            self._wake.set()
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
        self._maybe_owed = True
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

    async def _card_owed(self, proposal_id: int) -> bool:
        if self._ledger is None:
            return False
        try:
            owed = await self._ledger.slack_owed(proposal_id=proposal_id)
        except Exception:
            logger.exception("could not read what Slack is owed for proposal %s", proposal_id)
            return False
        return any(d.kind is SlackDebtKind.CARD for d in owed)

    def _in_doubt(self, proposal_id: int, failure: Failure) -> None:
        logger.error(
            "the card of proposal %s may or may not have been posted (%s); it is not posted again so it "
            "cannot show twice: find it in the channel, or propose again if it is not there",
            proposal_id,
            failure.reason,
        )
        if self._metrics is not None:
            self._metrics.slack_cards_in_doubt.inc()

    @asynccontextmanager
    async def _card_lock(self, proposal_id: int) -> AsyncIterator[None]:
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

    async def run_catch_up(self, stop: asyncio.Event, interval: float) -> None:
        """Until ``stop`` is set: a catch-up pass at once, then every ``interval`` seconds (or as soon as
        a call to Slack succeeds while something is owed, or later if Slack asked to wait longer)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.catch_up()
            except Exception:
                logger.exception("telling Slack what it missed failed; trying again in %gs", interval)
            self._wake.clear()  # the pass's own successes say nothing new
            started = loop.time()
            delay = max(interval, self._not_before - started)
            await _first(stop, self._wake, seconds=delay)
            # Woken by a success: Slack is back, whatever it said before; still, not in a tight loop.
            if self._wake.is_set() and not stop.is_set():
                await _first(stop, seconds=max(0.0, WAKE_GAP - (loop.time() - started)))

    async def catch_up(self) -> int:
        """One pass over what Slack is owed, oldest proposal first; stops at the first call that says
        Slack is still down (a rate limit, a 5xx, the network), and goes on past a debt that failed on
        its own (Slack refused that one call, or the store or the rendering failed for it). Returns how
        many deliveries Slack accepted."""
        if self._ledger is None:
            return 0
        async with self._pass:
            debts = await self._ledger.slack_owed(limit=CATCH_UP_BATCH)
            paid = 0
            for debt in debts:
                outcome = await self._pay(self._ledger, debt)
                if outcome is _Paid.FAILED:
                    self._maybe_owed = True
                    return paid
                if outcome is _Paid.PAID:
                    paid += 1
                    if self._metrics is not None:
                        self._metrics.slack_caught_up.labels(debt.kind.value).inc()
            self._maybe_owed = len(debts) >= CATCH_UP_BATCH or bool(await self._ledger.slack_owed(limit=1))
            if paid:
                logger.info("told Slack %d thing(s) it missed", paid)
            return paid

    async def _pay(self, ledger: Ledger, debt: SlackDebt) -> _Paid:
        now = self._clock()
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
            async with self._card_lock(debt.proposal_id):
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
            await ledger.release_slack(debt.proposal_id, debt.kind, error=error, now=self._clock())
        except Exception:
            logger.exception(
                "could not release the claim on proposal %s's Slack %s; it is retried once the claim "
                "is stale (a card is then dropped as possibly posted)",
                debt.proposal_id,
                debt.kind,
            )

    async def _pay_card(self, ledger: Ledger, debt: SlackDebt, proposal: Proposal, flight: _Flight) -> _Paid:
        if proposal.message_ts is not None:
            # The card is there (stored by the live path, or by a catch-up that stopped before settling).
            await ledger.forget_slack(proposal.id, debt.kind)
            return _Paid.SKIPPED
        if debt.claimed_at is not None:
            await ledger.forget_slack(proposal.id, debt.kind)
            self._in_doubt(proposal.id, Failure("a catch-up was stopped while posting it", True, False))
            return _Paid.SKIPPED
        target = debt.channel or proposal.channel or self._default_channel
        if target is None:
            await ledger.forget_slack(proposal.id, debt.kind)
            return _Paid.SKIPPED
        card = await self._card(proposal)
        flight.sent = True
        response, failure = await self._call(
            "chat_postMessage", proposal, once=True, channel=target, **card.payload()
        )
        if failure is not None:
            if failure.transient and failure.unsent:
                await ledger.release_slack(proposal.id, debt.kind, error=failure.reason, now=self._clock())
                return _Paid.FAILED if failure.outage else _Paid.DEFERRED
            await ledger.forget_slack(proposal.id, debt.kind)
            if failure.transient:
                self._in_doubt(proposal.id, failure)
                return _Paid.FAILED if failure.outage else _Paid.SKIPPED
            return _Paid.SKIPPED
        # Stored the way a card posted at once is (Operations stores the CardRef publish returns).
        await ledger.set_card(
            proposal.id, channel=str(response.get("channel") or target), message_ts=str(response["ts"])
        )
        await ledger.settle_slack(proposal.id, debt.kind, generation=debt.generation)
        return _Paid.PAID

    async def _pay_thread(self, ledger: Ledger, debt: SlackDebt, proposal: Proposal) -> _Paid:
        if proposal.channel is None or proposal.message_ts is None:
            if await self._card_owed(proposal.id):
                # Its card is still owed (claimed elsewhere, or failing): wait for it.
                await ledger.release_slack(
                    proposal.id, debt.kind, error="waiting for the card", now=self._clock()
                )
                return _Paid.SKIPPED
            await ledger.forget_slack(proposal.id, debt.kind)  # no card will come: nowhere to tell it
            return _Paid.SKIPPED
        if debt.kind is SlackDebtKind.UPDATE:
            _, failure = await self._call(
                "chat_update",
                proposal,
                once=True,
                channel=proposal.channel,
                ts=proposal.message_ts,
                **(await self._card(proposal)).payload(),
            )
        else:
            if proposal.result is None:
                await ledger.forget_slack(proposal.id, debt.kind)
                return _Paid.SKIPPED
            _, failure = await self._reply(proposal, result_message(proposal, proposal.result), once=True)
        if failure is None:
            await ledger.settle_slack(proposal.id, debt.kind, generation=debt.generation)
            return _Paid.PAID
        if failure.transient:
            await ledger.release_slack(proposal.id, debt.kind, error=failure.reason, now=self._clock())
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
