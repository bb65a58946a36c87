"""Agent benchmark: PD requests and time of one agent cycle as the cluster grows.

For 10 and 100 stores with 10,000 and 200,000 regions, the PD simulator serves a generated cluster
(1% hot regions) over HTTP on 127.0.0.1; the real ``PDClient``, ``PDObserver``, ``PDCluster``, an
in-memory store and ``Operations`` run ``AgentLoop.run_once`` twice: the first cycle finds and
proposes (each proposal runs its preflight against PD), the second finds the same and skips them
(their proposals are open). The agent's own reads must not grow with the region count; the bench
exits non-zero if they do.

    python -m bench.bench_agent [--stores 10 100] [--regions 10000 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

import httpx

from actions.clock import utc_now
from actions.executor import Executor
from actions.models import ActionResult, Proposal
from actions.operations import Operations
from actions.policy import Policy
from actions.ports import CardRef
from agent.loop import AgentLoop, AgentSettings, CycleReport
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.observer import PDObserver
from pd.simulator import ClusterModel, ManualClock, SimulatorServer
from store.sqlite import open_store


class _SilentNotifier:
    """Posts nowhere: the bench measures the agent, not Slack."""

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        return None

    async def update(self, proposal: Proposal) -> None:
        return None

    async def progress(self, proposal: Proposal, text: str) -> None:
        return None

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Row:
    stores: int
    regions: int
    generate_s: float
    first: CycleReport
    first_http: int
    steady: CycleReport
    steady_http: int
    preflight_requests: int

    def line(self) -> str:
        return (
            f"| {self.stores} | {self.regions:,} | {self.first.pd_requests} | {self.steady.pd_requests} "
            f"| {self.preflight_requests} | {len(self.first.findings)} | {len(self.first.proposals)} "
            f"| {self.first.duration_seconds * 1000:,.0f} | {self.steady.duration_seconds * 1000:,.0f} "
            f"| {self.steady.observe_seconds * 1000:,.0f} "
            f"| {(self.steady.duration_seconds - self.steady.observe_seconds) * 1000:,.0f} "
            f"| {self.generate_s:.1f} |"
        )


async def one(stores: int, regions: int) -> Row:
    started = time.perf_counter()
    model = ClusterModel.generate(stores, regions, seed=1, clock=ManualClock())
    generate_s = time.perf_counter() - started
    sent: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request)

    notifier = _SilentNotifier()
    async with (
        SimulatorServer(model, tick_interval=None) as sim,
        httpx.AsyncClient(event_hooks={"request": [count]}, timeout=60) as http,
    ):
        client = PDClient(http, [sim.url], read_retries=0)
        cluster = PDCluster(client)
        store = await open_store(":memory:")
        try:
            policy = Policy()
            executor = Executor(cluster, store, notifier, utc_now, poll_interval=1.0)
            operations = Operations(cluster, store, notifier, policy, executor, utc_now)
            loop = AgentLoop(
                PDObserver(client), store, operations, policy, settings=AgentSettings(), clock=utc_now
            )
            first = await loop.run_once()
            first_http = len(sent)
            steady = await loop.run_once()
            steady_http = len(sent) - first_http
        finally:
            await store.aclose()
    return Row(stores, regions, generate_s, first, first_http, steady, steady_http, cluster.requests_made)


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_agent")
    parser.add_argument("--stores", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--regions", type=int, nargs="+", default=[10_000, 200_000])
    args = parser.parse_args(argv)
    rows = [await one(s, r) for s in args.stores for r in args.regions]

    print("## Agent cycle (PD simulator over HTTP, 1% hot regions)\n")
    print(
        "One `AgentLoop.run_once` against a generated cluster. _agent reads_ are the PD requests the "
        "agent itself makes to observe the cluster (stores, hotspots, regions/check, top-N by size and flow, "
        "schedulers, config); _preflight reads_ are those `Operations.propose` makes to check the "
        "first cycle's proposals. The second (steady) cycle sees the same findings and skips them "
        "because their proposals are still open. Its time splits into _waiting for PD_ (the simulator "
        "answers in this same process, and its regions/check and top-N handlers walk every region, "
        "where PD answers from its region statistics) and _agent work_ (rules, tickets, store).\n"
    )
    print(
        "| stores | regions | agent reads, 1st cycle | agent reads, steady | preflight reads | findings "
        "| proposals | 1st cycle ms | steady cycle ms | steady: waiting for PD ms | steady: agent work ms "
        "| generate s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(row.line())
    reads = {row.steady.pd_requests for row in rows}
    ok = all(row.first.pd_requests == row.steady.pd_requests for row in rows) and len(reads) == 1
    http_ok = all(row.steady_http == row.steady.pd_requests for row in rows)
    print(
        f"\nAgent reads per cycle: {sorted(reads)} — "
        + ("constant across region counts." if ok else "NOT constant: the agent scans regions somewhere.")
        + ("" if http_ok else " (HTTP count differs from the observer's count.)")
    )
    return 0 if ok and http_ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
