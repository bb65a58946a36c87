"""PD simulator at production size: load time for 100 stores x 200,000 regions, memory, and GET
latencies over real HTTP on 127.0.0.1 (one client, sequential requests).

Run alone with ``python -m bench.bench_simulator``; ``make bench`` runs it with the others.
Prints a Markdown section on stdout.
"""

from __future__ import annotations

import asyncio
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable

import httpx

from pd.simulator import ClusterModel, ManualClock, SimulatorServer

STORES = 100
REGIONS = 200_000
V1 = "/pd/api/v1"


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _timings(client: httpx.AsyncClient, paths: Callable[[int], str], count: int) -> list[float]:
    await client.get(paths(0))
    out: list[float] = []
    for i in range(count):
        started = time.perf_counter()
        response = await client.get(paths(i))
        out.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{paths(i)} answered {response.status_code}")
    return out


async def main() -> None:
    """Generate, serve, measure, print."""
    rss_before = _rss_mib()
    started = time.perf_counter()
    model = ClusterModel.generate(STORES, REGIONS, 1, clock=ManualClock())
    load_s = time.perf_counter() - started
    rss_after = _rss_mib()
    rng = random.Random(1)
    region_ids = rng.sample(sorted(model.regions), 500)
    store_ids = sorted(model.stores)
    regions = list(model.regions_in_order())
    cases: list[tuple[str, Callable[[int], str], int]] = [
        ("GET /stores (100 stores)", lambda i: f"{V1}/stores", 50),
        ("GET /store/{id}", lambda i: f"{V1}/store/{store_ids[i % len(store_ids)]}", 300),
        ("GET /region/id/{id}", lambda i: f"{V1}/region/id/{region_ids[i % len(region_ids)]}", 500),
        (
            "GET /region/key/{key}?format=hex",
            lambda i: f"{V1}/region/key/{regions[(i * 397) % len(regions)].start_key or '00'}?format=hex",
            500,
        ),
        ("GET /regions/key?limit=16", lambda i: f"{V1}/regions/key?key=t&limit=16", 200),
        ("GET /regions/writeflow (top 16 of 200k)", lambda i: f"{V1}/regions/writeflow", 20),
        ("GET /hotspot/regions/write", lambda i: f"{V1}/hotspot/regions/write", 10),
        ("GET /regions/check/down-peer", lambda i: f"{V1}/regions/check/down-peer", 50),
        ("GET /operators", lambda i: f"{V1}/operators", 300),
    ]
    rows = []
    async with (
        SimulatorServer(model, tick_interval=None) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        for name, paths, count in cases:
            times = await _timings(client, paths, count)
            times.sort()
            p50 = statistics.median(times) * 1000
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
            rows.append(f"| {name} | {count} | {p50:.2f} | {p99:.2f} |")
        started = time.perf_counter()
        everything = await client.get(f"{V1}/regions", timeout=120)
        all_regions_s = time.perf_counter() - started
    print("## PD simulator at scale\n")
    print(f"{STORES} stores, {REGIONS:,} regions, 3 replicas; Python {sys.version.split()[0]}.\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| generate (load) | {load_s:.2f} s |")
    print(f"| max RSS after load | {rss_after:.0f} MiB (+{rss_after - rss_before:.0f} MiB) |")
    print(f"| GET /regions (all, {len(everything.content) / 1e6:.0f} MB) | {all_regions_s:.2f} s |")
    print()
    print("| request | n | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
