"""The operations listener: /livez, /readyz from a cached probe (no PD call per hit), /metrics from counts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from actions.errors import ClusterUnavailable
from actions.ports import ClusterHealth
from bot.metrics import Metrics
from bot.ops_server import Readiness, build_ops_app
from store.sqlite import SqliteProposalStore, open_store


@dataclass
class CountingCluster:
    calls: int = 0
    down: bool = False

    async def health(self) -> ClusterHealth:
        self.calls += 1
        if self.down:
            raise ClusterUnavailable("PD is unreachable")
        return ClusterHealth(leader="pd-1", members=3, healthy_members=3)


@dataclass
class FlakySlack:
    calls: int = 0
    failures: list[Exception] = field(default_factory=list)

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"ok": True}


@dataclass
class Ops:
    url: str
    cluster: CountingCluster
    slack: FlakySlack
    readiness: Readiness
    store: SqliteProposalStore


@pytest.fixture
async def ops(tmp_path: Path) -> AsyncIterator[Ops]:
    store = await open_store(str(tmp_path / "ops.db"))
    cluster, slack = CountingCluster(), FlakySlack(failures=[RuntimeError("invalid_auth")])
    readiness = Readiness(cluster, store, slack_auth=slack, interval=3600, timeout=1)  # type: ignore[arg-type]
    runner = web.AppRunner(build_ops_app(Metrics(), store, readiness, clusters=["default"]))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield Ops(f"http://127.0.0.1:{runner.addresses[0][1]}", cluster, slack, readiness, store)
    finally:
        await runner.cleanup()
        await store.aclose()


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await (
            answer.json() if answer.content_type == "application/json" else answer.text()
        )


async def test_livez_answers_while_the_process_does(ops: Ops) -> None:
    assert await _get(ops.url + "/livez") == (200, {"ok": True})


async def test_readyz_reads_the_cached_probe_and_never_calls_pd_itself(ops: Ops) -> None:
    status, report = await _get(ops.url + "/readyz")
    assert status == 503 and report["pd"]["error"] == "not probed yet"
    await ops.readiness.probe()  # Slack refuses the token this time
    status, report = await _get(ops.url + "/readyz")
    assert status == 503 and report["pd"]["ok"] and report["db"]["ok"] and not report["slack"]["ok"]
    await ops.readiness.probe()
    for _ in range(20):
        status, report = await _get(ops.url + "/readyz")
        assert status == 200 and report["ok"]
    assert ops.cluster.calls == 2  # two probes, twenty-odd hits
    assert ops.slack.calls == 2  # asked until it accepted the token once
    ops.cluster.down = True
    assert (await _get(ops.url + "/readyz"))[0] == 200  # the probe has not run since
    await ops.readiness.probe()
    status, report = await _get(ops.url + "/readyz")
    assert status == 503 and "unreachable" in report["pd"]["error"] and ops.slack.calls == 2


async def test_the_background_probe_refreshes_until_stopped(ops: Ops) -> None:
    readiness = Readiness(ops.cluster, ops.store, slack_auth=None, interval=0.01)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(readiness.run(stop))
    try:
        async with asyncio.timeout(10):
            while readiness.probes < 3:  # noqa: ASYNC110  # polls a counter the task bumps
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert readiness.report()["ok"] and ops.cluster.calls >= 3


async def test_metrics_show_the_counted_proposals(ops: Ops) -> None:
    status, text = await _get(ops.url + "/metrics")
    assert status == 200
    assert 'tikv_chatops_proposals{cluster="default",state="pending"} 0.0' in text
    assert 'tikv_chatops_slack_owed{kind="card"} 0.0' in text
    assert ops.cluster.calls == 0


async def test_other_clusters_pds_are_shown_but_do_not_decide_readiness(ops: Ops) -> None:
    """With a clusters file, staging's PD outage shows in /readyz's body while prod stays ready."""
    staging = CountingCluster(down=True)
    readiness = Readiness(
        ops.cluster,  # type: ignore[arg-type]
        ops.store,
        slack_auth=None,
        others={"staging": staging},  # type: ignore[dict-item]
    )
    assert readiness.report()["clusters"]["staging"]["error"] == "not probed yet"
    await readiness.probe()
    report = readiness.report()
    assert report["ok"] and report["pd"]["ok"]
    assert not report["clusters"]["staging"]["ok"] and "unreachable" in report["clusters"]["staging"]["error"]
    assert staging.calls == 1 and ops.cluster.calls == 1
    staging.down = False
    await readiness.probe()
    assert readiness.report()["clusters"]["staging"]["ok"]
    ops.cluster.down = True
    await readiness.probe()
    assert not readiness.report()["ok"]  # the default cluster's PD still decides
