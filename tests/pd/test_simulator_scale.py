"""The simulator at size, and its command line (``python -m pd.simulator``)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys

import httpx
import pytest

from pd.simulator import ClusterModel, ManualClock, SimulatorServer

V1 = "/pd/api/v1"


@pytest.mark.slow
async def test_large_cluster_loads_and_answers_every_lookup() -> None:
    """100 stores and 50,000 regions load into a consistent model, and the store, region and flow
    lookups answer in PD's shapes. How fast is measured by ``bench/bench_simulator.py``: a timed
    assertion here would fail on a busy machine without anything being wrong."""
    model = ClusterModel.generate(100, 50_000, 1, clock=ManualClock())
    model.verify()
    ids = sorted(model.regions)[::997]
    async with (
        SimulatorServer(model, tick_interval=None) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        stores = json.loads((await client.get(f"{V1}/stores")).text)
        assert stores["count"] == 100
        for region_id in ids:
            region = json.loads((await client.get(f"{V1}/region/id/{region_id}")).text)
            assert region["id"] == region_id and region["peers"]
        flow = json.loads((await client.get(f"{V1}/regions/writeflow")).text)
        assert 0 < flow["count"] == len(flow["regions"])  # the top regions by write flow
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
