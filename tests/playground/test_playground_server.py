"""The playground server: the page, and its JSON API forwarding signed requests to a stub bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground import Playground

SECRET = "server-test-secret"
TOKEN = "xoxb-server-test"
CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*remove-peer* 7 on store 4"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": "p-7",
                "confirm": {
                    "title": {"type": "plain_text", "text": "Remove a peer?"},
                    "text": {"type": "plain_text", "text": "Region 7 loses its peer on store 4."},
                    "confirm": {"type": "plain_text", "text": "Approve"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                    "style": "danger",
                },
            }
        ],
    },
]
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "edit",
    "title": {"type": "plain_text", "text": "Edit proposal"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "store",
            "label": {"type": "plain_text", "text": "Target store"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}

Reply = Callable[["Received"], Awaitable[web.Response]]


@dataclass
class Received:
    """One request the stub bot got: the raw body, its headers, and whether the signature held."""

    body: bytes
    headers: dict[str, str]
    signature_valid: bool

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.form["payload"])
        return value


async def _empty_ack(received: Received) -> web.Response:
    return web.Response(status=200)


@dataclass
class StubBot:
    """A tiny aiohttp 'bot' that checks Slack's signature, records the request and answers as told."""

    reply: Reply = _empty_ack
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        valid = SignatureVerifier(SECRET).is_valid(
            body, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")
        )
        received = Received(body=body, headers=dict(request.headers), signature_valid=valid)
        self.received.append(received)
        return await self.reply(received)


@pytest.fixture
async def stub() -> AsyncIterator[tuple[StubBot, str]]:
    """The stub bot listening on a free port; yields it and its events URL."""
    bot = StubBot()
    app = web.Application()
    app.router.add_post("/slack/events", bot.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield bot, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


@pytest.fixture
async def playground(stub: tuple[StubBot, str]) -> AsyncIterator[Playground]:
    """The playground on a free port, sending to the stub bot."""
    async with Playground(bot_url=stub[1], signing_secret=SECRET, bot_token=TOKEN, port=0) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client standing in for the page's fetch() calls."""
    async with aiohttp.ClientSession() as session:
        yield session


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url, json=body) as response:
        result: dict[str, Any] = await response.json()
        return result


async def _state(
    http: aiohttp.ClientSession, playground: Playground, user: str, **params: str
) -> dict[str, Any]:
    async with http.get(f"{playground.url}/play/state", params={"user": user, **params}) as response:
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


async def test_the_page_is_served_with_testable_elements(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    """/ serves the page with data-testid hooks; its script and stylesheet come from this server."""
    async with http.get(playground.url + "/") as response:
        page = await response.text()
    async with http.get(playground.url + "/static/app.js") as script:
        script_type, script_text = script.content_type, await script.text()
    async with http.get(playground.url + "/static/style.css") as style:
        style_type = style.content_type

    for testid in ("composer", "user-picker", "messages", "thread-panel", "modal", "confirm-dialog"):
        assert f'data-testid="{testid}"' in page
    assert 'src="/static/app.js"' in page and "http" not in page.split("<body>")[1].split("<script")[0]
    assert script_type == "application/javascript" or script_type == "text/javascript"
    assert '"data-testid": "button"' in script_text and '"data-testid": "modal-input"' in script_text
    assert style_type == "text/css"


async def test_a_command_reaches_the_bot_signed_with_slacks_fields(
    playground: Playground, stub: tuple[StubBot, str], http: aiohttp.ClientSession
) -> None:
    """/play/command sends a validly signed slash command with every field, and shows the ack privately."""
    bot, _ = stub

    async def checking(received: Received) -> web.Response:
        return web.Response(text="Checking the cluster…")

    bot.reply = checking

    result = await _post(http, playground.url + "/play/command", {"user": "U0ALICE", "text": "/tikv status"})

    assert result["ok"] is True and result["status"] == 200 and result["ack"] == "Checking the cluster…"
    (request,) = bot.received
    assert request.signature_valid
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = request.form
    assert form.pop("response_url").startswith(playground.url + "/response/")
    assert form.pop("trigger_id")
    assert form == {
        "token": "playground-verification-token",
        "team_id": "T0TIKV",
        "team_domain": "tikv-playground",
        "channel_id": "C0OPS",
        "channel_name": "tikv-ops",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "command": "/tikv",
        "text": "status",
        "api_app_id": "A0TIKVOPS",
        "is_enterprise_install": "false",
    }
    alice = await _state(http, playground, "U0ALICE")
    bob = await _state(http, playground, "U0BOB")
    assert [e["text"] for e in alice["ephemerals"]] == ["Checking the cluster…"]
    assert [e["text"] for e in alice["echoes"]] == ["/tikv status"]
    assert bob["ephemerals"] == [] and bob["echoes"] == []


async def test_the_bot_opens_a_modal_with_the_trigger_and_sees_inline_errors(
    playground: Playground, stub: tuple[StubBot, str], http: aiohttp.ClientSession
) -> None:
    """The command's trigger opens a modal for its author; an errors ack shows under the input."""
    bot, _ = stub
    client = AsyncWebClient(token=TOKEN, base_url=playground.api_url)
    opened: list[asyncio.Task[Any]] = []

    async def reply(received: Received) -> web.Response:
        if "payload" not in received.form:
            opened.append(
                asyncio.create_task(client.views_open(trigger_id=received.form["trigger_id"], view=MODAL))
            )
            return web.Response(status=200)
        return web.json_response({"response_action": "errors", "errors": {"store": "Store 9 is offline"}})

    bot.reply = reply
    await _post(http, playground.url + "/play/command", {"user": "U0ALICE", "text": "/tikv edit p-7"})
    await asyncio.gather(*opened)
    modal = (await _state(http, playground, "U0ALICE"))["modal"]
    assert modal is not None and modal["title"]["text"] == "Edit proposal"
    assert (await _state(http, playground, "U0BOB"))["modal"] is None

    values = {"store": {"value": "9"}}
    result = await _post(
        http, playground.url + "/play/submit", {"user": "U0ALICE", "view_id": modal["id"], "values": values}
    )

    assert result["ok"] is True
    submission = bot.received[-1]
    assert submission.signature_valid and submission.payload["type"] == "view_submission"
    assert submission.payload["view"]["state"]["values"] == {
        "store": {"value": {"type": "plain_text_input", "value": "9"}}
    }
    modal = (await _state(http, playground, "U0ALICE"))["modal"]
    assert modal["errors"] == {"store": "Store 9 is offline"}


async def test_a_click_sends_block_actions_for_the_message(
    playground: Playground, stub: tuple[StubBot, str], http: aiohttp.ClientSession
) -> None:
    """/play/click sends a signed block_actions naming the card, the button and the person who clicked."""
    bot, _ = stub
    client = AsyncWebClient(token=TOKEN, base_url=playground.api_url)
    ts = (await client.chat_postMessage(channel="C0OPS", text="proposal p-7", blocks=CARD))["ts"]
    click = {
        "user": "U0BOB",
        "channel": "C0OPS",
        "message_ts": ts,
        "action_id": "approve",
        "block_id": "decide",
        "value": "p-7",
    }

    result = await _post(http, playground.url + "/play/click", click)

    assert result["ok"] is True
    (request,) = bot.received
    payload = request.payload
    assert request.signature_valid and payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0BOB"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0OPS",
        "is_ephemeral": False,
    }
    assert payload["actions"][0]["action_id"] == "approve" and payload["actions"][0]["value"] == "p-7"
    assert payload["message"]["blocks"][1]["elements"][0]["confirm"]["style"] == "danger"
    assert payload["response_url"].startswith(playground.url + "/response/")


async def test_state_lists_messages_with_their_threads(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    """The page's state nests replies under their parent and names the users to pick from."""
    client = AsyncWebClient(token=TOKEN, base_url=playground.api_url)
    parent = (await client.chat_postMessage(channel="C0OPS", text="card", blocks=CARD))["ts"]
    await client.chat_postMessage(channel="C0OPS", text="executing", thread_ts=parent)

    state = await _state(http, playground, "U0CAROL")

    (message,) = state["messages"]
    assert message["reply_count"] == 1 and [r["text"] for r in message["replies"]] == ["executing"]
    users = {u["id"]: u for u in state["users"]}
    assert users["U0CAROL"]["groups"] == ["ops"]
    assert users["U0GUEST"]["label"] == "gus (guest)" and users["U0DAVE"]["label"] == "dave (deactivated)"
    assert state["me"] == "U0CAROL" and state["channel"] == {
        "id": "C0OPS",
        "name": "tikv-ops",
        "is_im": False,
    }


async def test_a_direct_message_is_listed_for_its_person_only(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    """A message the bot sends to a user id opens their DM, which only they see in the channel list."""
    client = AsyncWebClient(token=TOKEN, base_url=playground.api_url)
    dm = (await client.chat_postMessage(channel="U0ALICE", text="your proposal expired"))["channel"]

    alice = await _state(http, playground, "U0ALICE", channel=dm)
    bob = await _state(http, playground, "U0BOB")

    assert alice["channel"] == {"id": dm, "name": "alice", "is_im": True}
    assert [m["text"] for m in alice["messages"]] == ["your proposal expired"]
    assert dm not in [c["id"] for c in bob["channels"]]


async def test_the_long_poll_answers_as_soon_as_something_changes(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    """A state request waiting on the current version returns when the bot posts, not at its timeout."""
    version = (await _state(http, playground, "U0ALICE"))["version"]
    client = AsyncWebClient(token=TOKEN, base_url=playground.api_url)
    waiting = asyncio.create_task(_state(http, playground, "U0ALICE", since=str(version), wait="10"))
    await asyncio.sleep(0.05)
    assert not waiting.done()

    await client.chat_postMessage(channel="C0OPS", text="news")
    state = await asyncio.wait_for(waiting, timeout=2)

    assert state["version"] > version and [m["text"] for m in state["messages"]] == ["news"]


async def test_an_unknown_user_is_a_json_404(playground: Playground, http: aiohttp.ClientSession) -> None:
    """Naming a user the workspace lacks answers 404 with a JSON error the page can show."""
    async with http.post(
        playground.url + "/play/command", json={"user": "U0NOBODY", "text": "/tikv"}
    ) as response:
        status, body = response.status, await response.json()

    assert status == 404 and body["ok"] is False and "U0NOBODY" in body["error"]


async def test_the_fake_web_api_is_served_by_the_playground(playground: Playground) -> None:
    """SLACK_API_URL for the bot is the playground's /api/, checking the bot's token."""
    assert playground.api_url == playground.url + "/api/"
    identity = await AsyncWebClient(token=TOKEN, base_url=playground.api_url).auth_test()

    assert identity["user_id"] == "U0BOT"
