"""Two bot processes (replicas) on one shared database, one simulator, one fake Slack (docs/replicas.md).

    BotRelay ─signed─▶ replica r1 (python -m bot) ─┐
    BotRelay ─signed─▶ replica r2 (python -m bot) ─┼─▶ HoldingTap ─▶ SimulatorServer
                                                   └─▶ the shared store (``shared_db``)

    50 Approve clicks, split across both          -> one approval completes it, one PD write
    SIGKILL of the replica holding the agent lease -> the other holds it within the lease's ttl (+ margin)
    SIGKILL between the claim and PD's answer     -> the other settles it from PD, nothing resent

Everything is observed from outside the processes, through what does not depend on the store: PD's
side (the tap, the simulator's operators), Slack's side (the fake's cards and threads), and each
replica's /metrics (``tikv_chatops_lease_held``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from bot_process import BotProcess, start_bot
from faults_support import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    SECRET,
    HoldingTap,
    count_admin_operators,
    eventually,
    healthy_regions,
    model_for_faults,
)
from pg import PostgresForTests

from bot import texts
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message
from bot.playground.relay import BotRelay
from pd.simulator import ClusterModel, SimulatorServer

pytestmark = pytest.mark.slow

TTL = 3.0  # LEASE_TTL_SECONDS of both replicas: short, so hand-overs happen within a test
_HELD = re.compile(r'^tikv_chatops_lease_held\{lease="(?P<lease>[^"]+)"\} (?P<value>\S+)$', re.MULTILINE)


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The ``TIKV_CHATOPS_DB`` both replicas share: a SQLite file (WAL), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "chatops.db")
        return
    server: PostgresForTests = request.getfixturevalue("postgres_server")
    name = await server.fresh_database()
    yield server.dsn(name)
    await server.drop_database(name)


@dataclass
class Replica:
    name: str
    process: BotProcess
    relay: BotRelay

    async def leases(self) -> dict[str, bool]:
        """The leases this replica says it holds, from its /metrics ({} when it does not answer)."""
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(self.process.ops_url + "/metrics") as answer,
            ):
                text = await answer.text()
        except aiohttp.ClientError:
            return {}
        return {m["lease"]: float(m["value"]) == 1.0 for m in _HELD.finditer(text)}


@dataclass
class Cluster:
    """What outlives the replicas: Slack, PD behind the tap, the shared database."""

    fake: FakeSlack
    sim: SimulatorServer
    tap: HoldingTap
    db: str
    operators: list[tuple[str, int]]

    @property
    def model(self) -> ClusterModel:
        return self.sim.model

    def environment(self, replica: str, **extra: str) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.fake.api_url,
            "PD_URL": self.tap.url,
            "TIKV_CHATOPS_DB": self.db,
            "PROPOSAL_CHANNEL": CHANNEL,
            "PD_TIMEOUT": "2",
            "OPERATOR_POLL_SECONDS": "0.05",
            "OPERATOR_FOLLOW_SECONDS": "20",
            "SWEEP_SECONDS": "1",
            "AGENT_ENABLED": "false",
            "REPLICA_ID": replica,
            "LEASE_TTL_SECONDS": str(TTL),
            **extra,
        }

    @asynccontextmanager
    async def replicas(self, **extra: str) -> AsyncIterator[tuple[Replica, Replica]]:
        """r1 and r2, started together on the shared database; SIGTERMed on the way out if alive."""
        async with AsyncExitStack() as stack:
            processes = await asyncio.gather(
                start_bot(self.environment("r1", **extra)), start_bot(self.environment("r2", **extra))
            )
            started = []
            for name, process in zip(("r1", "r2"), processes, strict=True):
                stack.push_async_callback(process.stop)
                relay = await stack.enter_async_context(
                    BotRelay(self.fake, bot_url=process.url, signing_secret=SECRET)
                )
                started.append(Replica(name, process, relay))
            yield started[0], started[1]

    def cards(self) -> list[Message]:
        return [m for m in self.fake.messages(CHANNEL) if m.text.startswith("Proposal #")]

    def card_says(self, card: Message, state: str) -> Callable[[], bool]:
        return lambda: f"({state})" in self.fake.message(CHANNEL, card.ts).text


@asynccontextmanager
async def cluster(shared_db: str, *, step_delay: float = 0.05) -> AsyncIterator[Cluster]:
    model = model_for_faults(step_delay=step_delay)
    operators = count_admin_operators(model)
    async with FakeSlack() as fake, SimulatorServer(model, tick_interval=0.02) as sim:
        tap = HoldingTap(target=sim.url)
        await tap.start()
        try:
            yield Cluster(fake, sim, tap, shared_db, operators)
        finally:
            tap.release.set()
            await tap.stop()


async def _propose(c: Cluster, replica: Replica, text: str) -> Message:
    before = len(c.cards())
    assert (await replica.relay.command(ALICE, text)).ok
    cards = await c.fake.wait_for(lambda: c.cards() if len(c.cards()) > before else None, timeout=15)
    return cards[-1]


async def test_fifty_approve_clicks_split_across_two_replicas_make_one_pd_write(shared_db: str) -> None:
    async with cluster(shared_db) as c, c.replicas() as (r1, r2):
        region, _leader, followers = healthy_regions(c.model)[0]
        card = await _propose(c, r1, f"transfer-leader {region} {followers[0]}")

        async def click(i: int) -> int | None:
            replica, user = (r1, BOB) if i % 2 else (r2, CAROL)
            delivery = await replica.relay.click(
                user, action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
            )
            return delivery.status

        statuses = await asyncio.gather(*(click(i) for i in range(50)))
        # Every click reached a replica that answered it (None: a busy machine missed Slack's 3 s).
        assert all(status in (200, None) for status in statuses), statuses
        await c.fake.wait_for(c.card_says(card, "succeeded"), timeout=30)
        await asyncio.sleep(1.0)  # room for a second write, were one coming
        assert len(c.tap.writes()) == 1
        assert c.operators == [("admin-transfer-leader", region)]
        leader = c.model.region(region).leader
        assert leader is not None and leader.store_id == followers[0]


async def test_a_sigkill_of_the_agent_lease_holder_hands_the_agent_to_the_other_within_the_ttl(
    shared_db: str,
) -> None:
    async with cluster(shared_db) as c, c.replicas(AGENT_ENABLED="true", AGENT_INTERVAL="3600") as pair:

        async def holders() -> list[Replica]:
            held = [r for r in pair if (await r.leases()).get("agent")]
            return held

        [holder] = await eventually(holders, limit=30)
        [other] = [r for r in pair if r is not holder]
        for _ in range(5):  # and it stays with one replica while its holder lives
            assert [r.name for r in await holders()] == [holder.name]
            await asyncio.sleep(TTL / 3)

        loop = asyncio.get_running_loop()
        await holder.process.kill()
        killed_at = loop.time()

        async def other_holds() -> bool:
            return bool((await other.leases()).get("agent"))

        await eventually(other_holds, limit=TTL * 4 / 3 + 20)
        handed_over = loop.time() - killed_at
        # The lease lapses at most TTL after the holder's last renewal and the other tries every TTL/3;
        # the margin is for a busy machine.
        assert handed_over < TTL * 4 / 3 + 15, handed_over
        assert "lease agent: held by" in other.process.log


async def test_a_sigkill_between_the_claim_and_pds_answer_is_settled_by_the_other_replica(
    shared_db: str,
) -> None:
    async with cluster(shared_db) as c, c.replicas() as (r1, r2):
        region, _leader, followers = healthy_regions(c.model)[0]
        card = await _propose(c, r1, f"transfer-leader {region} {followers[0]}")
        c.tap.hold_answers = True  # PD acts on the write; r1 never hears back
        delivery = await r1.relay.click(
            BOB, action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
        )
        assert delivery.ok, delivery
        await eventually(c.tap.held.wait, limit=15)
        assert c.operators == [("admin-transfer-leader", region)]
        await r1.process.kill()
        c.tap.hold_answers = False
        c.tap.release.set()

        # r2 takes the sweeper (if r1 had it), finds r1's heartbeat lapsed and reads PD's operator.
        await c.fake.wait_for(c.card_says(card, "succeeded"), timeout=TTL * 4 / 3 + 40)
        proposal_id = int(card.text.split("#", 1)[1].split(" ", 1)[0])

        def reported() -> list[str]:
            thread = [m.text for m in c.fake.thread(CHANNEL, card.ts)[1:]]
            return [t for t in thread if t.startswith(f"✅ #{proposal_id} succeeded")]

        [reply] = await c.fake.wait_for(reported, timeout=30)
        assert "PD finished the operator" in reply, reply
        assert len(c.tap.writes()) == 1 and c.operators == [("admin-transfer-leader", region)]
        leader = c.model.region(region).leader
        assert leader is not None and leader.store_id == followers[0]
        assert r2.process.process.returncode is None
