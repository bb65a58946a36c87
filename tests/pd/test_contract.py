"""PD's HTTP contract (docs/pd.md), checked with raw httpx.

Each check is written once. Checks whose every answer a fixture records run twice through
the ``pd`` fixture: against the live simulator and against the recorded PD (the fixture
files replayed by ``httpx.MockTransport``). The others run against the simulator only, through
``sim_pd``; each says which answer no fixture records.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from pd.simulator import ManualClock
from pd.simulator.testing import DATA_CONTENT_TYPE as DATA_CT
from pd.simulator.testing import JSON_CONTENT_TYPE as JSON_CT
from pd.simulator.testing import TEXT_CONTENT_TYPE as TEXT_CT
from pd.simulator.testing import Backend
from pd.simulator.topology import Region

V1 = "/pd/api/v1"
HEX = re.compile(r"^[0-9A-F]*$")


def rd_json(response: httpx.Response) -> Any:
    """Assert PD's ``rd.JSON`` framing (content type, 2-space indent, trailing newline); return the value."""
    assert response.headers["content-type"] == JSON_CT
    assert response.text.endswith("\n")
    value = json.loads(response.text)
    if isinstance(value, dict | list) and value:
        assert "\n  " in response.text, "rd.JSON bodies are indented with two spaces"
    return value


async def create_transfer_leader(pd: Backend) -> httpx.Response:
    return await pd.client.post(
        f"{V1}/operators",
        json={"name": "transfer-leader", "region_id": pd.region, "to_store_id": pd.follower_store},
    )


# -- operators ---------------------------------------------------------------------------------------


async def test_contract_01_operator_on_missing_region_is_500(pd: Backend) -> None:
    """Check 1: transfer-leader on a missing region is 500 with PD's typed region-not-found text."""
    r = await pd.client.post(
        f"{V1}/operators", json={"name": "transfer-leader", "region_id": pd.missing_region, "to_store_id": 1}
    )
    assert r.status_code == 500
    text = rd_json(r)
    assert text.startswith("[PD:region:ErrRegionNotFound]")
    assert f"region {pd.missing_region} not found" in text


async def test_contract_02_add_peer_takes_store_id(sim_pd: Backend) -> None:
    """Check 2: add-peer reads ``store_id``; ``to_store_id`` is refused with PD's literal 400 text."""
    # Simulator only: no fixture records the 400 "invalid store id to transfer peer to".
    pd = sim_pd
    wrong = {"name": "add-peer", "region_id": pd.region, "to_store_id": pd.foreign_store}
    r = await pd.client.post(f"{V1}/operators", json=wrong)
    assert r.status_code == 400
    assert rd_json(r) == "invalid store id to transfer peer to"
    right = {"name": "add-peer", "region_id": pd.region, "store_id": pd.foreign_store}
    r = await pd.client.post(f"{V1}/operators", json=right)
    assert r.status_code == 200
    assert rd_json(r) == "The operator is created."


async def test_contract_03_transfer_leader_to_store_without_peer(pd: Backend) -> None:
    """Check 3: transfer-leader to a store holding no peer is 500 ``region has no voter in store N``."""
    r = await pd.client.post(
        f"{V1}/operators",
        json={"name": "transfer-leader", "region_id": pd.region, "to_store_id": pd.foreign_store},
    )
    assert r.status_code == 500
    assert rd_json(r) == f"region has no voter in store {pd.foreign_store}"


async def test_contract_04_second_admin_operator_is_refused(pd: Backend) -> None:
    """Check 4: a second admin operator on the same region is 500 ErrAddOperator."""
    first = await create_transfer_leader(pd)
    assert first.status_code == 200
    assert rd_json(first) == "The operator is created."
    second = await create_transfer_leader(pd)
    assert second.status_code == 500
    assert rd_json(second) == "[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"


async def test_contract_05_operator_body_errors(pd: Backend) -> None:
    """Check 5: unknown name, missing name and malformed JSON are 400 (the last an errcode object)."""
    r = await pd.client.post(f"{V1}/operators", json={"name": "foo"})
    assert r.status_code == 400
    assert rd_json(r) == "unknown operator"
    r = await pd.client.post(f"{V1}/operators", json={"region_id": 2})
    assert r.status_code == 400
    assert rd_json(r) == "missing operator name"
    r = await pd.client.post(f"{V1}/operators", content=b"foo")
    assert r.status_code == 400
    assert r.headers["TiDB-Error-Code"] == "input"
    # PD's errcode object with Go's json.SyntaxError; the simulator words it from Python's decoder and
    # its offset can differ by a few bytes (docs/pd.md, "Status codes").
    refused = rd_json(r)
    assert set(refused) == {"code", "msg", "data"} and refused["code"] == "input"
    assert refused["msg"].startswith("invalid character ")
    assert set(refused["data"]) == {"Offset"} and 1 <= refused["data"]["Offset"] <= 3
    if pd.kind == "recorded":
        assert refused["msg"] == "invalid character 'o' in literal false (expecting 'a')"


async def test_contract_06_operator_status_running_then_cancel(sim_pd: Backend) -> None:
    """Check 6: a new operator reads ``status: RUNNING``; after DELETE it reads ``status: CANCEL``."""
    # Simulator only: no fixture records a "status: CANCEL" answer.
    pd = sim_pd
    assert (await create_transfer_leader(pd)).status_code == 200
    r = await pd.client.get(f"{V1}/operators/{pd.region}")
    assert r.status_code == 200
    assert rd_json(r).startswith("status: RUNNING, operator: admin-")
    r = await pd.client.delete(f"{V1}/operators/{pd.region}")
    assert r.status_code == 200
    assert rd_json(r) == "The pending operator is canceled."
    r = await pd.client.get(f"{V1}/operators/{pd.region}")
    assert r.status_code == 200
    assert rd_json(r).startswith("status: CANCEL")


async def test_contract_07_no_operator_is_500(pd: Backend) -> None:
    """Check 7: GET and DELETE of a region never operated are 500 ``operator not found``."""
    for method in ("GET", "DELETE"):
        r = await pd.client.request(method, f"{V1}/operators/{pd.quiet_region}")
        assert r.status_code == 500
        assert "operator not found" in rd_json(r)


async def test_contract_08_operators_are_strings_and_objects(pd: Backend) -> None:
    """Check 8: GET /operators lists strings; ``?object`` lists objects with PD's seven keys."""
    assert (await create_transfer_leader(pd)).status_code == 200
    r = await pd.client.get(f"{V1}/operators")
    assert r.status_code == 200
    listed = rd_json(r)
    assert listed and all(isinstance(item, str) for item in listed)
    r = await pd.client.get(f"{V1}/operators", params={"object": ""})
    objects = rd_json(r)
    assert objects
    for item in objects:
        assert set(item) == {"desc", "brief", "region_id", "region_epoch", "kind", "timeout", "status"}
        assert set(item["region_epoch"]) <= {"conf_ver", "version"}


async def test_contract_08_no_operators_is_an_empty_array(sim_pd: Backend) -> None:
    """Check 8: with no operator, GET /operators is ``[]``; ``?kind=`` with no match is ``null``."""
    # Simulator only: the fixtures record a non-empty list and the ?kind null, not the empty list.
    r = await sim_pd.client.get(f"{V1}/operators")
    assert r.text == "[]\n"
    r = await sim_pd.client.get(f"{V1}/operators", params={"kind": "admin"})
    assert r.text == "null\n"


async def test_contract_09_empty_records_is_500(pd: Backend) -> None:
    """Check 9: GET /operators/records with nothing finished is 500 ``operator not found``."""
    r = await pd.client.get(f"{V1}/operators/records")
    assert r.status_code == 500
    assert "operator not found" in rd_json(r)


async def test_contract_10_merge_of_non_adjacent_regions(pd: Backend) -> None:
    """Check 10: merging regions that do not touch is 500 ``two regions are not adjacent``."""
    source, target = pd.non_adjacent
    r = await pd.client.post(
        f"{V1}/operators",
        json={"name": "merge-region", "source_region_id": source, "target_region_id": target},
    )
    assert r.status_code == 500
    assert "not adjacent" in rd_json(r)


# -- schedulers --------------------------------------------------------------------------------------


async def add_evict_leader(pd: Backend) -> None:
    r = await pd.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 1})
    assert r.status_code == 200
    assert rd_json(r) == "The scheduler is created."
    r = await pd.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": 4})
    assert r.status_code == 200
    assert rd_json(r) == "The scheduler has been applied to the store."


async def test_contract_11_evict_leader_is_one_scheduler_with_a_store_set(pd: Backend) -> None:
    """Check 11: evict-leader needs a numeric store id; a second store joins the same scheduler."""
    r = await pd.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler"})
    assert r.status_code == 400
    assert rd_json(r) == "missing store id"
    r = await pd.client.post(f"{V1}/schedulers", json={"name": "evict-leader-scheduler", "store_id": "abc"})
    assert r.status_code == 400
    assert rd_json(r) == "please input a right store id"
    await add_evict_leader(pd)
    names = rd_json(await pd.client.get(f"{V1}/schedulers"))
    assert names.count("evict-leader-scheduler") == 1
    r = await pd.client.get(f"{V1}/scheduler-config/evict-leader-scheduler/list")
    assert r.status_code == 200
    assert set(rd_json(r)["store-id-ranges"]) == {"1", "4"}


async def test_contract_12_evict_leader_stores_are_removed_one_by_one(pd: Backend) -> None:
    """Check 12: per-store DELETE answers ``null``; the last store removes the scheduler; then 404s."""
    await add_evict_leader(pd)
    r = await pd.client.get(f"{V1}/scheduler-config/evict-leader-scheduler/list")
    assert set(rd_json(r)["store-id-ranges"]) == {"1", "4"}
    r = await pd.client.delete(f"{V1}/schedulers/evict-leader-scheduler-1")
    assert r.status_code == 200
    assert rd_json(r) is None
    assert "evict-leader-scheduler" in rd_json(await pd.client.get(f"{V1}/schedulers"))
    r = await pd.client.delete(f"{V1}/schedulers/evict-leader-scheduler-4")
    assert r.status_code == 200
    assert rd_json(r) is None
    r = await pd.client.delete(f"{V1}/schedulers/evict-leader-scheduler-4")
    assert r.status_code == 404
    assert rd_json(r) is None
    r = await pd.client.get(f"{V1}/scheduler-config/evict-leader-scheduler/list")
    assert r.status_code == 404
    assert r.headers["content-type"] == TEXT_CT
    assert r.text == "404 page not found\n"


async def test_contract_13_existing_and_unknown_schedulers(pd: Backend) -> None:
    """Check 13: adding an existing scheduler is 400 ``scheduler existed``; an unknown name 400."""
    r = await pd.client.post(f"{V1}/schedulers", json={"name": "balance-leader-scheduler"})
    assert r.status_code == 400
    assert "scheduler existed" in rd_json(r)
    r = await pd.client.post(f"{V1}/schedulers", json={"name": "no-such"})
    assert r.status_code == 400
    assert rd_json(r) == "unknown scheduler"


async def test_contract_14_scheduler_not_found_and_missing_pause_time(pd: Backend) -> None:
    """Check 14: DELETE of an unknown scheduler is 404, pausing it 500; a pause without delay 400."""
    r = await pd.client.delete(f"{V1}/schedulers/no-such-scheduler")
    assert r.status_code == 404
    assert "scheduler not found" in rd_json(r)
    r = await pd.client.post(f"{V1}/schedulers/no-such-scheduler", json={"delay": 10})
    assert r.status_code == 500
    assert "scheduler not found" in rd_json(r)
    r = await pd.client.post(f"{V1}/schedulers/balance-region-scheduler", json={})
    assert r.status_code == 400
    assert rd_json(r) == "missing pause time"


async def test_contract_15_pause_and_resume(sim_pd: Backend) -> None:
    """Check 15: a paused scheduler is listed by ``?status=paused`` until ``delay: 0`` resumes it."""
    # Simulator only: no fixture records the paused list after the resume.
    pd = sim_pd
    url = f"{V1}/schedulers/balance-region-scheduler"
    r = await pd.client.post(url, json={"delay": 60})
    assert r.status_code == 200
    assert rd_json(r) == "Pause or resume the scheduler successfully."
    paused = rd_json(await pd.client.get(f"{V1}/schedulers", params={"status": "paused"}))
    assert "balance-region-scheduler" in paused
    assert (
        rd_json(await pd.client.post(url, json={"delay": 0})) == "Pause or resume the scheduler successfully."
    )
    paused = rd_json(await pd.client.get(f"{V1}/schedulers", params={"status": "paused"}))
    assert "balance-region-scheduler" not in paused


# -- config ------------------------------------------------------------------------------------------


async def test_contract_16_config_keys(sim_pd: Backend) -> None:
    """Check 16: POST /config sets bare keys and rejects unknown items and prefixes with 400."""
    # Simulator only: no fixture records the schedule config after an update.
    pd = sim_pd
    r = await pd.client.post(f"{V1}/config", json={"leader-schedule-limit": 8})
    assert r.status_code == 200
    assert rd_json(r) == "The config is updated."
    assert rd_json(await pd.client.get(f"{V1}/config/schedule"))["leader-schedule-limit"] == 8
    r = await pd.client.post(f"{V1}/config", json={"foo": 1})
    assert r.status_code == 400
    assert rd_json(r) == "config item foo not found"
    r = await pd.client.post(f"{V1}/config", json={"replicate.max-replicas": 1})
    assert r.status_code == 400
    assert "not found" in rd_json(r)


async def test_contract_17_config_value_types(pd: Backend) -> None:
    """Check 17: booleans are ``"true"`` strings, merge keys default to 540000, labels a string."""
    schedule = rd_json(await pd.client.get(f"{V1}/config/schedule"))
    assert schedule["enable-tikv-split-region"] == "true"
    assert schedule["max-merge-region-keys"] == 540000
    replicate = rd_json(await pd.client.get(f"{V1}/config/replicate"))
    assert isinstance(replicate["location-labels"], str)


# -- stores ------------------------------------------------------------------------------------------


async def test_contract_18_store_lookups(pd: Backend) -> None:
    """Check 18: unknown store 404, bad id 400 errcode, limit on an unknown store 500."""
    r = await pd.client.get(f"{V1}/store/{pd.missing_store}")
    assert r.status_code == 404
    assert f"store {pd.missing_store} not found" in rd_json(r)
    r = await pd.client.get(f"{V1}/store/abc")
    assert r.status_code == 400
    assert rd_json(r)["code"] == "input"
    r = await pd.client.post(f"{V1}/store/{pd.missing_store}/limit", json={"rate": 10})
    assert r.status_code == 500


async def test_contract_19_store_state_changes(sim_pd: Backend) -> None:
    """Check 19: Tombstone is not settable; Offline and back to Up; too few Up stores; tombstone 410."""
    # Simulator only: no fixture records the store-state success bodies or the 410.
    pd = sim_pd
    model, _ = pd.sim()
    r = await pd.client.post(f"{V1}/store/1/state", params={"state": "Tombstone"})
    assert r.status_code == 400
    assert rd_json(r) == "invalid state Tombstone"
    r = await pd.client.post(f"{V1}/store/1/state", params={"state": "Offline"})
    assert r.status_code == 200
    assert rd_json(r) == "The store's state is updated."
    store = rd_json(await pd.client.get(f"{V1}/store/1"))["store"]
    assert store["state"] == 1
    assert store["state_name"] == "Offline"
    r = await pd.client.post(f"{V1}/store/1/state", params={"state": "Up"})
    assert r.status_code == 200
    store = rd_json(await pd.client.get(f"{V1}/store/1"))["store"]
    assert "state" not in store
    assert store["state_name"] == "Up"
    for store_id in (2, 3):  # leave exactly max-replicas (3) Up stores
        assert (await pd.client.delete(f"{V1}/store/{store_id}")).status_code == 200
    r = await pd.client.post(f"{V1}/store/1/state", params={"state": "Offline"})
    assert r.status_code == 400
    assert "can not remove store 1 since the number of up stores would be" in rd_json(r)
    r = await pd.client.delete(f"{V1}/store/1")
    assert r.status_code == 400
    model.set_store_state(2, "Tombstone")
    r = await pd.client.delete(f"{V1}/store/2")
    assert r.status_code == 410
    assert rd_json(r) == "[PD:core:ErrStoreRemoved]store 2 has been removed"


async def test_contract_20_store_listing_and_states(sim_pd: Backend) -> None:
    """Check 20: tombstones hidden by default, shown with ``?state=2``; names are 500; stale is Down."""
    # Simulator only: no fixture records ?state=2 or the 500 for ?state=Up.
    pd = sim_pd
    model, _ = pd.sim()
    model.set_store_state(3, "Tombstone")
    model.set_store_heartbeat_age(5, 3600)
    listed = rd_json(await pd.client.get(f"{V1}/stores"))
    ids = {s["store"]["id"] for s in listed["stores"]}
    assert 3 not in ids and listed["count"] == len(ids) == 4
    assert all("state_name" in s["store"] for s in listed["stores"])
    assert next(s for s in listed["stores"] if s["store"]["id"] == 5)["store"]["state_name"] == "Down"
    tombstones = rd_json(await pd.client.get(f"{V1}/stores", params={"state": "2"}))
    assert [s["store"]["id"] for s in tombstones["stores"]] == [3]
    r = await pd.client.get(f"{V1}/stores", params={"state": "Up"})
    assert r.status_code == 500
    assert rd_json(r) == 'strconv.Atoi: parsing "Up": invalid syntax'


# -- regions -----------------------------------------------------------------------------------------


async def test_contract_21_region_by_id(pd: Backend) -> None:
    """Check 21: a missing region is 404; a region is compact octet-stream with hex keys and roles."""
    r = await pd.client.get(f"{V1}/region/id/{pd.missing_region}")
    assert r.status_code == 404
    assert f"region {pd.missing_region} not found" in rd_json(r)
    r = await pd.client.get(f"{V1}/region/id/{pd.read_region}")
    assert r.status_code == 200
    assert r.headers["content-type"] == DATA_CT
    assert "\n" not in r.text and ": " not in r.text
    region = json.loads(r.text)
    assert region["id"] == pd.read_region
    assert HEX.match(region["start_key"]) and HEX.match(region["end_key"])
    assert "leader" in region
    assert region["peers"] and all("role_name" in peer for peer in region["peers"])


async def test_contract_22_top_write_flow(sim_pd: Backend) -> None:
    """Check 22: ``/regions/writeflow?limit=2`` is the two biggest writers, descending; bad limit 400."""
    # Simulator only: no fixture records the 400 for a non-numeric limit.
    pd = sim_pd
    r = await pd.client.get(f"{V1}/regions/writeflow", params={"limit": "2"})
    assert r.headers["content-type"] == DATA_CT
    top = json.loads(r.text)
    assert top["count"] == 2
    flows = [region["written_bytes"] for region in top["regions"]]
    model, _ = pd.sim()
    assert flows == sorted((reg.written_bytes for reg in model.regions.values()), reverse=True)[:2]
    r = await pd.client.get(f"{V1}/regions/writeflow", params={"limit": "x"})
    assert r.status_code == 400
    assert rd_json(r) == 'strconv.Atoi: parsing "x": invalid syntax'


# -- members -----------------------------------------------------------------------------------------


async def test_contract_23_followers_proxy_and_no_leader(sim_pd: Backend) -> None:
    """Check 23: a follower answers with the leader's data; without a leader it is 503 plain text."""
    # Simulator only: a recording has one endpoint, not a leader and a follower.
    pd = sim_pd
    _, server = pd.sim()
    follower = server.urls[1]
    from_leader = await pd.client.get(f"{V1}/stores")
    from_follower = await pd.client.get(f"{follower}{V1}/stores")
    assert from_follower.status_code == 200
    assert rd_json(from_follower) == rd_json(from_leader)
    server.faults.no_leader = True
    r = await pd.client.get(f"{follower}{V1}/stores")
    assert r.status_code == 503
    assert r.headers["content-type"] == TEXT_CT
    assert "redirect finds no leader" in r.text


async def test_contract_24_health_members_leader(pd: Backend) -> None:
    """Check 24: health has a boolean per member; members and leader have PD's fields."""
    health = rd_json(await pd.client.get(f"{V1}/health"))
    assert health and all(isinstance(m["health"], bool) for m in health)
    members = rd_json(await pd.client.get(f"{V1}/members"))
    assert {"header", "members", "leader", "etcd_leader"} <= set(members)
    assert "cluster_id" in members["header"]
    assert len(members["members"]) == len(health)
    leader = rd_json(await pd.client.get(f"{V1}/leader"))
    assert {"name", "member_id", "client_urls"} <= set(leader)
    assert leader["name"] == members["leader"]["name"]


# -- every write path, with PD's field names ---------------------------------------------------------


async def test_contract_every_write_path_with_pd_field_names(sim_pd: Backend) -> None:
    """Each write endpoint the bot may call accepts PD's field names, answers PD's text and takes effect."""
    pd = sim_pd
    model, _ = pd.sim()
    clock = model.clock
    assert isinstance(clock, ManualClock)
    client = pd.client
    regions = list(model.regions_in_order())

    def spare(region: Region) -> int:
        return next(s for s in sorted(model.stores) if region.peer_on(s) is None)

    def follower(region: Region) -> int:
        return next(p.store_id for p in region.peers if p is not region.leader)

    async def post_operator(**fields: Any) -> None:
        r = await client.post(f"{V1}/operators", json=fields)
        assert (r.status_code, rd_json(r)) == (200, "The operator is created."), fields

    r0, r1, r2, r3, r4, r5, r6, r7, r8 = regions[1:10]
    new_leader = follower(r0)
    await post_operator(name="transfer-leader", region_id=r0.id, to_store_id=new_leader)
    moved_from, moved_to = follower(r1), spare(r1)
    await post_operator(name="transfer-peer", region_id=r1.id, from_store_id=moved_from, to_store_id=moved_to)
    learner_store, voter_store = spare(r2), spare(r3)
    await post_operator(name="add-learner", region_id=r2.id, store_id=learner_store)
    await post_operator(name="add-peer", region_id=r3.id, store_id=voter_store)
    removed = follower(r4)
    await post_operator(name="remove-peer", region_id=r4.id, store_id=removed)
    split_key = r5.start_key + "80"
    await post_operator(name="split-region", region_id=r5.id, policy="usekey", keys=[split_key])
    await post_operator(name="split-region", region_id=r6.id, policy="approximate")
    new_home = [*[s for s in sorted(model.stores) if r7.peer_on(s) is None][:1], *r7.store_ids[:2]]
    await post_operator(
        name="transfer-region",
        region_id=r7.id,
        to_store_ids=new_home,
        peer_roles=["leader", "voter", "follower"],
    )
    await post_operator(name="scatter-region", region_id=r8.id, group="chatops")
    r = await client.post(f"{V1}/operators", json={"name": "scatter-regions", "region_ids": [regions[12].id]})
    assert rd_json(r) == {"processed-percentage": 100, "error": ""}
    clock.advance(1)
    model.tick()
    assert r0.leader is not None and r0.leader.store_id == new_leader
    assert r1.peer_on(moved_from) is None and r1.peer_on(moved_to) is not None
    assert r2.peer_on(learner_store) is not None and r2.peer_on(learner_store).is_learner  # type: ignore[union-attr]
    assert r3.voter_on(voter_store) is not None
    assert r4.peer_on(removed) is None
    assert model.region_by_key(split_key) is r5 and r5.start_key == split_key.upper()
    assert sorted(r7.store_ids) == sorted(new_home) and r7.leader is not None
    assert r7.leader.store_id == new_home[0]

    left, right = regions[14], regions[15]
    await client.post(
        f"{V1}/operators",
        json={"name": "transfer-region", "region_id": left.id, "to_store_ids": right.store_ids,
              "peer_roles": ["voter"] * len(right.store_ids)},
    )  # fmt: skip
    clock.advance(1)
    model.tick()
    await post_operator(name="merge-region", source_region_id=left.id, target_region_id=right.id)
    clock.advance(1)
    model.tick()
    assert left.id not in model.regions and right.start_key == left.start_key

    await post_operator(name="add-peer", region_id=regions[16].id, store_id=spare(regions[16]))
    r = await client.delete(f"{V1}/operators/{regions[16].id}")
    assert rd_json(r) == "The pending operator is canceled."
    await post_operator(name="add-peer", region_id=regions[17].id, store_id=spare(regions[17]))
    assert rd_json(await client.delete(f"{V1}/operators")) == "All pending operators are canceled."
    assert model.operators.running == {}

    async def ok(method: str, path: str, text: Any, **kwargs: Any) -> None:
        r = await client.request(method, f"{V1}{path}", **kwargs)
        assert (r.status_code, rd_json(r)) == (200, text), path

    created = "The scheduler is created."
    await ok("POST", "/schedulers", created, json={"name": "evict-leader-scheduler", "store_id": 2})
    await ok("POST", "/schedulers", created, json={"name": "grant-leader-scheduler", "store_id": 3})
    await ok("POST", "/schedulers", created, json={"name": "shuffle-hot-region-scheduler", "limit": 2})
    await ok(
        "POST",
        "/schedulers",
        created,
        json={"name": "scatter-range-scheduler", "start_key": "", "end_key": "", "range_name": "r1"},
    )
    assert "scatter-range-scheduler-r1" in model.schedulers.names()
    applied = "The scheduler has been applied to the store."
    await ok(
        "POST", "/scheduler-config/evict-leader-scheduler/config", applied, json={"store_id": 4, "batch": 5}
    )
    assert sorted(model.schedulers.schedulers["evict-leader-scheduler"].stores) == [2, 4]
    await ok("DELETE", "/scheduler-config/evict-leader-scheduler/delete/4", None)
    await ok("DELETE", "/schedulers/evict-leader-scheduler-2", None)
    await ok("DELETE", "/schedulers/grant-leader-scheduler", "The scheduler is removed.")
    await ok("POST", "/schedulers/all", "Pause or resume the scheduler successfully.", json={"delay": 30})
    await ok("POST", "/schedulers/all", "Pause or resume the scheduler successfully.", json={"delay": 0})
    await ok(
        "POST", "/scheduler-config/balance-leader-scheduler/config", "Config is updated.", json={"batch": 8}
    )
    await ok("POST", "/checker/replica", "Pause the checker successfully.", json={"delay": 10})

    updated = "The config is updated."
    await ok("POST", "/config", updated, json={"schedule.leader-schedule-limit": 6, "max-replicas": 3})
    await ok("POST", "/config/schedule", updated, json={"region-schedule-limit": 512})
    await ok("POST", "/config/replicate", updated, json={"location-labels": "zone,rack,host"})
    await ok(
        "POST",
        "/config/cluster-version",
        "The cluster version is updated.",
        json={"cluster-version": "8.5.3"},
    )
    assert model.config.schedule["leader-schedule-limit"] == 6
    assert model.config.schedule["region-schedule-limit"] == 512
    assert model.config.replication["location-labels"] == ["zone", "rack", "host"]
    assert model.config.cluster_version == "8.5.3"

    await ok(
        "POST", "/store/1/limit", "The store's limit is updated.", json={"rate": 20, "type": "remove-peer"}
    )
    await ok("POST", "/stores/limit", "Set store limit successfully.", json={"rate": 25, "type": "add-peer"})
    await ok(
        "POST", "/stores/limit", "Set store limit successfully.", json={"rate": 9, "labels": {"zone": "z1"}}
    )
    assert model.config.store_limits[1] == {"add-peer": 9, "remove-peer": 9}
    assert model.config.store_limits[2] == {"add-peer": 25, "remove-peer": 15}
    await ok("POST", "/store/1/label", "The store's label is updated.", json={"rack": "r1"})
    await ok("DELETE", "/store/1/label", "The label rack is deleted for store 1.", json="rack")
    await ok("POST", "/store/1/weight", "The store's weight is updated.", json={"leader": 2, "region": 1.5})
    assert (model.stores[1].leader_weight, model.stores[1].region_weight) == (2.0, 1.5)
    await ok("POST", "/store/5/state", "The store's state is updated.", params={"state": "offline"})
    await ok("POST", "/store/5/state", "The store's state is updated.", params={"state": "up"})
    await ok("DELETE", "/store/5", "The store is set as Offline.")
    assert model.stores[5].state == 1
    for _ in range(200):  # the Offline store drains, then PD buries it
        clock.advance(0.02)
        model.tick()
    assert model.state_name(model.stores[5]) == "Tombstone"
    await ok("DELETE", "/stores/remove-tombstone", "Remove tombstone successfully.")
    assert 5 not in model.stores
