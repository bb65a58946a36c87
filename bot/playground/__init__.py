"""The local stand-in for Slack: a fake Web API that records every call, and a page that plays a channel.

- ``FakeSlack`` (``fake_slack``): the Web API the unchanged bot calls through ``SLACK_API_URL``;
  e2e tests read what the bot did from it (``calls``, ``messages``, ``thread``, ``views``…).
- ``signing``: Slack's v0 signature and the request bodies Slack sends (slash command,
  ``block_actions``, ``view_submission``).
- ``BotRelay`` (``relay``): sends those requests for a chosen user and applies the acks.
- ``Playground`` / ``run_playground`` (``server``): the page on http://127.0.0.1:3000 plus the fake.

Errors: see ``bot.playground.errors``.
"""

from __future__ import annotations

from bot.playground.errors import MethodError, NotFound, PlaygroundError, WaitTimeout
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Call, Channel, Ephemeral, Message, User, Usergroup, View
from bot.playground.relay import BotRelay, Delivery
from bot.playground.server import Playground, run_playground
from bot.playground.signing import sign_request

__all__ = [
    "BotRelay",
    "Call",
    "Channel",
    "Delivery",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "MethodError",
    "NotFound",
    "Playground",
    "PlaygroundError",
    "User",
    "Usergroup",
    "View",
    "WaitTimeout",
    "run_playground",
    "sign_request",
]
