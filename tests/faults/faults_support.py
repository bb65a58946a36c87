"""The fault suite's harness: the e2e harness (tests/e2e/conftest.py) plus the knobs faults need.

    BotRelay ──signed HTTP──▶ bot (bot.main.running) ──▶ FakeSlack
                                   │
                                   └──▶ HoldingTap ──▶ SimulatorServer     (one PD endpoint), or
                                   └──▶ every simulator member directly    (``members=True``: failover)

The e2e harness is loaded from its file under its own module name, so its ``E2E``, ``PDTap``,
``settings_for`` and ``eventually`` are shared rather than copied. ``HoldingTap`` adds two holds to its
recording tap (a write held before it reaches PD, or its answer held after PD acted) for the SIGKILL
tests, and every environment counts the admin operators the simulator accepted, so "nothing ran twice"
is read from PD's side.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
from aiohttp import web

from bot.main import running
from bot.playground.fake_slack import FakeSlack
from bot.playground.relay import BotRelay
from pd.simulator import ClusterModel, Operator, SimulatorServer
from pd.simulator.topology import VOTER
from tests.timing import RELAY_ACK_TIMEOUT


def _load_e2e_harness() -> ModuleType:
    name = "e2e_harness"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_e2e = _load_e2e_harness()
E2E = _e2e.E2E
PDTap = _e2e.PDTap
Seen = _e2e.Seen
settings_for = _e2e.settings_for
eventually = _e2e.eventually
SECRET: str = _e2e.SECRET
CHANNEL: str = _e2e.CHANNEL
ALICE: str = _e2e.ALICE
BOB: str = _e2e.BOB
CAROL: str = _e2e.CAROL


def count_admin_operators(model: ClusterModel) -> list[tuple[str, int]]:
    """Record (desc, region) of every admin operator the simulator accepts from now on.

    An instance patch of ``model.operators.add``; the simulator's own code is untouched.
    """
    created: list[tuple[str, int]] = []
    add = model.operators.add

    def counting_add(*ops: Operator) -> bool:
        accepted = add(*ops)
        if accepted:
            created.extend((op.desc, op.region_id) for op in ops if op.desc.startswith("admin-"))
        return accepted

    model.operators.add = counting_add
    return created


@dataclass
class HoldingTap(PDTap):
    """The e2e recording tap, able to hold a write before PD sees it or its answer after PD acted."""

    on_write: Callable[[], None] | None = None  # called as a write arrives, before PD sees it
    on_answer: Callable[[], None] | None = None  # called once PD answered a write, before the bot hears
    hold_writes: bool = False  # a write waits here, unsent, until released
    hold_answers: bool = False  # a write reaches PD; its answer waits here until released
    held: asyncio.Event = field(default_factory=asyncio.Event)  # set once something is being held
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.method != "GET" and self.on_write is not None:
            self.on_write()
        if request.method == "GET":
            return await super()._forward(request)
        if not (self.hold_writes or self.hold_answers):
            answer = await super()._forward(request)
            if self.on_answer is not None:
                self.on_answer()
            return answer
        if self.hold_writes:
            body = await request.read()
            self.seen.append(Seen(request.method, request.path, request.headers.get("X-Caller-ID"), body))
            self.held.set()
            await self.release.wait()
            raise web.HTTPServiceUnavailable(text="the test released a held write unsent")
        answer = await super()._forward(request)
        self.held.set()
        await self.release.wait()
        return answer


@dataclass
class FaultEnv(E2E):
    """An e2e environment plus the admin operators PD accepted and the database's path."""

    operators: list[tuple[str, int]] = field(default_factory=list)
    db_path: Path = Path()

    def pd_writes(self) -> list[Any]:
        """Every non-GET request the bot sent PD through the tap (empty with ``members=True``)."""
        return list(self.tap.writes())

    async def executed_rows(self) -> list[sqlite3.Row]:
        """Audit rows that record a PD write (an execution), read from the file by a second connection."""
        return read_rows(
            self.db_path,
            "SELECT * FROM action_log WHERE dry_run = 0 AND (executed_at IS NOT NULL "
            "OR caller_id LIKE 'tikv-chatops/%')",
        )


def healthy_regions(model: ClusterModel) -> list[tuple[int, int, list[int]]]:
    """Every healthy region with two live followers: (region, leader store, follower stores), by id."""
    found = []
    for region in sorted(model.regions.values(), key=lambda r: r.id):
        if region.leader is None or region.down_peers or region.pending_peers:
            continue
        followers = sorted(p.store_id for p in region.peers if p is not region.leader and p.role == VOTER)
        if len(followers) >= 2 and all(model.store(s).heartbeat_stopped_at is None for s in followers):
            found.append((region.id, region.leader.store_id, followers))
    return found


def read_rows(db_path: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    """Run ``sql`` on a read-only connection of its own (as an operator's sqlite3 shell would)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        conn.row_factory = sqlite3.Row
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def model_for_faults(*, step_delay: float = 0.05, members: int = 3) -> ClusterModel:
    """The e2e harness's cluster: 5 stores, 60 regions, seed 7."""
    return ClusterModel.generate(stores=5, regions=60, seed=7, step_delay=step_delay, members=members)


@asynccontextmanager
async def fault_env(
    tmp_path: Path,
    *,
    members: bool = False,
    model: ClusterModel | None = None,
    fake: FakeSlack | None = None,
    **extra: str,
) -> AsyncIterator[FaultEnv]:
    """Fake Slack, the simulator, a recording tap and the bot built by ``bot.main.running``.

    ``members=True`` gives the bot every simulator member as its PD endpoints (for failover) instead of
    the one tap; ``extra`` overrides settings (``PD_TIMEOUT="0.5"``…).
    """
    model = model if model is not None else model_for_faults()
    operators = count_admin_operators(model)
    db = tmp_path / "chatops.db"
    async with (
        fake if fake is not None else FakeSlack() as slack,
        SimulatorServer(model, tick_interval=0.02) as sim,
    ):
        tap = HoldingTap(target=sim.url)
        await tap.start()
        try:
            settings = settings_for(slack, tap, db, **extra)
            if members:
                settings = settings.model_copy(update={"pd_url": ",".join(sim.urls)})
            async with (
                running(settings) as bot,
                BotRelay(
                    slack, bot_url=bot.url, signing_secret=SECRET, ack_timeout=RELAY_ACK_TIMEOUT
                ) as relay,
            ):
                yield FaultEnv(slack, sim, tap, bot, relay, operators=operators, db_path=db)
        finally:
            tap.release.set()
            await tap.stop()


async def get_status(url: str) -> int:
    """The HTTP status of ``GET url`` (0 when nothing answers)."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as answer:
            return answer.status
    except aiohttp.ClientError:
        return 0
