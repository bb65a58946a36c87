"""Ack latency at 50 concurrent Approve clicks, and approve -> PD write, with one and with two replicas.

Two set-ups, each with real bot processes (``python -m bot``) configured only through the environment:

- one replica on an SQLite file (a temporary ``TIKV_CHATOPS_DB``, the embedded default);
- one replica on a PostgreSQL database (``store.postgres.local``: Debian's server, ``initdb`` in a
  temporary directory, fsync on), to tell the database's share from the second replica's;
- two replicas on one PostgreSQL database, every click and command split across both.

This process plays Slack (``FakeSlack`` and one ``BotRelay`` per replica: requests signed exactly as
Slack signs them) and PD (the simulator, behind a small tap that timestamps every write as it arrives,
on this process's clock). Per set-up:

- *race*: ``RACES`` proposals, each clicked Approve by ``CLICKS`` people's clicks at once (half by each
  of two approvers, split across the replicas); the ack time of every click (request sent to HTTP
  answer) and the time from the burst to PD receiving the write;
- *single*: ``APPROVALS`` proposals, each approved by one click; the time from that click to PD
  receiving the write.

Every approved proposal must reach PD exactly once; the benchmark counts the writes per region and
says so. When PostgreSQL cannot start, that part is skipped with the reason.

    python -m bench.bench_replicas [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from bench import loadgen
from bot import texts
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message
from bot.playground.relay import ACK_TIMEOUT, BotRelay, Delivery
from pd.simulator import ClusterModel, SimulatorServer
from pd.simulator.hop import HttpHop
from pd.simulator.topology import VOTER
from store.backend import open_store_at
from store.postgres.local import LocalPostgres, PostgresUnavailable, start_local

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
CHANNEL = "C0OPS"
PROPOSER, APPROVERS = "U0ALICE", ("U0BOB", "U0CAROL")
CLICKS = int(os.environ.get("BENCH_REPLICA_CLICKS", "50"))
RACES = int(os.environ.get("BENCH_REPLICA_RACES", "6"))
APPROVALS = int(os.environ.get("BENCH_REPLICA_APPROVALS", "15"))
START_TIMEOUT = 60.0
MEASURE_ACK_TIMEOUT = 15.0  # longer than Slack's 3 s, so a late ack is measured rather than cut off


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100): the smallest sample at least q% are <= to."""
    if not samples:
        return math.nan
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Write:
    """One non-GET request that reached PD: when (this process's loop clock), where, and its region."""

    at: float
    method: str
    path: str
    region: int | None


@dataclass
class WriteTap(HttpHop):
    """A transparent HTTP hop in front of the simulator that timestamps every write as it arrives."""

    writes: list[Write] = field(default_factory=list)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        arrived = asyncio.get_running_loop().time()
        body = await request.read()
        if request.method != "GET":
            self.writes.append(Write(arrived, request.method, request.path, _region_of(body)))
        return await self.relay(request, body)

    def for_region(self, region: int) -> list[Write]:
        return [w for w in self.writes if w.region == region]


def _region_of(body: bytes) -> int | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    region = value.get("region_id") if isinstance(value, dict) else None
    return region if isinstance(region, int) else None


@dataclass
class Replica:
    """One ``python -m bot`` child and the relay that plays Slack towards it."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    ops_url: str
    relay: BotRelay | None = None

    async def wait_ready(self, log: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(
                        f"replica {self.name} exited with {self.process.returncode}; see {log}"
                    )
                try:
                    async with session.get(self.ops_url + "/livez") as answer:
                        if answer.status in (200, 503):
                            return
                except aiohttp.ClientError:
                    pass
                if loop.time() > deadline:
                    raise RuntimeError(
                        f"replica {self.name} did not serve within {START_TIMEOUT:g} s; see {log}"
                    )
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_replica(name: str, env: dict[str, str], log: Path) -> Replica:
    port, ops_port = _free_port(), _free_port()
    child_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONHASHSEED": "0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_PORT": str(ops_port),
        "REPLICA_ID": name,
        **env,
    }
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=ROOT,
            env=child_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        os.close(out)  # the child has its own copy
    replica = Replica(name, process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ops_port}")
    try:
        await replica.wait_ready(log)
    except BaseException:
        await replica.stop()
        raise
    return replica


@dataclass
class Setup:
    fake: FakeSlack
    model: ClusterModel
    tap: WriteTap
    replicas: list[Replica]
    regions: list[tuple[int, int]]  # (region, target store) not yet used

    def relay(self, index: int) -> BotRelay:
        relay = self.replicas[index % len(self.replicas)].relay
        assert relay is not None
        return relay

    def cards(self) -> list[Message]:
        return [m for m in self.fake.messages(CHANNEL) if m.text.startswith("Proposal #")]


def _movable(model: ClusterModel) -> list[tuple[int, int]]:
    """Healthy regions whose leader can move to a live follower: (region, that follower's store)."""
    found = []
    for region in sorted(model.regions.values(), key=lambda r: r.id):
        if region.leader is None or region.down_peers or region.pending_peers:
            continue
        followers = sorted(p.store_id for p in region.peers if p is not region.leader and p.role == VOTER)
        live = [s for s in followers if model.store(s).heartbeat_stopped_at is None]
        if live:
            found.append((region.id, live[0]))
    return found


@asynccontextmanager
async def _setup(db: str, replicas: int, workdir: Path, label: str) -> AsyncIterator[Setup]:
    model = ClusterModel.generate(stores=5, regions=200, seed=17, step_delay=0.05)
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeSlack())
        sim = await stack.enter_async_context(SimulatorServer(model, tick_interval=0.05))
        tap = WriteTap(target=sim.url)
        await tap.start()
        stack.push_async_callback(tap.stop)
        env = {
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "PD_URL": tap.url,
            "TIKV_CHATOPS_DB": db,
            "PROPOSAL_CHANNEL": CHANNEL,
            "OPERATOR_POLL_SECONDS": "0.05",
            # The agent's cycles would land at random points of the measurement; bench_agent measures them.
            "AGENT_ENABLED": "false",
        }
        started = await asyncio.gather(
            *(_start_replica(f"r{i + 1}", env, workdir / f"{label}-r{i + 1}.log") for i in range(replicas))
        )
        for replica in started:
            stack.push_async_callback(replica.stop)
            replica.relay = await stack.enter_async_context(
                BotRelay(fake, bot_url=replica.url, signing_secret=SECRET, ack_timeout=MEASURE_ACK_TIMEOUT)
            )
        yield Setup(fake, model, tap, list(started), _movable(model))


async def _propose(s: Setup, index: int) -> tuple[Message, int]:
    """A transfer-leader proposal made through replica ``index``; its card and its region."""
    region, store = s.regions.pop(0)
    before = len(s.cards())
    delivery = await s.relay(index).command(PROPOSER, f"transfer-leader {region} {store}")
    if not delivery.ok:
        raise RuntimeError(f"the proposal command was not acknowledged: {delivery.error}")
    cards = await s.fake.wait_for(lambda: s.cards() if len(s.cards()) > before else None, timeout=30)
    return cards[-1], region


async def _settled(s: Setup, card: Message, region: int) -> float:
    """Waits for the card to say the proposal succeeded; the loop time PD received its first write."""
    await s.fake.wait_for(lambda: "(succeeded)" in s.fake.message(CHANNEL, card.ts).text or None, timeout=60)
    writes = s.tap.for_region(region)
    if not writes:
        raise RuntimeError(f"region {region}: the card says succeeded but PD saw no write")
    return writes[0].at


async def _click(s: Setup, index: int, card: Message) -> Delivery:
    user = APPROVERS[(index // len(s.replicas)) % len(APPROVERS)]
    return await s.relay(index).click(
        user, action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
    )


@dataclass
class Figures:
    acks: list[float] = field(default_factory=list)  # seconds, every click of every race
    ack_errors: int = 0  # no HTTP answer, or not 2xx
    late: int = 0  # answered after Slack's 3 s
    race_to_write: list[float] = field(default_factory=list)  # burst sent -> PD received the write
    click_to_write: list[float] = field(default_factory=list)  # single click -> PD received the write
    regions: list[int] = field(default_factory=list)  # every approved proposal's region
    writes_per_region: dict[int, int] = field(default_factory=dict)
    writes_total: int = 0


async def _warm(s: Setup, figures: Figures) -> None:
    """Each replica's first proposal and approval (imports, connections, caches), not counted."""
    for warm in range(len(s.replicas)):
        card, region = await _propose(s, warm)
        await _click(s, warm, card)
        await _settled(s, card, region)
        figures.regions.append(region)


async def _race(s: Setup, figures: Figures, race: int) -> None:
    """One proposal, clicked Approve ``CLICKS`` times at once, split across the replicas."""
    card, region = await _propose(s, race)
    started = asyncio.get_running_loop().time()
    deliveries = await asyncio.gather(*(_click(s, i, card) for i in range(CLICKS)))
    figures.acks += [d.elapsed for d in deliveries]
    figures.ack_errors += sum(1 for d in deliveries if not d.ok)
    figures.late += sum(1 for d in deliveries if d.ok and d.elapsed > ACK_TIMEOUT)
    figures.race_to_write.append(await _settled(s, card, region) - started)
    figures.regions.append(region)
    await asyncio.sleep(0.5)  # the other clicks' replies are done before the next figure


async def _single(s: Setup, figures: Figures, number: int) -> None:
    """One proposal (posted through one replica), approved by one click (on the other, if any)."""
    card, region = await _propose(s, number + 1)
    started = asyncio.get_running_loop().time()
    delivery = await _click(s, number, card)
    if not delivery.ok:
        figures.ack_errors += 1
    figures.click_to_write.append(await _settled(s, card, region) - started)
    figures.regions.append(region)


def _count_writes(s: Setup, figures: Figures) -> None:
    figures.writes_per_region = {r: len(s.tap.for_region(r)) for r in figures.regions}
    figures.writes_total = len(s.tap.writes)


@dataclass
class Floor:
    """A bare Bolt app that only acks (``bench.bare_bolt``, in the bot's process_before_response mode),
    clicked through the same harness on a pending card: what the harness and Bolt alone take."""

    s: Setup
    relay: BotRelay
    card: Message
    figures: Figures = field(default_factory=Figures)

    async def burst(self, *, counted: bool = True) -> None:
        deliveries = await asyncio.gather(
            *(
                self.relay.click(
                    APPROVERS[i % 2],
                    action_id=texts.ActionId.APPROVE,
                    channel_id=CHANNEL,
                    message_ts=self.card.ts,
                )
                for i in range(CLICKS)
            )
        )
        if counted:
            self.figures.acks += [d.elapsed for d in deliveries]
            self.figures.ack_errors += sum(1 for d in deliveries if not d.ok)
            self.figures.late += sum(1 for d in deliveries if d.ok and d.elapsed > ACK_TIMEOUT)


@asynccontextmanager
async def _floor(s: Setup) -> AsyncIterator[Floor]:
    port = loadgen.free_port()
    url = f"http://127.0.0.1:{port}"
    args = ("--port", str(port), "--secret", SECRET, "--process-before-response")
    process = await asyncio.to_thread(loadgen.start_server, "bench.bare_bolt", *args, ready_url=url)
    try:
        async with BotRelay(
            s.fake, bot_url=url, signing_secret=SECRET, ack_timeout=MEASURE_ACK_TIMEOUT
        ) as relay:
            card, _region = await _propose(s, 0)  # pending, so its card has the Approve button
            floor = Floor(s, relay, card)
            await floor.burst(counted=False)  # connections and Bolt warmed up
            yield floor
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 10)


async def _postgres_database(server: LocalPostgres, name: str) -> str:
    """A new database on ``server``, migrated once here so that replicas start on the same schema."""
    import asyncpg

    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    dsn = server.dsn(name)
    store = await open_store_at(dsn)
    await store.aclose()
    return dsn


async def _measure_all(workdir: Path, server: LocalPostgres | None) -> tuple[dict[str, Figures], Figures]:
    """Every set-up started at once, then measured in turn within each round, so that what else the
    machine does meanwhile falls on all of them alike."""
    async with AsyncExitStack() as stack:
        setups = {
            "1 replica, SQLite": await stack.enter_async_context(
                _setup(str(workdir / "chatops.db"), 1, workdir, "sqlite")
            )
        }
        if server is not None:
            for replicas in (1, 2):
                dsn = await _postgres_database(server, f"chatops_{replicas}")
                name = f"{replicas} replica{'s' if replicas > 1 else ''}, PostgreSQL"
                setups[name] = await stack.enter_async_context(
                    _setup(dsn, replicas, workdir, f"postgres-{replicas}")
                )
        floor = await stack.enter_async_context(_floor(setups["1 replica, SQLite"]))
        figures = {name: Figures() for name in setups}
        for name, s in setups.items():
            await _warm(s, figures[name])
        for race in range(RACES):
            await floor.burst()
            for name, s in setups.items():
                await _race(s, figures[name], race)
        for number in range(APPROVALS):
            for name, s in setups.items():
                await _single(s, figures[name], number)
        await asyncio.sleep(1.0)  # room for a second write, were one coming
        for name, s in setups.items():
            _count_writes(s, figures[name])
        return figures, floor.figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _rows(name: str, f: Figures) -> tuple[str, str, str]:
    ack = (
        f"| {name} | {len(f.acks)} | {_ms(percentile(f.acks, 50))} | {_ms(percentile(f.acks, 95))} "
        f"| {_ms(percentile(f.acks, 99))} | {_ms(percentile(f.acks, 100))} | {f.late} | {f.ack_errors} |"
    )
    write = (
        f"| {name} | {len(f.click_to_write)} | {_ms(percentile(f.click_to_write, 50))} "
        f"| {_ms(percentile(f.click_to_write, 95))} | {len(f.race_to_write)} "
        f"| {_ms(percentile(f.race_to_write, 50))} | {_ms(percentile(f.race_to_write, 100))} |"
    )
    once = all(n == 1 for n in f.writes_per_region.values()) and f.writes_total == len(f.regions)
    exact = (
        f"| {name} | {len(f.regions)} | {f.writes_total} "
        f"| {sum(1 for n in f.writes_per_region.values() if n == 1)} | {'yes' if once else 'NO'} |"
    )
    return ack, write, exact


async def _main(postgres: bool) -> None:
    skipped = ""
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        workdir = Path(tmp)
        server: LocalPostgres | None = None
        if not postgres:
            skipped = "PostgreSQL skipped (--no-postgres)."
        else:
            try:
                server = start_local(fsync=True)  # its own directory, which its account can reach
            except PostgresUnavailable as exc:
                skipped = f"PostgreSQL could not start, so its rows are missing: {exc}"
        try:
            results, floor = await _measure_all(workdir, server)
        finally:
            if server is not None:
                server.stop()
    print("## Replicas: ack at 50 concurrent Approve clicks, approve -> PD write\n")
    print(
        f"Bot processes (`python -m bot`) on loopback HTTP; this process plays Slack (fake Web API, clicks "
        f"signed as Slack signs them) and PD (a simulator per set-up, 5 stores, 200 regions, behind a tap "
        f"that timestamps each write as it arrives), so the load generator shares the 2 cores with them. "
        f"_1 replica, SQLite_: one bot on a temporary SQLite file. _1 replica, PostgreSQL_: one bot on a "
        f"PostgreSQL database (local server, fsync on). _2 replicas, PostgreSQL_: two bots on one such "
        f"database, every burst and every proposal split across both. All set-ups run at once and are "
        f"measured in turn within each round, so the machine's other work falls on all alike. "
        f"Race: {RACES} proposals, each clicked Approve {CLICKS} times at once by two approvers (one click "
        f"approves; the others are told it is already decided, or busy beyond the work queue); "
        f"_burst -> write_ is from the burst to PD receiving the one write. "
        f"Single: {APPROVALS} proposals, one Approve click each, on the replica that did not post the card. "
        f"Percentiles by nearest rank. An ack is timed from the request leaving this process to its "
        f"answer; this one event loop also serves the fake Web API the bots call while they work, so at "
        f"50 concurrent the figures carry this process's own queueing: the _bare Bolt_ row is the same "
        f"bursts on a Bolt app that only acks (`bench.bare_bolt`), once per round (`bench_ack` times "
        f"acks from a load generator of its own).\n"
    )
    rows = {name: _rows(name, f) for name, f in results.items()}
    print(f"Ack of the Approve clicks, {CLICKS} concurrent (ms; target p99 < 50 at 50 concurrent):\n")
    print("| set-up | clicks | p50 | p95 | p99 | max | later than 3 s | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for ack, _write, _exact in rows.values():
        print(ack)
    print(_rows("bare Bolt, only acks (the harness's floor)", floor)[0])
    print("\nApprove -> PD receives the write (ms; target p50 < 30 for a single click):\n")
    print("| set-up | single clicks | p50 | p95 | races | burst -> write p50 | burst -> write max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for _ack, write, _exact in rows.values():
        print(write)
    print("\nExactly one PD write per approved proposal (warm-up proposals included):\n")
    print("| set-up | approved proposals | PD writes | proposals with exactly one write | exactly once |")
    print("| --- | ---: | ---: | ---: | --- |")
    for _ack, _write, exact in rows.values():
        print(exact)
    if skipped:
        print(f"\n{skipped}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-postgres", action="store_true", help="only the one-replica SQLite rows")
    args = parser.parse_args(argv)
    asyncio.run(_main(not args.no_postgres))


if __name__ == "__main__":
    main(sys.argv[1:])
