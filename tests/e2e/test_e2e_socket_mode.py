"""Socket Mode: with SLACK_APP_TOKEN the bot takes Slack's envelopes over a WebSocket and acks them there."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import ALICE, CHANNEL, PDTap, eventually

from bot.main import running
from bot.playground.fake_slack import FakeSlack
from bot.settings import Settings
from pd.simulator import ClusterModel, SimulatorServer

APP_TOKEN = "xapp-1-socket-mode-test"


class SocketSlack:
    """The fake Web API plus Slack's Socket Mode side: apps.connections.open and the /link socket."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.app = web.Application()
        # Registered before the fake's catch-all /api/{method} route, so it wins.
        self.app.router.add_post("/api/apps.connections.open", self._open)
        self.app.router.add_get("/link", self._link)
        self.fake.add_routes(self.app)
        self.opened_with: list[str] = []
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sockets: asyncio.Queue[web.WebSocketResponse] = asyncio.Queue()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _open(self, request: web.Request) -> web.Response:
        self.opened_with.append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True, "url": self.url.replace("http", "ws") + "/link"})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        await self.sockets.put(socket)
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                await self.acks.put(json.loads(message.data))
        return socket

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.fake.bind(self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def slack() -> AsyncIterator[SocketSlack]:
    server = SocketSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_slash_command_over_socket_mode_is_acked_on_the_socket_and_answered(
    slack: SocketSlack, tmp_path: Path
) -> None:
    """The envelope is acked with its envelope_id; the answer goes to the response URL; HTTP serves health."""
    model = ClusterModel.generate(stores=3, regions=10, seed=1, step_delay=0.05)
    async with SimulatorServer(model, tick_interval=0.05) as sim:
        tap = PDTap(target=sim.url)
        await tap.start()
        settings = Settings.load(
            {
                "SLACK_BOT_TOKEN": slack.fake.token,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": slack.fake.api_url,
                "PD_URL": tap.url,
                "TIKV_CHATOPS_DB": str(tmp_path / "socket.db"),
                "HOST": "127.0.0.1",
                "PORT": "0",
                "METRICS_PORT": "0",
                "PD_TIMEOUT": "1",
            }
        )
        try:
            async with running(settings) as bot:
                socket = await asyncio.wait_for(slack.sockets.get(), 5)
                payload = {
                    "token": "x",
                    "team_id": "T0TIKV",
                    "team_domain": "tikv-playground",
                    "channel_id": CHANNEL,
                    "channel_name": "tikv-ops",
                    "user_id": ALICE,
                    "user_name": "alice",
                    "command": "/tikv",
                    "text": "status payload",
                    "api_app_id": "A0TIKVOPS",
                    "is_enterprise_install": "false",
                    "response_url": slack.fake.response_url(CHANNEL, ALICE),
                    "trigger_id": slack.fake.issue_trigger(ALICE),
                }
                await socket.send_json(
                    {
                        "envelope_id": "env-1",
                        "type": "slash_commands",
                        "payload": payload,
                        "accepts_response_payload": True,
                    }
                )
                ack = await asyncio.wait_for(slack.acks.get(), 3)
                assert ack["envelope_id"] == "env-1"
                answer = await eventually(lambda: slack.fake.ephemerals(user=ALICE))
                assert "takes no arguments" in answer[0].text  # "status payload" reached the grammar intact
                assert slack.opened_with == [f"Bearer {APP_TOKEN}"]
                async with aiohttp.ClientSession() as session:
                    async with session.get(bot.ops_url + "/livez") as live:
                        assert live.status == 200
                    async with session.post(bot.url + "/slack/events", data=b"x") as events:
                        assert events.status in (404, 405)  # Slack's requests come over the socket only
        finally:
            await tap.stop()
