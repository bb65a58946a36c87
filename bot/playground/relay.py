"""Slack's side of the conversation with a bot: signed requests out, acks shown the way Slack shows them.

``BotRelay`` plays a Slack client for the people in the fake workspace. It builds the request Slack
would send (issuing a trigger id and a response URL on the fake), signs it, POSTs it to the bot and
applies the answer as Slack's client would:

- a slash command's ack text or message becomes an ephemeral for the user (or a channel message for
  ``response_type: in_channel``); no ack within 3 s, or a failure, shows Slack's error line instead;
- a ``view_submission`` ack closes, updates, pushes or clears the modal, or puts
  ``response_action: errors`` under the inputs;
- a ``block_actions`` ack carries nothing Slack shows; a failure is reported in the ``Delivery``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.playground import limits, signing
from bot.playground.errors import NotFound
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import JSON, Channel, User, View
from bot.playground.workspace import find_element

ACK_TIMEOUT = 3.0  # Slack gives up on an ack after 3 seconds
DISPATCH_FAILED = "dispatch_failed"  # the request could not be delivered at all
OPERATION_TIMEOUT = "operation_timeout"  # no answer within ACK_TIMEOUT
HTTP_SERVICE_ERROR = "http_service_error"  # the bot answered with a non-2xx status
TROUBLE_CONNECTING = "We had some trouble connecting. Try again?"  # what a modal shows for the same


@dataclass(frozen=True)
class Delivery:
    """What happened to one request sent to the bot.

    ``status`` is None when no HTTP answer came (refused connection, timeout); ``error`` is the code
    Slack would show the user, None on success.
    """

    kind: str
    status: int | None
    body: str
    content_type: str
    elapsed: float
    error: str | None
    request_body: bytes

    @property
    def ok(self) -> bool:
        """Whether the bot acknowledged in time."""
        return self.error is None

    def json(self) -> JSON | None:
        """The ack's JSON body, when it is one."""
        if not self.body.startswith("{"):
            return None
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def events_url(bot_url: str) -> str:
    """``bot_url`` with Bolt's default ``/slack/events`` path added when it has no path."""
    return bot_url.rstrip("/") + "/slack/events" if urlsplit(bot_url).path in ("", "/") else bot_url


class BotRelay:
    """Sends the bot what Slack would for the fake workspace's users, and applies its acks."""

    def __init__(
        self,
        fake: FakeSlack,
        *,
        bot_url: str,
        signing_secret: str,
        session: aiohttp.ClientSession | None = None,
        ack_timeout: float = ACK_TIMEOUT,
    ) -> None:
        self.fake = fake
        self.bot_url = events_url(bot_url)
        self._secret = signing_secret
        self._session = session
        self._owns_session = session is None
        self._ack_timeout = ack_timeout
        # Set to play requests arriving through another workspace than the fake's (the payload's team).
        self.payload_team_id: str | None = None

    async def __aenter__(self) -> BotRelay:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session, if the relay opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    # the three things people do

    async def command(
        self, user_id: str, text: str, *, channel_id: str | None = None, command: str = "/tikv"
    ) -> Delivery:
        """``user_id`` types ``{command} {text}`` in the channel (the workspace's first by default)."""
        ws = self.fake.workspace
        user, channel = ws.user(user_id), self._channel(channel_id)
        body = signing.slash_command_body(
            self._actor(user),
            text=text,
            channel_id=channel.id,
            channel_name=channel.name,
            response_url=ws.response_url(channel.id, user.id),
            trigger_id=ws.issue_trigger(user.id),
            command=command,
        )
        delivery = await self._send("slash_command", body)
        self._show_command_ack(delivery, user, channel, f"{command} {text}".strip())
        return delivery

    async def click(
        self,
        user_id: str,
        *,
        action_id: str,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
        value: Any = None,
    ) -> Delivery:
        """``user_id`` clicks a button (or picks ``value`` in a select) in a message or in a modal.

        ``value`` defaults to the button's own value. A message is looked up among the channel's
        messages and replies, then among the user's ephemerals.
        """
        ws = self.fake.workspace
        user = ws.user(user_id)
        actor = self._actor(user)
        action_ts = f"{time.time():.6f}"
        if view_id is not None:
            view = ws.view(view_id)
            found_block, element = find_element(view.blocks, action_id, block_id)
            payload = signing.block_actions_payload(
                actor,
                action=signing.action_json(element, block_id=found_block, action_ts=action_ts, value=value),
                trigger_id=ws.issue_trigger(user.id),
                view=view.to_slack(),
            )
            return await self._send("block_actions", signing.interaction_body(payload))
        channel = self._channel(channel_id)
        if message_ts is None:
            raise NotFound("a click names a message_ts or a view_id")
        message = ws.find_message(channel.id, message_ts)
        ephemeral = ws.find_ephemeral(user.id, message_ts) if message is None else None
        if message is None and ephemeral is None:
            raise NotFound(f"no message {message_ts} in {channel.id}")
        source = message if message is not None else ephemeral
        blocks = source.blocks if source is not None else []
        # A reply's response URL answers into its thread, where the click happened.
        thread_ts = source.thread_ts if source is not None and source.thread_ts != message_ts else None
        found_block, element = find_element(blocks, action_id, block_id)
        # A choice in a select is also in the message's state, as Slack reports it with the action.
        chosen = (
            {found_block: {action_id: value}} if element.get("type") != "button" and value is not None else {}
        )
        payload = signing.block_actions_payload(
            actor,
            action=signing.action_json(element, block_id=found_block, action_ts=action_ts, value=value),
            trigger_id=ws.issue_trigger(user.id),
            channel_id=channel.id,
            channel_name=channel.name,
            message=message.to_slack() if message is not None else None,
            message_ts=message_ts,
            is_ephemeral=message is None,
            response_url=ws.response_url(
                channel.id, user.id, message_ts=message_ts, ephemeral=message is None, thread_ts=thread_ts
            ),
            state=signing.state_values(blocks, chosen),
        )
        return await self._send("block_actions", signing.interaction_body(payload))

    async def submit(
        self, user_id: str, *, view_id: str, values: Mapping[str, Mapping[str, Any]]
    ) -> Delivery:
        """``user_id`` presses the modal's submit button with ``values`` (block_id → action_id → value)."""
        ws = self.fake.workspace
        user, view = ws.user(user_id), ws.view(view_id)
        view.state_values = signing.state_values(view.blocks, values)
        payload = signing.view_submission_payload(
            self._actor(user),
            view=view.to_slack(),
            state=view.state_values,
            trigger_id=ws.issue_trigger(user.id),
        )
        delivery = await self._send("view_submission", signing.interaction_body(payload))
        self._apply_view_ack(delivery, view)
        return delivery

    async def close_view(self, user_id: str, *, view_id: str) -> Delivery | None:
        """``user_id`` dismisses the modal; the bot hears of it only with ``notify_on_close``."""
        ws = self.fake.workspace
        user, view = ws.user(user_id), ws.view(view_id)
        ws.close_view(view)
        if not view.spec.get("notify_on_close"):
            return None
        payload = signing.view_closed_payload(self._actor(user), view=view.to_slack())
        return await self._send("view_closed", signing.interaction_body(payload))

    # sending

    def _actor(self, user: User) -> signing.Actor:
        ws = self.fake.workspace
        return signing.Actor(
            user_id=user.id,
            user_name=user.name,
            team_id=self.payload_team_id or ws.team.id,
            team_domain=ws.team.domain,
            api_app_id=ws.bot.app_id,
            user_team_id=user.home_team(ws.team.id),
        )

    def _channel(self, channel_id: str | None) -> Channel:
        ws = self.fake.workspace
        channel = ws.channel(channel_id) if channel_id else next(iter(ws.channels), None)
        if channel is None:
            raise NotFound(f"no channel {channel_id!r}")
        return channel

    async def home_opened(self, user_id: str) -> Delivery:
        """``user_id`` opens the app's Home tab: Slack sends ``app_home_opened``."""
        ws = self.fake.workspace
        user = ws.user(user_id)
        event = {"type": "app_home_opened", "user": user.id, "channel": f"D{user.id}", "tab": "home"}
        body = signing.event_body(self._actor(user), event, bot_user_id=ws.bot.user_id)
        return await self._send("event", body, content_type=signing.JSON_BODY)

    async def _send(self, kind: str, body: bytes, *, content_type: str = signing.FORM) -> Delivery:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = signing.sign_request(self._secret, body, content_type=content_type)
        headers["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)"
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self._ack_timeout):
                async with self._session.post(self.bot_url, data=body, headers=headers) as response:
                    text = await response.text()
                    status, content_type = response.status, response.content_type
        except TimeoutError:
            return Delivery(kind, None, "", "", loop.time() - started, OPERATION_TIMEOUT, body)
        except aiohttp.ClientError:
            return Delivery(kind, None, "", "", loop.time() - started, DISPATCH_FAILED, body)
        error = None if 200 <= status < 300 else HTTP_SERVICE_ERROR
        return Delivery(kind, status, text, content_type, loop.time() - started, error, body)

    # what Slack's client shows

    def _show_command_ack(self, delivery: Delivery, user: User, channel: Channel, typed: str) -> None:
        ws = self.fake.workspace
        if delivery.error is not None:
            command = typed.split(" ", 1)[0]
            ws.add_ephemeral(
                channel.id,
                user.id,
                text=f'{command} failed with the error "{delivery.error}"',
                source="slackbot",
                sender="USLACKBOT",
            )
            return
        message = delivery.json()
        if message is None:
            if delivery.body.strip():
                ws.add_ephemeral(channel.id, user.id, text=delivery.body, source="ack")
            return
        text, blocks = str(message.get("text") or ""), message.get("blocks") or []
        if not text and not blocks:
            return
        if message.get("response_type") == "in_channel":
            ws.post(channel, text=text, blocks=blocks)
        else:
            ws.add_ephemeral(channel.id, user.id, text=text, blocks=blocks, source="ack")

    def _apply_view_ack(self, delivery: Delivery, view: View) -> None:
        ws = self.fake.workspace
        if delivery.error is not None:
            view.notice = TROUBLE_CONNECTING
            ws.touch()
            return
        ack = delivery.json() or {}
        action = ack.get("response_action")
        new_view = ack.get("view")
        if action == "errors":
            inputs = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
            errors = {str(k): str(v) for k, v in dict(ack.get("errors") or {}).items()}
            view.errors = {k: v for k, v in errors.items() if k in inputs}
            # Errors keyed by anything but an input block's id show nothing but this (§2.3).
            view.notice = None if view.errors else TROUBLE_CONNECTING
            ws.touch()
        elif action in ("update", "push") and (not isinstance(new_view, dict) or limits.check_view(new_view)):
            view.notice = TROUBLE_CONNECTING
            ws.touch()
        elif action == "update" and isinstance(new_view, dict):
            ws.update_view(view, new_view)
        elif action == "push" and isinstance(new_view, dict):
            ws.open_view(view.user, new_view, trigger_id=None, push=True)
        elif action == "clear":
            ws.clear_views(view.user)
        else:
            ws.close_view(view)
