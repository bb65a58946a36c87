"""The simulator at size, and its command line (``python -m pd.simulator``)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import statistics
import sys
import time

import httpx
import pytest

from pd.simulator import ClusterModel, ManualClock, SimulatorServer

V1 = "/pd/api/v1"


@pytest.mark.slow
async def test_large_cluster_loads_fast_and_answers_in_milliseconds() -> None:
    """100 stores and 50,000 regions load in seconds; store and region lookups stay in milliseconds."""
    started = time.perf_counter()
    model = ClusterModel.generate(100, 50_000, 1, clock=ManualClock())
    assert time.perf_counter() - started < 5
    model.verify()
    ids = sorted(model.regions)[::997]
    async with (
        SimulatorServer(model, tick_interval=None) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        assert (await client.get(f"{V1}/stores")).status_code == 200  # warm up

        async def p50(paths: list[str]) -> float:
            times = []
            for path in paths:
                began = time.perf_counter()
                r = await client.get(path)
                times.append(time.perf_counter() - began)
                assert r.status_code == 200
            return statistics.median(times)

        assert await p50([f"{V1}/stores"] * 20) < 0.05
        assert await p50([f"{V1}/region/id/{i}" for i in ids]) < 0.01
        assert await p50([f"{V1}/regions/writeflow"] * 5) < 0.5
        top = json.loads((await client.get(f"{V1}/regions/size", params={"limit": "3"})).text)
        assert top["count"] == 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_command_line_serves_pd_until_terminated() -> None:
    """``python -m pd.simulator --port P`` serves PD's stores shape on P and exits cleanly on SIGTERM."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pd.simulator",
        "--port",
        str(port),
        "--stores",
        "4",
        "--regions",
        "50",
        "--members",
        "1",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert b"4 stores, 50 regions" in banner
        leader_line = await asyncio.wait_for(process.stdout.readline(), timeout=5)
        assert f"127.0.0.1:{port}/pd/api/v1".encode() in leader_line
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            stores = json.loads((await client.get(f"{V1}/stores")).text)
        assert stores["count"] == 4
        assert {"store", "status"} <= set(stores["stores"][0])
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=10)
    assert code == 0
