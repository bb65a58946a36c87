"""The agent's test bench: ``agent_env`` wires a real stack around an ``AgentLoop``, with a movable clock
and a notifier that records the cards it would post.

Everything the agent talks to is real: the PD simulator over HTTP through ``PDClient``, ``PDObserver``
and ``PDCluster``, the SQLite store, ``Operations`` and the policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from actions.executor import Executor
from actions.models import ActionResult, ActionType, Proposal
from actions.operations import Operations
from actions.policy import Policy
from actions.ports import CardRef
from agent.advice import Advisor
from agent.loop import AgentLoop, AgentSettings
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.observer import PDObserver
from pd.simulator import ClusterModel, ManualClock, SimulatorServer
from store.sqlite import SqliteProposalStore, open_store

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PROPOSAL_CHANNEL = "C0PROPOSALS"


class FakeClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordingNotifier:
    """Records the cards the bot would post, and where."""

    published: list[tuple[Proposal, str | None]] = field(default_factory=list)
    updates: list[Proposal] = field(default_factory=list)

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        self.published.append((proposal, channel))
        return CardRef(channel=channel or "C0OPS", message_ts=f"1700000000.{proposal.id:06d}")

    async def update(self, proposal: Proposal) -> None:
        self.updates.append(proposal)

    async def progress(self, proposal: Proposal, text: str) -> None:
        return None

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        return None


def healthy_model(stores: int = 5, regions: int = 200) -> ClusterModel:
    """A balanced simulated cluster with no hot region and nothing flagged."""
    return ClusterModel.generate(stores, regions, seed=1, clock=ManualClock(), hot_fraction=0.0)


@dataclass
class Env:
    model: ClusterModel
    loop: AgentLoop
    store: SqliteProposalStore
    notifier: RecordingNotifier
    clock: FakeClock
    operations: Operations
    client: PDClient
    pd_requests: list[httpx.Request] = field(default_factory=list)

    def posted(self) -> list[tuple[ActionType, dict[str, Any]]]:
        return [(p.request.action, dict(p.request.params)) for p, _ in self.notifier.published]


@asynccontextmanager
async def agent_env(
    model: ClusterModel,
    *,
    policy: Policy | None = None,
    settings: AgentSettings | None = None,
    advisor: Advisor | None = None,
    observer_wrapper: Callable[[PDObserver], Any] | None = None,
) -> AsyncIterator[Env]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    policy = policy or Policy()
    clock = FakeClock()
    notifier = RecordingNotifier()
    async with (
        SimulatorServer(model, tick_interval=None) as sim,
        httpx.AsyncClient(event_hooks={"request": [record]}) as http,
    ):
        client = PDClient(http, [sim.url], read_retries=0)
        cluster = PDCluster(client)
        store = await open_store(":memory:")
        try:
            executor = Executor(cluster, store, notifier, clock, poll_interval=0.01)
            operations = Operations(cluster, store, notifier, policy, executor, clock)
            observer: Any = PDObserver(client)
            if observer_wrapper is not None:
                observer = observer_wrapper(observer)
            loop = AgentLoop(
                observer,
                store,
                operations,
                policy,
                channel=PROPOSAL_CHANNEL,
                advisor=advisor,
                settings=settings or AgentSettings(interval=0.01),
                clock=clock,
            )
            yield Env(model, loop, store, notifier, clock, operations, client, seen)
        finally:
            await store.aclose()
