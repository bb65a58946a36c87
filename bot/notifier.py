"""``SlackNotifier``: the action core's ``Notifier`` port, spoken through Slack's Web API.

    publish   chat.postMessage of the card          -> CardRef(channel, ts)
    update    chat.update of the card, in place
    progress  one message in the card's thread, posted once and then edited with chat.update
    finished  a reply in the card's thread with the result and the verification

Telling people must never change what happened: a Slack failure (429 or 5xx after the client's
retries, a channel the bot is not in, a network error) is logged and swallowed here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actions.models import ActionResult, Proposal, Ticket
from actions.ports import CardRef
from bot.render.kit import Message
from bot.render.proposal import progress_message, proposal_card, result_message

logger = logging.getLogger(__name__)

# Everything a Web API call can fail with once the client has given up retrying.
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class Tickets(Protocol):
    """Where a card finds the ticket (the agent's finding) its proposal answers."""

    async def ticket(self, ticket_id: int) -> Ticket | None: ...


class SlackNotifier:
    """Posts and rewrites proposal cards and their threads."""

    def __init__(
        self, client: AsyncWebClient, *, default_channel: str | None = None, tickets: Tickets | None = None
    ) -> None:
        self._client = client
        self._default_channel = default_channel
        self._tickets = tickets
        self._progress: dict[int, tuple[str, str]] = {}  # proposal id -> (channel, ts) of its progress line
        self._locks: dict[int, asyncio.Lock] = {}

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        target = channel or proposal.channel or self._default_channel
        if target is None:
            logger.warning(
                "proposal %s has no channel to post its card in (set PROPOSAL_CHANNEL)", proposal.id
            )
            return None
        card = await self._card(proposal)
        response = await self._call("chat_postMessage", proposal, channel=target, **card.payload())
        if response is None:
            return None
        return CardRef(channel=str(response.get("channel") or target), message_ts=str(response["ts"]))

    async def update(self, proposal: Proposal) -> None:
        if proposal.channel is None or proposal.message_ts is None:
            return
        await self._call(
            "chat_update",
            proposal,
            channel=proposal.channel,
            ts=proposal.message_ts,
            **(await self._card(proposal)).payload(),
        )

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
            response = await self._reply(proposal, message)
            if response is not None:
                self._progress[proposal.id] = (
                    str(response.get("channel") or proposal.channel),
                    str(response["ts"]),
                )

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        if proposal.channel is None or proposal.message_ts is None:
            return
        await self._reply(proposal, result_message(proposal, result))
        self._progress.pop(proposal.id, None)
        self._locks.pop(proposal.id, None)

    async def _reply(self, proposal: Proposal, message: Message) -> Any:
        return await self._call(
            "chat_postMessage",
            proposal,
            channel=proposal.channel,
            thread_ts=proposal.message_ts,
            **message.payload(),
        )

    async def _call(self, method: str, proposal: Proposal, **kwargs: Any) -> Any:
        try:
            return await getattr(self._client, method)(**kwargs)
        except SLACK_FAILURES:
            logger.exception(
                "Slack %s for proposal %s failed; the proposal's outcome is unchanged", method, proposal.id
            )
            return None
