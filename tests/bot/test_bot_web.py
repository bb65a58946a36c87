"""The bot's Slack-facing server: signed Slack requests reach Bolt (even mentioning "payload"); only they."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.fake_slack import FakeSlack
from bot.playground.signing import Actor, interaction_body, sign_request, slash_command_body
from bot.web import build_web_app, slack_request

SECRET = "test-signing-secret"
ALICE = Actor(
    user_id="U0ALICE", user_name="alice", team_id="T0TIKV", team_domain="tikv", api_app_id="A0TIKVOPS"
)


def _command(text: str) -> bytes:
    return slash_command_body(
        ALICE,
        text=text,
        channel_id="C0OPS",
        channel_name="tikv-ops",
        response_url="http://127.0.0.1:9/response/x",
        trigger_id="1.2.3",
    )


@dataclass
class Server:
    url: str
    seen: list[str]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    seen: list[str] = []
    async with FakeSlack() as fake:
        bolt = AsyncApp(
            name="web-test",
            signing_secret=SECRET,
            client=AsyncWebClient(token=fake.token, base_url=fake.api_url),
        )

        async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
            seen.append(command["text"])
            await ack()

        async def on_click(ack: AsyncAck, action: dict[str, Any]) -> None:
            seen.append(action["value"])
            await ack()

        bolt.command("/tikv")(on_command)
        bolt.action("tikv_approve")(on_click)

        runner = web.AppRunner(build_web_app(bolt, signing_secret=SECRET))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield Server(f"http://127.0.0.1:{port}", seen)
        finally:
            await runner.cleanup()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/slack/events", data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


@pytest.mark.parametrize("text", ["help payload", "set-config payload 1", "audit payload=1"])
async def test_a_command_mentioning_payload_reaches_its_listener(server: Server, text: str) -> None:
    """Bolt alone parses such a body as empty and answers 404; our server hands Bolt the real form."""
    url, seen = server.url, server.seen
    body = _command(text)
    status, _ = await _post(url, body, sign_request(SECRET, body))
    assert status == 200
    assert seen == [text]


def test_bolt_alone_would_lose_the_command() -> None:
    """The bug we work around: Bolt's own parsing of the same body yields no command at all."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    body = _command("help payload").decode()
    assert (
        AsyncBoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"}).body == {}
    )
    fixed = slack_request(body, query="", headers={"content-type": "application/x-www-form-urlencoded"})
    assert fixed.body["text"] == "help payload" and fixed.context.user_id == "U0ALICE"


async def test_interactions_still_parse_as_payloads(server: Server) -> None:
    """A real ``payload=`` interaction is left to Bolt's own parsing."""
    url, seen = server.url, server.seen
    payload = {
        "type": "block_actions",
        "user": ALICE.user_json(),
        "team": ALICE.team_json(),
        "api_app_id": ALICE.api_app_id,
        "trigger_id": "1.2.3",
        "actions": [
            {"action_id": "tikv_approve", "block_id": "b", "value": "7:1", "type": "button", "action_ts": "1"}
        ],
    }
    body = interaction_body(payload)
    status, _ = await _post(url, body, sign_request(SECRET, body))
    assert status == 200 and seen == ["7:1"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {**sign_request("not-the-secret", _command("status"))},
        {**sign_request(SECRET, _command("status"), timestamp=int(time.time()) - 360)},
    ],
    ids=["unsigned", "wrong-secret", "six-minutes-old"],
)
async def test_unverified_requests_are_refused(server: Server, headers: dict[str, str]) -> None:
    """Bolt's signature check runs on the raw body we pass: 401 and no listener runs."""
    url, seen = server.url, server.seen
    status, _ = await _post(url, _command("status"), headers)
    assert status == 401 and seen == []


async def test_the_slack_port_serves_nothing_but_slack_events(server: Server) -> None:
    """Health and metrics live on their own listener (``bot.ops_server``): not here."""
    async with aiohttp.ClientSession() as session:
        for path in ("/metrics", "/healthz", "/livez", "/readyz"):
            async with session.get(server.url + path) as r:
                assert r.status == 404, path
