"""The simulator refuses what PD refuses (docs/pd-refusals.md): witness peers and reject-leader stores
never lead, merges need fully replicated regions; and PD's label-property endpoint."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pd.client import PDClient
from pd.cluster import PDCluster
from pd.simulator import ClusterModel, ManualClock, SimulatorServer
from pd.simulator.topology import Region

V1 = "/pd/api/v1"
NOT_ALLOWED = "cannot create operator: target leader is not allowed"


@pytest.fixture
async def served() -> AsyncIterator[tuple[ClusterModel, httpx.AsyncClient]]:
    model = ClusterModel.generate(5, 30, 11, clock=ManualClock(), step_delay=0.02)
    async with (
        SimulatorServer(model, tick_interval=None) as server,
        httpx.AsyncClient(base_url=server.url, timeout=5.0) as client,
    ):
        yield model, client


def _region(model: ClusterModel) -> Region:
    return next(
        r
        for r in sorted(model.regions.values(), key=lambda r: r.id)
        if r.leader is not None and len(r.peers) == 3
    )


def _follower(region: Region) -> int:
    return next(p.store_id for p in region.peers if p is not region.leader)


async def _transfer(client: httpx.AsyncClient, region: int, store: int) -> httpx.Response:
    return await client.post(
        f"{V1}/operators", json={"name": "transfer-leader", "region_id": region, "to_store_id": store}
    )


async def test_a_witness_never_becomes_leader_and_shows_in_the_region(
    served: tuple[ClusterModel, httpx.AsyncClient],
) -> None:
    model, client = served
    region = _region(model)
    target = _follower(region)
    model.set_witness(region.id, target)
    shown: dict[str, Any] = (await client.get(f"{V1}/region/id/{region.id}")).json()
    witness = [p for p in shown["peers"] if p.get("is_witness")]
    assert [p["store_id"] for p in witness] == [target]
    assert list(witness[0]) == ["role_name", "id", "store_id", "is_witness"]
    answer = await _transfer(client, region.id, target)
    assert answer.status_code == 500 and answer.json() == NOT_ALLOWED
    model.set_witness(region.id, target, False)
    assert (await _transfer(client, region.id, target)).status_code == 200


async def test_label_property_reject_leader_keeps_leaders_off_matching_stores(
    served: tuple[ClusterModel, httpx.AsyncClient],
) -> None:
    model, client = served
    region = _region(model)
    target = _follower(region)
    zone = dict(model.store(target).labels)["zone"]
    rule = {"type": "reject-leader", "label-key": "zone", "label-value": zone}
    assert (
        await client.post(f"{V1}/config/label-property", json={"action": "set", **rule})
    ).status_code == 200
    assert (
        await client.post(f"{V1}/config/label-property", json={"action": "set", **rule})
    ).status_code == 200
    expected = {"reject-leader": [{"key": "zone", "value": zone}]}
    assert (await client.get(f"{V1}/config/label-property")).json() == expected
    assert (await client.get(f"{V1}/config")).json()["label-property"] == expected
    answer = await _transfer(client, region.id, target)
    assert answer.status_code == 500 and answer.json() == NOT_ALLOWED
    bad = await client.post(f"{V1}/config/label-property", json={"action": "nope", **rule})
    assert bad.status_code == 500 and bad.json() == "unknown action nope"
    deleted = await client.post(f"{V1}/config/label-property", json={"action": "delete", **rule})
    assert deleted.status_code == 200 and (await client.get(f"{V1}/config/label-property")).json() == {}
    assert (await _transfer(client, region.id, target)).status_code == 200


async def test_a_merge_with_a_witness_is_an_abnormal_peer(
    served: tuple[ClusterModel, httpx.AsyncClient],
) -> None:
    model, client = served
    ordered = model.regions_in_order()
    source, target = next(
        (a, b)
        for a, b in itertools.pairwise(ordered)
        if model.is_replicated(a) and model.is_replicated(b) and a.is_healthy and b.is_healthy
    )
    model.set_witness(target.id, _follower(target))
    body = {"name": "merge-region", "source_region_id": source.id, "target_region_id": target.id}
    answer = await client.post(f"{V1}/operators", json=body)
    assert answer.status_code == 500
    assert json.loads(answer.text) == f"[PD:region:ErrRegionAbnormalPeer]region {target.id} has abnormal peer"


async def test_removing_the_leader_with_no_peer_that_may_lead_is_refused(
    served: tuple[ClusterModel, httpx.AsyncClient],
) -> None:
    model, client = served
    region = _region(model)
    assert region.leader is not None
    leader = region.leader.store_id
    first, second = sorted(p.store_id for p in region.peers if p is not region.leader)
    model.set_witness(region.id, first)
    model.set_store_busy(second)
    body = {"name": "remove-peer", "region_id": region.id, "store_id": leader}
    answer = await client.post(f"{V1}/operators", json=body)
    assert answer.status_code == 500
    assert answer.json() == "fail to build operator: plan is empty, maybe no valid leader"


async def test_the_cluster_adapter_reads_witnesses_label_property_hot_and_degraded_regions() -> None:
    """What preflight and the risk assessment read, through PDCluster against the simulator."""
    model = ClusterModel.generate(5, 30, 11, clock=ManualClock(), step_delay=0.02)
    region = _region(model)
    target = _follower(region)
    model.set_witness(region.id, target)
    model.config.set_label_property("reject-leader", "zone", "z1")
    model.set_region_flow(region.id, written_bytes=10**12)
    async with (
        SimulatorServer(model, tick_interval=None) as server,
        httpx.AsyncClient(timeout=5.0) as http,
    ):
        cluster = PDCluster(PDClient(http, [server.url]))
        snapshot = await cluster.get_region(region.id)
        assert snapshot is not None
        assert [p.store_id for p in snapshot.peers if p.is_witness] == [target]
        assert await cluster.get_reject_leader_labels() == {("zone", "z1")}
        assert region.id in await cluster.get_hot_region_ids()
        assert await cluster.get_degraded_region_ids() == set()
        model.fail_store(target)
        assert await cluster.get_degraded_region_ids() == set(model.store(target).region_ids)
