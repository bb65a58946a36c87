"""Test doubles for the action core's tests: a movable clock, a recording notifier, a counting cluster.

The cluster wrapper delegates to a real ``Cluster`` (the PD simulator through ``PDClient`` and
``PDCluster``); it only counts writes and can inject a fault around one, so the code under test
still talks to PD's real HTTP API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from actions.catalog import CATALOG
from actions.executor import Executor
from actions.models import (
    ActionApproval,
    ActionRequest,
    ActionResult,
    ActionType,
    Actor,
    Decision,
    PDRequest,
    Proposal,
)
from actions.operations import Operations
from actions.policy import Policy
from actions.ports import (
    ApprovalOutcome,
    CardRef,
    Cluster,
    ClusterHealth,
    OperatorSnapshot,
    RegionSnapshot,
    StoreSnapshot,
)
from actions.preflight import run_preflight
from actions.reconcile import Reconciler
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.simulator import ClusterModel, Operator, SimulatorServer
from store.sqlite import SqliteProposalStore, open_store

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


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
    """Records what people would have been told; ``fail=True`` makes every call raise."""

    fail: bool = False
    published: list[Proposal] = field(default_factory=list)
    updates: list[Proposal] = field(default_factory=list)
    progress_texts: list[tuple[int, str]] = field(default_factory=list)
    finished_results: list[tuple[Proposal, ActionResult]] = field(default_factory=list)
    posted: asyncio.Event = field(default_factory=asyncio.Event)  # set by every publish
    rewritten: asyncio.Event = field(default_factory=asyncio.Event)  # set by every update

    def _maybe_fail(self) -> None:
        if self.fail:
            raise RuntimeError("slack is down")

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        self._maybe_fail()
        self.published.append(proposal)
        self.posted.set()
        return CardRef(channel=channel or "C0OPS", message_ts=f"1700000000.{proposal.id:06d}")

    async def update(self, proposal: Proposal) -> None:
        self._maybe_fail()
        self.updates.append(proposal)
        self.rewritten.set()

    async def progress(self, proposal: Proposal, text: str) -> None:
        self._maybe_fail()
        self.progress_texts.append((proposal.id, text))

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        self._maybe_fail()
        self.finished_results.append((proposal, result))


SendHook = Callable[[PDRequest], Awaitable[None]]


class CountingCluster:
    """A ``Cluster`` that counts ``send`` calls and may run hooks before or after the real send."""

    def __init__(self, inner: Cluster) -> None:
        self.inner = inner
        self.sent: list[tuple[PDRequest, str]] = []
        self.before_send: SendHook | None = None
        self.after_send: SendHook | None = None
        self.send_error: Exception | None = None  # raised instead of sending (nothing reaches PD)
        self.error_after_send: Exception | None = None  # raised after PD answered (a lost reply)
        self.operator_reads = 0

    async def send(self, request: PDRequest, *, caller_id: str) -> Any:
        self.sent.append((request, caller_id))
        if self.before_send is not None:
            await self.before_send(request)
        if self.send_error is not None:
            raise self.send_error
        response = await self.inner.send(request, caller_id=caller_id)
        if self.after_send is not None:
            await self.after_send(request)
        if self.error_after_send is not None:
            raise self.error_after_send
        return response

    async def health(self) -> ClusterHealth:
        return await self.inner.health()

    async def get_stores(self) -> list[StoreSnapshot]:
        return await self.inner.get_stores()

    async def get_store(self, store_id: int) -> StoreSnapshot | None:
        return await self.inner.get_store(store_id)

    async def get_region(self, region_id: int) -> RegionSnapshot | None:
        return await self.inner.get_region(region_id)

    async def get_operator(self, region_id: int) -> OperatorSnapshot | None:
        self.operator_reads += 1
        return await self.inner.get_operator(region_id)

    async def get_schedulers(self) -> list[str]:
        return await self.inner.get_schedulers()

    async def get_paused_schedulers(self) -> list[str]:
        return await self.inner.get_paused_schedulers()

    async def get_evict_leader_store_ids(self) -> list[int]:
        return await self.inner.get_evict_leader_store_ids()

    async def get_config(self) -> dict[str, Any]:
        return await self.inner.get_config()

    async def get_store_limits(self) -> dict[int, dict[str, float]]:
        return await self.inner.get_store_limits()

    async def get_reject_leader_labels(self) -> set[tuple[str, str]]:
        return await self.inner.get_reject_leader_labels()

    async def get_hot_region_ids(self) -> set[int]:
        return await self.inner.get_hot_region_ids()

    async def get_degraded_region_ids(self) -> set[int]:
        return await self.inner.get_degraded_region_ids()


# --- the whole action core over the PD simulator and a real store ------------------------------------


@dataclass
class Env:
    """Everything a test of the action core touches, wired as the composition root wires it."""

    model: ClusterModel
    server: SimulatorServer
    pd: PDCluster
    cluster: CountingCluster
    store: SqliteProposalStore
    notifier: RecordingNotifier
    clock: FakeClock
    policy: Policy
    executor: Executor
    ops: Operations
    reconciler: Reconciler
    admin_operators: list[tuple[str, int]]  # (desc, region) of every admin operator PD accepted

    def transfer_target(self) -> tuple[int, int, int]:
        """(region, its leader's store, a store with a voter of it) — a transfer-leader that passes."""
        for region in sorted(self.model.regions.values(), key=lambda r: r.id):
            if region.leader is None or region.down_peers or region.pending_peers:
                continue
            followers = [p.store_id for p in region.peers if p is not region.leader and not p.is_learner]
            if followers:
                return region.id, region.leader.store_id, followers[0]
        raise AssertionError("the simulated cluster has no region with a follower")

    def store_without_peer(self, region_id: int) -> int:
        """An Up store that holds no peer of ``region_id``."""
        region = self.model.region(region_id)
        for store_id in sorted(self.model.stores):
            if region.peer_on(store_id) is None and self.model.state_name(self.model.store(store_id)) == "Up":
                return store_id
        raise AssertionError(f"every store holds a peer of region {region_id}")


def _count_admin_operators(model: ClusterModel, created: list[tuple[str, int]]) -> None:
    """Record every admin operator the simulator accepts (instance patch; the simulator is untouched)."""
    add = model.operators.add

    def counting_add(*ops: Operator) -> bool:
        accepted = add(*ops)
        if accepted:
            created.extend((op.desc, op.region_id) for op in ops if op.desc.startswith("admin-"))
        return accepted

    model.operators.add = counting_add  # type: ignore[method-assign]


@asynccontextmanager
async def ops_env(
    policy: Policy | None = None,
    *,
    notifier: RecordingNotifier | None = None,
    db_path: str = ":memory:",
    stores: int = 5,
    regions: int = 40,
    step_delay: float = 0.02,
) -> AsyncIterator[Env]:
    """The simulator served on free ports, PDClient + PDCluster over it, a real store, the action core."""
    model = ClusterModel.generate(stores, regions, seed=7, step_delay=step_delay)
    created: list[tuple[str, int]] = []
    _count_admin_operators(model, created)
    clock = FakeClock()
    notifier = notifier if notifier is not None else RecordingNotifier()
    policy = policy if policy is not None else Policy()
    async with SimulatorServer(model, tick_interval=0.02) as server:
        async with httpx.AsyncClient(timeout=5.0) as http:
            pd = PDCluster(PDClient(http, [server.url]))
            cluster = CountingCluster(pd)
            store = await open_store(db_path)
            executor = Executor(cluster, store, notifier, clock, poll_interval=0.01, operator_timeout=10.0)
            ops = Operations(cluster, store, notifier, policy, executor, clock)
            reconciler = Reconciler(cluster, store, notifier, executor, policy, clock)
            try:
                yield Env(
                    model=model,
                    server=server,
                    pd=pd,
                    cluster=cluster,
                    store=store,
                    notifier=notifier,
                    clock=clock,
                    policy=policy,
                    executor=executor,
                    ops=ops,
                    reconciler=reconciler,
                    admin_operators=created,
                )
            finally:
                await executor.aclose()
                await store.aclose()


def transfer_leader(region_id: int, store_id: int, *, requester: str = "U0REQ") -> ActionRequest:
    return ActionRequest(
        action=ActionType.TRANSFER_LEADER,
        params={"region_id": region_id, "to_store_id": store_id},
        requester=requester,
        rationale="leader imbalance",
    )


ALICE = Actor(user_id="U0ALICE", name="alice")
BOB = Actor(user_id="U0BOB", name="bob")
CAROL = Actor(user_id="U0CAROL", name="carol")
REQUESTER = Actor(user_id="U0REQ", name="requester")
AGENT = Actor(user_id="tikv-chatops/agent", name="agent", is_agent=True)


async def approved_proposal(env: Env, request: ActionRequest, *, approver: Actor = ALICE) -> Proposal:
    """An approved proposal stored as-is, its preflight recorded but not enforced (PD may refuse it)."""
    report = await run_preflight(request, env.cluster)
    created = await env.store.create_proposal(
        request=request,
        tier=CATALOG[request.action].tier,
        approvals_required=1,
        preflight=report,
        expires_at=env.clock.now + timedelta(hours=1),
        now=env.clock.now,
    )
    outcome = await env.store.add_approval(
        ActionApproval(
            proposal_id=created.id,
            revision=created.revision,
            approver=approver.user_id,
            decision=Decision.APPROVE,
            decided_at=env.clock.now,
        ),
        required=1,
    )
    assert outcome is ApprovalOutcome.APPROVED
    stored = await env.store.get_proposal(created.id)
    assert stored is not None
    return stored
