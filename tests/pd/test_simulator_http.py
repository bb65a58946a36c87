"""The simulator over HTTP: routing, region/store/config endpoints, follower rules and faults."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pd.simulator import ClusterModel, ManualClock, SimulatorServer, SystemClock

V1 = "/pd/api/v1"
JSON_CT = "application/json; charset=UTF-8"


@dataclass
class Served:
    """A served model with a client on the first member."""

    model: ClusterModel
    server: SimulatorServer
    client: httpx.AsyncClient
    clock: ManualClock

    def url(self, member: int) -> str:
        return self.server.urls[member]


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """5 stores, 40 regions, 3 members, manual clock, no background ticks."""
    clock = ManualClock()
    model = ClusterModel.generate(5, 40, 11, clock=clock, step_delay=0.02)
    async with SimulatorServer(model, tick_interval=None) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as client:
            yield Served(model, server, client, clock)


def body(response: httpx.Response) -> Any:
    """The decoded body."""
    return json.loads(response.text)


# -- routing -----------------------------------------------------------------------------------------


async def test_unknown_paths_and_wrong_methods_answer_like_gorilla_mux(served: Served) -> None:
    """Unknown path: 404 text ``404 page not found``; known path, wrong method: bare 405."""
    r = await served.client.get(f"{V1}/nope")
    assert (r.status_code, r.headers["content-type"], r.text) == (
        404,
        "text/plain; charset=utf-8",
        "404 page not found\n",
    )
    r = await served.client.get(f"{V1}/regions/check/no-such-kind")
    assert r.status_code == 404
    r = await served.client.put(f"{V1}/operators")
    assert (r.status_code, r.text) == (405, "")
    assert "content-type" not in r.headers
    r = await served.client.get(f"{V1}/store/1/limit")
    assert r.status_code == 405


async def test_ping_and_deprecated_aliases(served: Served) -> None:
    """``/ping`` is an empty 200; ``/pd/health`` and ``/pd/ping`` still answer."""
    r = await served.client.get(f"{V1}/ping")
    assert (r.status_code, r.text) == (200, "")
    assert (await served.client.get("/pd/ping")).status_code == 200
    assert len(body(await served.client.get("/pd/health"))) == 3


async def test_before_any_store_data_endpoints_are_not_bootstrapped() -> None:
    """With no TiKV store, data endpoints are 500 ErrNotBootstrapped; health and config answer."""
    model = ClusterModel(clock=ManualClock())
    async with (
        SimulatorServer(model, tick_interval=None) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        r = await client.get(f"{V1}/stores")
        assert r.status_code == 500
        assert (
            body(r) == "[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first"
        )
        assert (await client.get(f"{V1}/operators")).status_code == 500
        assert (await client.get(f"{V1}/health")).status_code == 200
        assert (await client.get(f"{V1}/config")).status_code == 200


# -- regions -----------------------------------------------------------------------------------------


async def test_region_lookups_by_key_and_range(served: Served) -> None:
    """``/region/key`` (raw or ``format=hex``), ``/regions/key`` scans and ``/regions/count``."""
    regions = list(served.model.regions_in_order())
    target = regions[10]
    r = await served.client.get(f"{V1}/region/key/{target.start_key}", params={"format": "hex"})
    assert r.headers["content-type"] == "application/octet-stream"
    assert body(r)["id"] == target.id
    raw = await served.client.get(f"{V1}/region/key/t")  # raw "t" = 0x74 sorts before every generated key
    assert body(raw)["id"] == regions[0].id
    bad = await served.client.get(f"{V1}/region/key/zz", params={"format": "hex"})
    assert (bad.status_code, body(bad)) == (400, "encoding/hex: invalid byte: U+007A 'z'")
    scanned = body(
        await served.client.get(
            f"{V1}/regions/key", params={"key": target.start_key, "format": "hex", "limit": "3"}
        )
    )
    assert [reg["id"] for reg in scanned["regions"]] == [r.id for r in regions[10:13]]
    count = await served.client.get(f"{V1}/regions/count")
    assert count.headers["content-type"] == JSON_CT
    assert count.text == '{\n  "count": 40,\n  "regions": null\n}\n'


async def test_region_id_errors(served: Served) -> None:
    """A non-numeric region id is a 400 string with Go's ParseUint text; 0 is 400 ``{}``."""
    r = await served.client.get(f"{V1}/region/id/abc")
    assert (r.status_code, body(r)) == (400, 'strconv.ParseUint: parsing "abc": invalid syntax')
    r = await served.client.get(f"{V1}/region/id/0")
    assert (r.status_code, r.text) == (400, "{}\n")


async def test_regions_of_a_store_by_type(served: Served) -> None:
    """``/regions/store/{id}?type=`` filters leaders, followers, learners and pending peers."""
    model = served.model
    store = model.stores[2]
    region = model.regions[min(store.region_ids)]
    model.add_pending_peer(region.id, 2)
    everything = body(await served.client.get(f"{V1}/regions/store/2"))
    assert everything["count"] == store.region_count
    leaders = body(await served.client.get(f"{V1}/regions/store/2", params={"type": "leader"}))
    assert leaders["count"] == store.leader_count
    followers = body(await served.client.get(f"{V1}/regions/store/2", params={"type": "follower"}))
    assert followers["count"] == store.region_count - store.leader_count
    pending = body(await served.client.get(f"{V1}/regions/store/2", params={"type": "pending"}))
    assert [reg["id"] for reg in pending["regions"]] == [region.id]
    r = await served.client.get(f"{V1}/regions/store/2", params={"type": "nope"})
    assert (r.status_code, body(r)) == (400, "unknown sub tree region type nope")
    assert (await served.client.get(f"{V1}/regions/store/99")).text == '{"count":0,"regions":[]}'


async def test_region_checks_follow_the_model(served: Served) -> None:
    """``/regions/check/*`` lists regions with down, pending, learner, offline and missing peers."""
    model = served.model
    regions = list(model.regions_in_order())
    model.add_down_peer(regions[1].id, regions[1].store_ids[0], down_seconds=2400)
    model.add_peer(
        regions[2].id, next(s for s in model.stores if regions[2].peer_on(s) is None), learner=True
    )
    model.remove_peer(regions[3].id, next(p.store_id for p in regions[3].peers if p is not regions[3].leader))
    model.set_region_size(regions[4].id, size_mib=1, keys=0)

    async def ids(kind: str) -> list[int]:
        found = body(await served.client.get(f"{V1}/regions/check/{kind}"))
        return [reg["id"] for reg in found["regions"]]

    assert await ids("down-peer") == [regions[1].id]
    down = body(await served.client.get(f"{V1}/regions/check/down-peer"))["regions"][0]
    assert down["down_peers"][0]["down_seconds"] == 2400
    assert regions[2].id in await ids("learner-peer")
    assert regions[2].id in await ids("extra-peer")
    assert regions[3].id in await ids("miss-peer")
    assert regions[4].id in await ids("empty-region")
    assert await ids("offline-peer") == []
    model.offline_store(5)
    assert set(await ids("offline-peer")) == model.stores[5].region_ids


async def test_siblings_reproduce_pds_nil_region_quirk(served: Served) -> None:
    """``/regions/sibling`` is always two entries; the first region's missing left is an all-zero region."""
    regions = list(served.model.regions_in_order())
    middle = body(await served.client.get(f"{V1}/regions/sibling/{regions[5].id}"))
    assert [reg["id"] for reg in middle["regions"]] == [regions[4].id, regions[6].id]
    first = body(await served.client.get(f"{V1}/regions/sibling/{regions[0].id}"))
    assert [reg["id"] for reg in first["regions"]] == [0, regions[1].id]
    last = body(await served.client.get(f"{V1}/regions/sibling/{regions[-1].id}"))
    assert [reg["id"] for reg in last["regions"]] == [regions[-2].id, regions[-2].id]


async def test_top_lists_are_sorted_and_limited(served: Served) -> None:
    """Every top-N list is descending by its metric; limit defaults to 16 and ``0`` gives none."""
    model = served.model
    for path, metric in [
        ("size", "approximate_size"),
        ("keys", "approximate_keys"),
        ("readflow", "read_bytes"),
    ]:
        top = body(await served.client.get(f"{V1}/regions/{path}"))
        values = [reg[metric] for reg in top["regions"]]
        assert len(values) == 16 and values == sorted(values, reverse=True)
    assert body(await served.client.get(f"{V1}/regions/cpu", params={"limit": "0"})) == {
        "count": 0,
        "regions": [],
    }
    model.set_region_flow(list(model.regions)[3], write_query=10**6)
    top = body(await served.client.get(f"{V1}/regions/writequery", params={"limit": "1"}))
    assert top["regions"][0]["id"] == list(model.regions)[3]


async def test_hot_regions_are_reported_per_store(served: Served) -> None:
    """A region with heavy writes shows up under each of its stores, and as leader under its leader."""
    model = served.model
    region = list(model.regions_in_order())[7]
    model.set_region_flow(region.id, written_bytes=120 * 1024 * 1024, written_keys=60_000)
    hot = body(await served.client.get(f"{V1}/hotspot/regions/write"))
    for store_id in region.store_ids:
        stats = hot["as_peer"][str(store_id)]["statistics"]
        assert region.id in [s["region_id"] for s in stats]
    assert region.leader is not None
    leader_stats = hot["as_leader"][str(region.leader.store_id)]["statistics"]
    item = next(s for s in leader_stats if s["region_id"] == region.id)
    assert item["is_leader"] is True and item["flow_bytes"] == 120 * 1024 * 1024 / 60
    r = await served.client.get(f"{V1}/hotspot/regions/write", params={"store_id": "x"})
    assert (r.status_code, body(r)) == (400, "invalid store id: x")
    r = await served.client.get(f"{V1}/hotspot/regions/read", params={"store_id": "99"})
    assert (r.status_code, body(r)) == (500, "[PD:core:ErrStoreNotFound]store 99 not found")
    rates = body(await served.client.get(f"{V1}/hotspot/stores"))
    assert set(rates) == {
        "bytes-write-rate",
        "bytes-read-rate",
        "keys-write-rate",
        "keys-read-rate",
        "query-write-rate",
        "query-read-rate",
        "cpu-read-rate",
    }


# -- stores ------------------------------------------------------------------------------------------


async def test_store_body_matches_pds_store_info(served: Served) -> None:
    """A store has PD's fields: byte-size strings, ns heartbeat, RFC 3339 times, Go uptime."""
    info = body(await served.client.get(f"{V1}/store/1"))
    store, status = info["store"], info["status"]
    assert list(store) == [
        "id",
        "address",
        "labels",
        "version",
        "peer_address",
        "status_address",
        "git_hash",
        "start_timestamp",
        "deploy_path",
        "last_heartbeat",
        "node_state",
        "state_name",
    ]
    assert status["capacity"].endswith("iB") and status["available"].endswith("B")
    assert store["last_heartbeat"] > 10**18
    assert status["start_ts"].endswith("Z") and status["uptime"].endswith("s")
    assert status["leader_count"] == served.model.stores[1].leader_count


async def test_stores_check_by_state_name(served: Served) -> None:
    """``/stores/check?state=`` matches state names case-insensitively; unknown names are 400."""
    served.model.set_store_heartbeat_age(4, 3600)
    served.model.set_store_heartbeat_age(5, 30)
    down = body(await served.client.get(f"{V1}/stores/check", params={"state": "down"}))
    assert [s["store"]["id"] for s in down["stores"]] == [4]
    both = body(await served.client.get(f"{V1}/stores/check", params={"state": ["Down", "disconnected"]}))
    assert [s["store"]["id"] for s in both["stores"]] == [4, 5]
    r = await served.client.get(f"{V1}/stores/check", params={"state": "sleepy"})
    assert (r.status_code, body(r)) == (400, "unknown StoreState: sleepy")


async def test_store_limit_validation(served: Served) -> None:
    """Store limits: rate unset, non-positive, bad type and ttlSecond are 400s with PD's texts."""
    url = f"{V1}/store/1/limit"
    cases = [
        ({}, "rate unset"),
        ({"rate": 0}, "invalid rate which should be larger than 0"),
        ({"rate": "5"}, "invalid rate which should be larger than 0"),
        ({"rate": 5, "type": 1}, "bad format type"),
        ({"rate": 5, "type": "nope"}, "unknown type"),
    ]
    for payload, text in cases:
        r = await served.client.post(url, json=payload)
        assert (r.status_code, body(r)) == (400, text)
    r = await served.client.post(url, json={"rate": 5}, params={"ttlSecond": "10"})
    assert (r.status_code, body(r)) == (400, "ttlSecond is deprecated")
    r = await served.client.post(url, json={"rate": 30, "type": "add-peer"})
    assert body(r) == "The store's limit is updated."
    assert body(await served.client.get(f"{V1}/stores/limit"))["1"] == {"add-peer": 30, "remove-peer": 15}


async def test_store_progress_while_removing(served: Served) -> None:
    """``/stores/progress`` reports an Offline store; other stores and no query are errors."""
    r = await served.client.get(f"{V1}/stores/progress")
    assert (r.status_code, body(r)) == (400, "need query parameters")
    r = await served.client.get(f"{V1}/stores/progress", params={"id": "2"})
    assert r.status_code == 404
    served.model.offline_store(2)
    for _ in range(6):  # a few operator steps: part of the store's data has moved
        served.clock.advance(0.02)
        served.model.tick()
    progress = body(await served.client.get(f"{V1}/stores/progress", params={"id": "2"}))
    assert progress["action"] == "removing" and progress["store_id"] == 2
    assert 0 < progress["progress"] <= 1


# -- config ------------------------------------------------------------------------------------------


async def test_config_values_use_pds_types(served: Served) -> None:
    """Bool-strings, Go durations and numbers are accepted as PD types and printed back as PD prints them."""
    r = await served.client.post(
        f"{V1}/config",
        json={
            "enable-tikv-split-region": "false",
            "schedule.max-store-down-time": "1h",
            "low-space-ratio": 0.85,
        },
    )
    assert body(r) == "The config is updated."
    schedule = body(await served.client.get(f"{V1}/config/schedule"))
    assert schedule["enable-tikv-split-region"] == "false"
    assert schedule["max-store-down-time"] == "1h0m0s"
    assert schedule["low-space-ratio"] == 0.85
    served.model.set_store_heartbeat_age(3, 40 * 60)
    assert body(await served.client.get(f"{V1}/store/3"))["store"]["state_name"] == "Disconnected"


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (
            {"enable-tikv-split-region": False},
            "json: invalid use of ,string struct tag, trying to unmarshal unquoted value into bool",
        ),
        (
            {"enable-tikv-split-region": "no"},
            'json: invalid use of ,string struct tag, trying to unmarshal "no" into bool',
        ),
        ({"max-store-down-time": "soon"}, 'time: invalid duration "soon"'),
        (
            {"leader-schedule-limit": "8"},
            "json: cannot unmarshal string into Go struct field "
            "ScheduleConfig.leader-schedule-limit of type uint64",
        ),
        (
            {"leader-schedule-limit": 1.5},
            "json: cannot unmarshal number 1.5 into Go struct field "
            "ScheduleConfig.leader-schedule-limit of type uint64",
        ),
        ({"leader-schedule-policy": "fast"}, "leader-schedule-policy fast is invalid"),
        ({"low-space-ratio": 0.5}, "low-space-ratio should be larger than high-space-ratio"),
        ({"replication-mode": "dr"}, "cannot update config prefix replication-mode"),
        ({"schedule.foo": 1}, "config item foo not found"),
        ({"isolation-level": "rack"}, "isolation-level must be one of location-labels or empty"),
    ],
)
async def test_config_rejections_are_400_with_pds_texts(
    served: Served, payload: dict[str, object], text: str
) -> None:
    """POST /config refuses bad types, bad values and unknown keys with 400 and PD's message."""
    r = await served.client.post(f"{V1}/config", json=payload)
    assert (r.status_code, body(r)) == (400, text)


async def test_schedule_config_endpoint_rules(served: Served) -> None:
    """POST /config/schedule ignores unknown keys, 400-errcodes type errors, 500s validation errors."""
    url = f"{V1}/config/schedule"
    r = await served.client.post(url, json={"no-such-key": 1, "region-schedule-limit": 100})
    assert body(r) == "The config is updated."
    assert body(await served.client.get(url))["region-schedule-limit"] == 100
    r = await served.client.post(url, json={"leader-schedule-limit": "x"})
    assert r.status_code == 400 and r.headers["TiDB-Error-Code"] == "input"
    assert body(r)["data"]["Field"] == "leader-schedule-limit"
    r = await served.client.post(url, json={"high-space-ratio": 0.9})
    assert (r.status_code, body(r)) == (500, "low-space-ratio should be larger than high-space-ratio")
    r = await served.client.post(url, json={"enable-joint-consensus": True})
    assert r.status_code == 500
    r = await served.client.post(f"{V1}/config/replicate", json={"max-replicas": "3"})
    assert r.status_code == 400 and body(r)["code"] == "input"


async def test_full_config_is_per_member(served: Served) -> None:
    """GET /config is answered by each member with its own name and URLs."""
    first = body(await served.client.get(f"{V1}/config"))
    second = body(await served.client.get(f"{served.url(1)}{V1}/config"))
    assert first["name"] == "pd-1" and second["name"] == "pd-2"
    assert first["schedule"] == second["schedule"]
    assert first["cluster-version"] == "8.5.2"


# -- operators and schedulers over HTTP ------------------------------------------------------------


async def test_operator_lists_by_kind_and_records(served: Served) -> None:
    """``?kind=`` concatenates PD's per-kind lists; finished operators appear in ``/records``."""
    model = served.model
    regions = list(model.regions_in_order())
    leader_op = regions[3]
    follower = next(p.store_id for p in leader_op.peers if p is not leader_op.leader)
    await served.client.post(
        f"{V1}/operators",
        json={"name": "transfer-leader", "region_id": leader_op.id, "to_store_id": follower},
    )
    region_op = regions[4]
    spare = next(s for s in model.stores if region_op.peer_on(s) is None)
    await served.client.post(
        f"{V1}/operators", json={"name": "add-learner", "region_id": region_op.id, "store_id": spare}
    )
    kinds = {"kind": ["admin", "leader", "nonsense"]}
    listed = body(await served.client.get(f"{V1}/operators", params=kinds))
    assert len(listed) == 3
    served.clock.advance(1)
    records = body(await served.client.get(f"{V1}/operators/records"))
    assert len(records) == 2 and all("(finishAt:" in r for r in records)
    future = int(served.clock.now()) + 100
    r = await served.client.get(f"{V1}/operators/records", params={"from": str(future)})
    assert r.status_code == 500


async def test_split_keys_that_are_not_an_array_kill_the_request(served: Served) -> None:
    """PD's unchecked type assertion on ``keys`` panics: the connection closes with no answer."""
    region = list(served.model.regions)[2]
    with pytest.raises(httpx.RemoteProtocolError):
        await served.client.post(
            f"{V1}/operators",
            json={"name": "split-region", "region_id": region, "policy": "usekey", "keys": "AB"},
        )


async def test_paused_schedulers_with_timestamps(served: Served) -> None:
    """``?status=paused&timestamp`` lists paused_at/resume_at as RFC 3339 times."""
    await served.client.post(f"{V1}/schedulers/balance-leader-scheduler", json={"delay": 300})
    listed = body(
        await served.client.get(f"{V1}/schedulers", params={"status": "paused", "timestamp": "true"})
    )
    assert listed == [
        {
            "name": "balance-leader-scheduler",
            "paused_at": "2026-08-21T07:00:00Z",
            "resume_at": "2026-08-21T07:05:00Z",
        }
    ]
    r = await served.client.post(f"{V1}/schedulers/balance-leader-scheduler", json={"delay": "soon"})
    assert r.status_code == 400 and body(r)["code"] == "input"


async def test_evict_leader_store_errors(served: Served) -> None:
    """Creating evict-leader on an unknown store is 400; adding one to it later is PD's double-quoted 500."""
    r = await served.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 9})
    assert (r.status_code, body(r)) == (400, "[PD:core:ErrStoreNotFound]store 9 not found")
    await served.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 1})
    r = await served.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 9})
    assert r.status_code == 500
    assert r.text == '"\\"[PD:core:ErrStoreNotFound]store 9 not found\\"\\n"\n'
    status = body(await served.client.get(f"{V1}/store/1"))["status"]
    assert status["pause_leader_transfer_in"] is True


async def test_scheduler_config_routes(served: Served) -> None:
    """Per-scheduler config: 404 for absent schedulers, ``not implements`` for some, 405 for wrong methods."""
    assert (await served.client.get(f"{V1}/scheduler-config/evict-leader-scheduler/list")).status_code == 404
    r = await served.client.get(f"{V1}/scheduler-config/balance-region-scheduler/list")
    assert (r.status_code, r.text) == (200, "not implements")
    r = await served.client.get(f"{V1}/scheduler-config/balance-leader-scheduler/list")
    assert body(r) == {"ranges": [{"end-key": "", "start-key": ""}], "batch": 4}
    assert (
        await served.client.post(f"{V1}/scheduler-config/balance-leader-scheduler/list")
    ).status_code == 405
    r = await served.client.post(
        f"{V1}/scheduler-config/balance-leader-scheduler/config", json={"batch": 200}
    )
    assert (r.status_code, body(r)) == (
        400,
        "invalid batch size which should be an integer between 1 and 100",
    )


async def test_checkers_pause_and_report(served: Served) -> None:
    """``/checker/{name}``: paused flag, pause/resume messages, unknown checker 500, negative delay 400."""
    assert body(await served.client.get(f"{V1}/checker/merge")) == {"paused": False}
    assert (
        body(await served.client.post(f"{V1}/checker/merge", json={"delay": 30}))
        == "Pause the checker successfully."
    )
    assert body(await served.client.get(f"{V1}/checker/merge")) == {"paused": True}
    assert (
        body(await served.client.post(f"{V1}/checker/merge", json={"delay": 0}))
        == "Resume the checker successfully."
    )
    r = await served.client.get(f"{V1}/checker/nope")
    assert (r.status_code, body(r)) == (500, "[PD:checker:ErrCheckerNotFound]checker not found")
    r = await served.client.post(f"{V1}/checker/merge", json={"delay": -1})
    assert (r.status_code, body(r)) == (400, "delay cannot be negative")


# -- members and faults ------------------------------------------------------------------------------


async def test_follower_handle_header_and_redirector_loop(served: Served) -> None:
    """With PD-Allow-follower-handle a follower serves region reads only; a PD-Redirector loop is 500."""
    follower = served.url(1)
    region = next(iter(served.model.regions))
    local = {"PD-Allow-follower-handle": "true"}
    assert (await served.client.get(f"{follower}{V1}/region/id/{region}", headers=local)).status_code == 200
    r = await served.client.get(f"{follower}{V1}/operators", headers=local)
    assert (r.status_code, body(r)) == (
        500,
        "[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first",
    )
    r = await served.client.get(f"{follower}{V1}/stores", headers={"PD-Redirector": "pd-3"})
    assert (r.status_code, r.text) == (500, "[PD:apiutil:ErrRedirectToNotLeader]redirect to not leader\n")


async def test_no_leader_fault_spares_local_endpoints(served: Served) -> None:
    """Without a leader every member answers 503 for cluster data, but health and ping still answer."""
    served.server.faults.no_leader = True
    for url in served.server.urls:
        r = await served.client.get(f"{url}{V1}/stores")
        assert (r.status_code, r.text) == (503, "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\n")
        assert (await served.client.get(f"{url}{V1}/health")).status_code == 200
    served.server.faults.no_leader = False
    assert (await served.client.get(f"{V1}/stores")).status_code == 200


async def test_forced_and_random_failures(served: Served) -> None:
    """``fail_next(n)`` fails exactly n requests; ``error_500_rate = 1`` fails every request."""
    faults = served.server.faults
    faults.fail_next(2)
    statuses = [(await served.client.get(f"{V1}/version")).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    faults.error_500_rate = 1.0
    r = await served.client.get(f"{V1}/stores")
    assert (r.status_code, r.text) == (500, "[PD:apiutil:ErrRedirect]redirect failed\n")
    faults.clear()
    assert (await served.client.get(f"{V1}/stores")).status_code == 200


async def test_slow_and_hanging_pd(served: Served) -> None:
    """``slow_seconds`` delays answers; ``hang`` holds them until released (a client times out)."""
    faults = served.server.faults
    faults.slow_seconds = 0.2
    started = time.perf_counter()
    assert (await served.client.get(f"{V1}/ping")).status_code == 200
    assert time.perf_counter() - started >= 0.2
    faults.slow_seconds = 0
    faults.hang = True
    with pytest.raises(httpx.ReadTimeout):
        await served.client.get(f"{V1}/ping", timeout=0.2)
    pending = asyncio.create_task(served.client.get(f"{V1}/ping"))
    await asyncio.sleep(0.1)
    assert not pending.done()
    faults.hang = False
    assert (await pending).status_code == 200


async def test_member_down_refuses_connections_and_moves_leadership(served: Served) -> None:
    """A downed leader's port refuses connections; the next member leads; it comes back as a follower."""
    faults = served.server.faults
    first = served.url(0)
    faults.member_down("pd-1")
    await served.server.settle()
    with pytest.raises(httpx.ConnectError):
        await served.client.get(f"{first}{V1}/ping")
    leader = body(await served.client.get(f"{served.url(2)}{V1}/leader"))
    assert leader["name"] == "pd-2"
    health = body(await served.client.get(f"{served.url(1)}{V1}/health"))
    assert [m["health"] for m in health] == [False, True, True]
    faults.member_up("pd-1")
    await served.server.settle()
    assert (await served.client.get(f"{first}{V1}/ping")).status_code == 200
    assert body(await served.client.get(f"{first}{V1}/leader"))["name"] == "pd-2"


async def test_served_cluster_runs_operators_on_its_own() -> None:
    """With the wall clock and a ticking server, an operator finishes without anyone driving time."""
    model = ClusterModel.generate(5, 20, 5, clock=SystemClock(), step_delay=0.02)
    async with (
        SimulatorServer(model, tick_interval=0.02) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        region = next(iter(model.regions.values()))
        spare = next(s for s in model.stores if region.peer_on(s) is None)
        r = await client.post(
            f"{V1}/operators", json={"name": "add-peer", "region_id": region.id, "store_id": spare}
        )
        assert r.status_code == 200
        for _ in range(100):
            status = body(await client.get(f"{V1}/operators/{region.id}"))
            if str(status).startswith("status: SUCCESS"):
                break
            await asyncio.sleep(0.02)
        assert str(status).startswith("status: SUCCESS")
        assert region.peer_on(spare) is not None
