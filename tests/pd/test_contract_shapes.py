"""The simulator's bodies have the shapes of PD's recorded bodies: the same keys in the same
order with the same JSON types, and operator strings in the same format."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pd.simulator import ManualClock
from pd.simulator.testing import Backend

V1 = "/pd/api/v1"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
GO_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+\d+\.\d{9}"
OPERATOR = (
    r"[a-z-]+ \{[^{}]*\} \(kind:[a-z,-]+, region:\d+\(\d+, \d+\), "
    rf"createAt:{GO_TIME}, startAt:{GO_TIME}, currentStep:\d+, size:\d+, "
    r"steps:\[\d+:\{[^{}]+\}(, \d+:\{[^{}]+\})*\], timeout:\[[0-9hmsµ.]+\]\)( finished| timeout)?"
)
STATUS = re.compile(rf"^status: (RUNNING|SUCCESS|CANCEL|REPLACE|TIMEOUT), operator: {OPERATOR}$")
RECORD = re.compile(rf"^{OPERATOR} \(finishAt:{GO_TIME}, duration:[0-9hmsµn.]+\)$")


def shape(value: Any) -> Any:
    """Keys (in order) and JSON types; a list is described by its first item."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def get(pd: Backend, path: str, **params: str) -> Any:
    response = await pd.client.get(f"{V1}{path}", params=params)
    assert response.status_code == 200, (path, response.text)
    return json.loads(response.text)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/health", "health.json"),
        ("/members", "members.json"),
        ("/leader", "leader.json"),
        ("/cluster", "cluster.json"),
        ("/cluster/status", "cluster_status.json"),
        ("/version", "version.json"),
        ("/status", "status.json"),
        ("/config/replicate", "config_replicate.json"),
        ("/config/pd-server", "config_pd_server.json"),
        ("/config/cluster-version", "cluster_version.json"),
        ("/regions/count", "regions_count.json"),
        ("/store/1", "store.json"),
        ("/schedulers", "schedulers.json"),
        ("/scheduler-config/balance-leader-scheduler/list", "scheduler_config_balance_leader_list.json"),
        ("/scheduler-config/evict-slow-store-scheduler/list", "scheduler_config_evict_slow_store_list.json"),
    ],
)
async def test_bodies_have_the_recorded_shapes(sim_pd: Backend, path: str, name: str) -> None:
    """GET bodies match the recorded fixture key for key, type for type."""
    assert shape(await get(sim_pd, path)) == shape(fixture(name))


async def test_config_sections_have_the_recorded_keys(sim_pd: Backend) -> None:
    """GET /config and /config/schedule list PD's keys in PD's order."""
    assert [k for k, _ in shape(await get(sim_pd, "/config"))] == list(fixture("config.json"))
    schedule = await get(sim_pd, "/config/schedule")
    recorded = fixture("config_schedule.json")
    assert list(schedule) == list(recorded)
    assert shape(schedule["default-store-limit"]) == shape(recorded["default-store-limit"])
    assert shape(schedule["store-limit"]["1"]) == shape(recorded["store-limit"]["1"])
    assert shape(schedule["schedulers-v2"]) == shape(recorded["schedulers-v2"])


async def test_lists_have_the_recorded_item_shapes(sim_pd: Backend) -> None:
    """Stores, limits, regions, hot peers, operator objects and scheduler lists match their fixtures."""
    pd = sim_pd
    model, _ = pd.sim()
    assert shape(await get(pd, "/stores")) == shape(fixture("stores.json"))
    assert shape(await get(pd, "/stores/limit"))[0] == shape(fixture("stores_limit.json"))[0]
    region = model.regions[pd.region]
    assert [k for k, _ in shape(await get(pd, f"/region/id/{region.id}"))] == list(fixture("region.json"))
    model.add_down_peer(region.id, pd.follower_store, down_seconds=2400)
    model.add_pending_peer(region.id, pd.follower_store)
    assert shape(await get(pd, "/regions/check/down-peer")) == shape(fixture("regions_check_down_peer.json"))
    model.set_region_flow(region.id, written_bytes=64 * 1024 * 1024, written_keys=65536, write_query=8000)
    hot = await get(pd, "/hotspot/regions/write")
    recorded = fixture("hotspot_regions_write.json")
    store = str(pd.leader_store)
    assert shape(hot["as_peer"][store]) == shape(recorded["as_peer"]["1"])
    assert shape(hot["as_leader"][store]) == shape(recorded["as_peer"]["1"])
    quiet = model.regions[pd.quiet_region]
    target = next(p.store_id for p in quiet.peers if p is not quiet.leader)
    created = await pd.client.post(
        f"{V1}/operators", json={"name": "transfer-leader", "region_id": quiet.id, "to_store_id": target}
    )
    assert created.status_code == 200
    assert shape(await get(pd, "/operators", object="")) == shape(fixture("operators_object.json"))
    await pd.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 1})
    await pd.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 4})
    assert shape(await get(pd, "/scheduler-config/evict-leader-scheduler/list")) == shape(
        fixture("scheduler_config_evict_leader_list.json")
    )
    await pd.client.post(f"{V1}/schedulers", json={"name": "grant-leader-scheduler", "store_id": 3})
    granted = await get(pd, "/scheduler-config/grant-leader-scheduler/list")
    recorded_grant = fixture("scheduler_config_grant_leader_list.json")
    assert list(granted) == list(recorded_grant)
    assert shape(granted["store-id-ranges"]["3"]) == shape(recorded_grant["store-id-ranges"]["6"])
    await pd.client.post(f"{V1}/schedulers/balance-region-scheduler", json={"delay": 60})
    paused = await get(pd, "/schedulers", status="paused", timestamp="true")
    assert shape(paused) == shape(fixture("schedulers_paused_timestamp.json"))


async def test_operator_strings_have_pds_format(sim_pd: Backend) -> None:
    """Operator status strings and records follow ``Operator.String()``, like the recorded ones."""
    assert STATUS.match(fixture("operator_region_running.json"))
    assert STATUS.match(fixture("operator_region_success.json"))
    assert RECORD.match(fixture("operator_records.json")[0])
    pd = sim_pd
    model, _ = pd.sim()
    await pd.client.post(
        f"{V1}/operators", json={"name": "remove-peer", "region_id": pd.region, "store_id": pd.leader_store}
    )
    running = await get(pd, f"/operators/{pd.region}")
    assert STATUS.match(running), running
    assert all(re.fullmatch(OPERATOR, item) for item in await get(pd, "/operators"))
    clock = model.clock
    assert isinstance(clock, ManualClock)
    clock.advance(1)
    finished = await get(pd, f"/operators/{pd.region}")
    assert (
        STATUS.match(finished) and finished.startswith("status: SUCCESS") and finished.endswith(" finished")
    )
    records = await get(pd, "/operators/records")
    assert len(records) == 1 and RECORD.match(records[0]), records
