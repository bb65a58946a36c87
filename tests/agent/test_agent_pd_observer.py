"""PDObserver over the real PDClient and PD's recorded answers: snapshots, request counting, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from actions.errors import ClusterRejected, ClusterUnavailable
from actions.models import ActionType
from actions.observe import HotKind, RegionCheck
from agent.findings import FindingKind
from agent.observe import observe
from agent.rules import evaluate
from pd.client import PDClient
from pd.observer import PDObserver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"

ROUTES = {
    "/pd/api/v1/stores": "stores.json",
    "/pd/api/v1/hotspot/regions/write": "hotspot_regions_write.json",
    "/pd/api/v1/hotspot/regions/read": None,
    "/pd/api/v1/regions/check/down-peer": "regions_check_down_peer.json",
    "/pd/api/v1/regions/check/pending-peer": None,
    "/pd/api/v1/regions/check/miss-peer": None,
    "/pd/api/v1/regions/check/oversized-region": None,
    "/pd/api/v1/regions/size": "regions_writeflow.json",
    "/pd/api/v1/regions/writeflow": "regions_writeflow.json",
    "/pd/api/v1/regions/readflow": None,
    "/pd/api/v1/schedulers": "schedulers.json",
    "/pd/api/v1/scheduler-config/evict-leader-scheduler/list": "scheduler_config_evict_leader_list.json",
    "/pd/api/v1/config/schedule": "config_schedule.json",
    "/pd/api/v1/config/replicate": "config_replicate.json",
}
EMPTY = {
    "/pd/api/v1/hotspot/regions/read": b'{"as_peer":{},"as_leader":{}}',
}


def pd_fixtures(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path not in ROUTES:
            return httpx.Response(404, text="404 page not found\n", headers={"content-type": "text/plain"})
        name = ROUTES[path]
        if path == "/pd/api/v1/schedulers" and request.url.params.get("status") == "paused":
            return httpx.Response(200, content=b"[]", headers={"content-type": "application/json"})
        body = (FIXTURES / name).read_bytes() if name else EMPTY.get(path, b'{"count":0,"regions":[]}')
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return handler


@pytest.fixture
async def http() -> AsyncIterator[tuple[PDObserver, list[httpx.Request]]]:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(pd_fixtures(seen))) as client:
        yield PDObserver(PDClient(client, ["http://pd:2379"], read_retries=0)), seen


async def test_stores_become_snapshots_with_bytes_and_counts(
    http: tuple[PDObserver, list[httpx.Request]],
) -> None:
    """PD's StoreInfo is read into StoreSnapshot: state name, byte sizes from PD's strings, counts."""
    observer, seen = http
    stores = {s.id: s for s in await observer.stores()}
    assert stores[5].state_name == "Down"
    assert stores[1].capacity_bytes == 1024**4
    assert stores[1].leader_count == 412
    assert observer.requests_made == 1 == len(seen)
    assert seen[0].headers["X-Caller-ID"] == "tikv-chatops/agent"


async def test_hot_regions_are_one_entry_per_region_from_the_leader(
    http: tuple[PDObserver, list[httpx.Request]],
) -> None:
    """Region 8, listed under two stores' peers and under its leader's store, is one region led by 4."""
    observer, _ = http
    [hot] = await observer.hot_regions(HotKind.WRITE)
    assert (hot.region_id, hot.leader_store_id, hot.store_ids, hot.hot_degree) == (8, 4, (1, 4, 5), 12)


async def test_schedulers_include_the_evicted_stores_only_when_evict_leader_runs(
    http: tuple[PDObserver, list[httpx.Request]],
) -> None:
    """With evict-leader listed, its store list is read too (the list, the paused ones, the stores)."""
    observer, seen = http
    state = await observer.schedulers()
    assert state.evict_leader_store_ids == (1, 4)
    assert "balance-leader-scheduler" in state.names and state.paused == ()
    assert [r.url.path for r in seen][-1].endswith("/evict-leader-scheduler/list")
    assert [str(r.url.params) for r in seen[:2]] == ["", "status=paused"]
    assert observer.requests_made == 3


async def test_down_peer_check_keeps_the_down_stores(http: tuple[PDObserver, list[httpx.Request]]) -> None:
    """Down and pending peers of /regions/check/down-peer survive the conversion."""
    observer, _ = http
    regions = await observer.regions_check(RegionCheck.DOWN_PEER)
    assert [(r.id, r.down_peer_store_ids, r.pending_peer_store_ids) for r in regions] == [
        (2, (5,), (5,)),
        (8, (5,), (5,)),
    ]


async def test_one_observation_of_the_recorded_cluster_finds_what_it_shows(
    http: tuple[PDObserver, list[httpx.Request]],
) -> None:
    """Stores 1 and 4 are Up but evicted; store 5 has been Down for an hour, with the down peers of
    regions 2 and 8; a new store 6 holds a third of the regions the others do."""
    observer, seen = http
    obs = await observe(observer, at=datetime(2026, 11, 2, tzinfo=UTC), top_n=16)
    assert obs.errors == ()
    assert obs.requests == len(seen) == 15
    evaluation = evaluate(obs)
    keys = [f.key for f in evaluation.findings]
    assert keys == [
        "store-down:5",
        "stale-evict-leader:1",
        "stale-evict-leader:4",
        "region-imbalance:cluster",
        "hot-write:8",
    ]
    down = evaluation.findings[0]
    assert [(p.action, dict(p.params)) for p in down.proposals] == [
        (ActionType.OFFLINE_STORE, {"store_id": 5})
    ]
    evidence = {e.label: e.value for e in down.evidence}
    assert evidence["regions with a replica down on store 5"] == "2"
    assert evidence["store 5 last heartbeat"] == "1h00m ago"
    assert "past max-store-down-time (30m0s)" in down.title
    assert FindingKind.DOWN_PEER in evaluation.evaluated


async def test_pd_errors_become_cluster_errors() -> None:
    """PD unreachable (503) is ClusterUnavailable; a refusal is ClusterRejected; both are counted."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stores"):
            return httpx.Response(503, text="[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\n")
        return httpx.Response(400, json="unknown sub tree region type")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        observer = PDObserver(PDClient(client, ["http://pd:2379"], read_retries=0))
        with pytest.raises(ClusterUnavailable):
            await observer.stores()
        with pytest.raises(ClusterRejected):
            await observer.regions_check(RegionCheck.MISS_PEER)
        assert observer.requests_made == 2


async def test_a_failed_read_leaves_its_rules_out_of_the_cycle() -> None:
    """When only the hotspot read fails, the observation says so and hot rules are not evaluated."""
    seen: list[httpx.Request] = []
    serve = pd_fixtures(seen)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/pd/api/v1/hotspot/"):
            return httpx.Response(500, text="[PD:apiutil:ErrRedirect]redirect failed\n")
        return serve(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        observer = PDObserver(PDClient(client, ["http://pd:2379"], read_retries=0))
        obs = await observe(observer, at=datetime(2026, 11, 2, tzinfo=UTC), top_n=16)
    assert obs.hot_write is None and obs.hot_read is None
    assert len(obs.errors) == 2 and obs.pd_leaderless == ""
    evaluated = evaluate(obs).evaluated
    assert FindingKind.HOT_WRITE not in evaluated
    assert FindingKind.STORE_DOWN in evaluated
