"""The whole bot over real HTTP: Slack's signed requests in, the fake Slack Web API out, the PD simulator.

    BotRelay ──signed HTTP──▶ bot (bot.main.running: the real composition root) ──▶ FakeSlack (Web API)
                                       │
                                       └──HTTP──▶ PDTap ──HTTP──▶ SimulatorServer (PD's API)

``PDTap`` is a transparent HTTP hop in front of the simulator that records every request the bot
sends PD (method, path, X-Caller-ID) and can take PD away in the middle of a write, so tests assert
on real traffic and on the simulator's state, never on mocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from actions.models import Proposal
from bot.main import RunningBot, running
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message
from bot.playground.relay import BotRelay
from bot.settings import Settings
from pd.simulator import ClusterModel, SimulatorServer
from pd.simulator.hop import HttpHop
from pd.simulator.topology import VOTER
from tests.timing import RELAY_ACK_TIMEOUT

SECRET = "e2e-signing-secret"
CHANNEL = "C0OPS"
ALICE, BOB, CAROL, GUEST = "U0ALICE", "U0BOB", "U0CAROL", "U0GUEST"


@dataclass(frozen=True)
class Seen:
    """One request the bot sent PD."""

    method: str
    path: str
    caller_id: str | None
    body: bytes


@dataclass
class PDTap(HttpHop):
    """A recording HTTP hop in front of the simulator; ``die_on_write`` takes PD away mid-write."""

    seen: list[Seen] = field(default_factory=list)
    die_on_write: bool = False
    down: bool = False
    read_delay: float = 0.0  # seconds every GET waits before it is forwarded (a slow PD)

    def writes(self, path_prefix: str = "/pd/api/v1/") -> list[Seen]:
        return [s for s in self.seen if s.method != "GET" and s.path.startswith(path_prefix)]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.method, request.path, request.headers.get("X-Caller-ID"), body))
        if self.read_delay and request.method == "GET":
            await asyncio.sleep(self.read_delay)
        if self.down or (self.die_on_write and request.method != "GET"):
            # PD goes away with the request in flight: no answer, and nothing more until it is back.
            self.down = True
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=502)  # never written: the connection is gone
        return await self.relay(request, body)


@dataclass
class E2E:
    """Everything a scenario drives and inspects."""

    fake: FakeSlack
    sim: SimulatorServer
    tap: PDTap
    bot: RunningBot
    relay: BotRelay

    @property
    def model(self) -> ClusterModel:
        return self.sim.model

    def region_with_followers(self) -> tuple[int, int, list[int]]:
        """A healthy region: its id, the store leading it and the stores of its other voters."""
        for region in sorted(self.model.regions.values(), key=lambda r: r.id):
            if region.leader is None or region.down_peers or region.pending_peers:
                continue
            followers = sorted(p.store_id for p in region.peers if p is not region.leader and p.role == VOTER)
            stores = [self.model.store(s) for s in followers]
            if len(followers) >= 2 and all(s.heartbeat_stopped_at is None for s in stores):
                return region.id, region.leader.store_id, followers
        raise AssertionError("the simulated cluster has no healthy region with two followers")

    def leader_of(self, region_id: int) -> int | None:
        leader = self.model.region(region_id).leader
        return leader.store_id if leader is not None else None

    def cards(self) -> list[Message]:
        return [m for m in self.fake.messages(CHANNEL) if m.text.startswith("Proposal #")]

    async def propose(self, user: str, text: str) -> Message:
        """``user`` types ``/tikv text``; returns the card the bot posted."""
        before = len(self.cards())
        delivery = await self.relay.command(user, text)
        assert delivery.ok, delivery
        cards = await self.fake.wait_for(lambda: self.cards() if len(self.cards()) > before else None)
        return cards[-1]

    async def proposal(self, card: Message) -> Proposal:
        """The stored proposal behind ``card`` (the store learns the card's ts just after Slack does)."""

        async def find() -> Proposal | None:
            proposals = await self.bot.store.list_proposals(limit=500)
            return next((p for p in proposals if p.message_ts == card.ts), None)

        found: Proposal = await eventually(find)
        return found

    def card(self, card: Message) -> Message:
        return self.fake.message(CHANNEL, card.ts)

    def replies(self, card: Message) -> list[Message]:
        return self.fake.thread(CHANNEL, card.ts)[1:]

    def ephemeral_texts(self, user: str) -> list[str]:
        return [e.text for e in self.fake.ephemerals(user=user)]

    async def quiesce(self, quiet: float = 0.5, limit: float = 15.0) -> None:
        """Wait until the bot has stopped talking to Slack for ``quiet`` seconds (its listeners are done)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        version = self.fake.version
        while loop.time() < deadline:
            now = await self.fake.changed(version, quiet)
            if now == version:
                return
            version = now
        raise AssertionError("the bot kept talking to Slack")

    async def click(self, user: str, card: Message, action_id: str, **kwargs: Any) -> Any:
        delivery = await self.relay.click(
            user, action_id=action_id, channel_id=CHANNEL, message_ts=card.ts, **kwargs
        )
        assert delivery.ok, delivery
        return delivery


def settings_for(fake: FakeSlack, tap: PDTap, db: Path, **extra: str) -> Settings:
    return Settings.load(
        {
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "PD_URL": tap.url,
            "TIKV_CHATOPS_DB": str(db),
            "HOST": "127.0.0.1",
            "PORT": "0",
            "METRICS_PORT": "0",
            "READY_PROBE_SECONDS": "1",
            "PD_TIMEOUT": "1",
            "OPERATOR_POLL_SECONDS": "0.05",
            "OPERATOR_FOLLOW_SECONDS": "1.5",
            "SWEEP_SECONDS": "3600",
            "PROPOSAL_CHANNEL": CHANNEL,
            # Scenarios count the cards people post; the agent's own run in test_e2e_agent.py.
            "AGENT_ENABLED": "false",
            **extra,
        }
    )


@asynccontextmanager
async def open_e2e(tmp_path: Path, *, model: ClusterModel | None = None, **extra: str) -> AsyncIterator[E2E]:
    """A fake Slack, a simulator (small steps), a recording tap and the bot (``extra`` settings on top)."""
    model = model or ClusterModel.generate(stores=5, regions=60, seed=7, step_delay=0.05)
    async with FakeSlack() as fake, SimulatorServer(model, tick_interval=0.02) as sim:
        tap = PDTap(target=sim.url)
        await tap.start()
        try:
            async with running(settings_for(fake, tap, tmp_path / "chatops.db", **extra)) as bot:
                async with BotRelay(
                    fake, bot_url=bot.url, signing_secret=SECRET, ack_timeout=RELAY_ACK_TIMEOUT
                ) as relay:
                    yield E2E(fake, sim, tap, bot, relay)
        finally:
            await tap.stop()


@pytest.fixture
async def e2e(tmp_path: Path) -> AsyncIterator[E2E]:
    """A fresh fake Slack, simulator (small steps), recording tap and bot for one scenario."""
    async with open_e2e(tmp_path) as env:
        yield env


async def eventually(check: Any, limit: float = 30.0) -> Any:
    """Poll ``check()`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"still false after {limit}s")
        await asyncio.sleep(0.02)
