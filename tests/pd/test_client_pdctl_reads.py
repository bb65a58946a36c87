"""The read methods added for the pd-ctl-like reads, against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pd.client import PDClient
from pd.errors import PDNotFound, PDRegionNotFound
from pd.simulator import ClusterModel, ManualClock, SimulatorServer
from pd.simulator.topology import Region


@pytest.fixture
async def client() -> AsyncIterator[tuple[PDClient, ClusterModel]]:
    model = ClusterModel.generate(4, 12, 3, clock=ManualClock(), step_delay=0.02)
    async with SimulatorServer(model, tick_interval=None) as server, httpx.AsyncClient() as http:
        yield PDClient(http, [server.url]), model


def ordered_first_last(model: ClusterModel) -> tuple[Region, Region]:
    ordered = sorted(model.regions.values(), key=lambda r: r.start_key)
    return ordered[0], ordered[-1]


async def test_region_by_key_hex_and_raw(client: tuple[PDClient, ClusterModel]) -> None:
    pd, model = client
    second = sorted(model.regions.values(), key=lambda r: r.start_key)[1]
    assert (await pd.get_region_by_key(second.start_key, hex_key=True)).id == second.id
    first, last = ordered_first_last(model)
    # A raw key with a slash and a space reaches PD escaped: "a/b c" sorts before every 0x74… key.
    assert (await pd.get_region_by_key("a/b c")).id == first.id
    assert (await pd.get_region_by_key("zz")).id == last.id
    with pytest.raises(PDRegionNotFound):
        await pd.get_region_by_id(999_999)


async def test_siblings_key_range_labels_and_configs(client: tuple[PDClient, ClusterModel]) -> None:
    pd, model = client
    ordered = sorted(model.regions.values(), key=lambda r: r.start_key)
    middle = ordered[1]
    siblings = await pd.get_region_siblings(middle.id)
    assert [r.id for r in siblings.regions] == [ordered[0].id, ordered[2].id]
    scanned = await pd.get_regions_by_key_range(limit=3)
    assert [r.id for r in scanned.regions] == [r.id for r in ordered[:3]]
    labels = await pd.get_labels()
    assert {(x.key, x.value) for x in labels} == {(k, v) for s in model.stores.values() for k, v in s.labels}
    assert await pd.get_label_property_config() == {}
    config = await pd.get_scheduler_config("balance-leader-scheduler")
    assert isinstance(config, dict) and config["batch"] == 4
    with pytest.raises(PDNotFound):
        await pd.get_scheduler_config("evict-leader-scheduler")
