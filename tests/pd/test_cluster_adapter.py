"""PDCluster over PDClient and a mock transport: PD's answers become snapshots, PD's errors domain errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from actions.catalog import CATALOG, parse_action
from actions.errors import ClusterRejected, ClusterUnavailable
from actions.models import ActionRequest, ActionType, CheckResult, CheckStatus, OperatorOutcome
from actions.preflight import run_preflight
from actions.verify import verify
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.simulator import ClusterModel, ManualClock, SimulatorServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
JSON = "application/json; charset=UTF-8"
OCTET = "application/octet-stream"
TEXT = "text/plain; charset=utf-8"
PD = "http://10.0.1.1:2379"
CALLER = "tikv-chatops/42"

Handler = Callable[[httpx.Request], httpx.Response]

# The answers of a healthy PD, by path, as PD writes them (docs/pd.md, "Response encodings").
ROUTES: dict[str, tuple[int, str, str]] = {
    "/pd/api/v1/health": (200, "health.json", JSON),
    "/pd/api/v1/members": (200, "members.json", JSON),
    "/pd/api/v1/stores": (200, "stores.json", JSON),
    "/pd/api/v1/store/1": (200, "store.json", JSON),
    "/pd/api/v1/store/7": (410, "error_store_removed.json", JSON),
    "/pd/api/v1/store/99": (404, "error_store_not_found.json", JSON),
    "/pd/api/v1/region/id/12": (200, "region.json", OCTET),
    "/pd/api/v1/region/id/999": (404, "error_region_not_found.json", JSON),
    "/pd/api/v1/region/id/998": (200, "region_not_found_v8.5.json", OCTET),
    "/pd/api/v1/operators/2": (200, "operator_region_running.json", JSON),
    "/pd/api/v1/operators/12": (200, "operator_region_success.json", JSON),
    "/pd/api/v1/operators/13": (500, "error_operator_not_found.json", JSON),
    "/pd/api/v1/schedulers": (200, "schedulers.json", JSON),
    "/pd/api/v1/schedulers?status=paused": (200, "schedulers_paused.json", JSON),
    "/pd/api/v1/scheduler-config/evict-leader-scheduler/list": (
        200,
        "scheduler_config_evict_leader_list.json",
        JSON,
    ),
    "/pd/api/v1/config": (200, "config.json", JSON),
    # The label-property section of config.json, as its own endpoint answers it.
    "/pd/api/v1/config/label-property": (200, "config_label_property.json", JSON),
    "/pd/api/v1/stores/limit": (200, "stores_limit.json", JSON),
}

# GET /store/{id} for every store of stores.json (Up, Down and Offline ones).
STORES = {
    f"/pd/api/v1/store/{info['store']['id']}": json.dumps(info, indent=2).encode() + b"\n"
    for info in json.loads((FIXTURES / "stores.json").read_text())["stores"]
    if info["store"]["id"] != 7
}


class FakePD:
    """A mock transport answering from PD's recorded fixtures; ``override`` replaces one path's answer."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.override: dict[str, Handler] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        if key in self.override:
            return self.override[key](request)
        if key in STORES:
            return httpx.Response(200, content=STORES[key], headers={"content-type": JSON})
        if key not in ROUTES:
            return httpx.Response(404, content=b"404 page not found\n", headers={"content-type": TEXT})
        status, name, content_type = ROUTES[key]
        return httpx.Response(
            status, content=(FIXTURES / name).read_bytes(), headers={"content-type": content_type}
        )


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def pd() -> FakePD:
    return FakePD()


@pytest.fixture
async def cluster(pd: FakePD) -> PDCluster:
    http = httpx.AsyncClient(transport=httpx.MockTransport(pd))
    return PDCluster(PDClient(http, [PD], sleep=_no_sleep))


def _answer(status: int, body: object, content_type: str = JSON) -> Handler:
    content = body if isinstance(body, bytes) else json.dumps(body).encode() + b"\n"
    return lambda request: httpx.Response(status, content=content, headers={"content-type": content_type})


def _raise(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


# --- reads become snapshots ------------------------------------------------------------------------


async def test_health_counts_healthy_members_and_names_the_leader(cluster: PDCluster) -> None:
    """/health gives members and their health, /members the leader's name."""
    health = await cluster.health()
    assert (health.leader, health.members, health.healthy_members) == ("pd-10.0.1.1-2379", 3, 2)
    assert health.ok


async def test_health_without_a_pd_leader_reports_no_leader(pd: FakePD, cluster: PDCluster) -> None:
    """A 503 "redirect finds no leader" on /members means no leader, not an error."""
    no_leader = (FIXTURES / "error_redirect_no_leader.txt").read_bytes()
    pd.override["/pd/api/v1/members"] = _answer(503, no_leader, TEXT)
    health = await cluster.health()
    assert health.leader is None
    assert not health.ok


async def test_stores_become_snapshots_with_bytes_and_state_names(cluster: PDCluster) -> None:
    """Sizes in PD's human strings become bytes; state_name is PD's (Down, Offline included)."""
    stores = {s.id: s for s in await cluster.get_stores()}
    assert {i: s.state_name for i, s in stores.items()} == {
        1: "Up",
        4: "Up",
        5: "Down",
        6: "Up",
        7: "Offline",
    }
    assert stores[1].capacity_bytes == 1 << 40
    assert stores[1].available_bytes == round(853.2 * (1 << 30))
    assert stores[1].labels == {"zone": "z1", "host": "tikv-1"}
    one = await cluster.get_store(1)
    assert one is not None and one.leader_count == 412 and one.region_count == 1236


async def test_missing_and_removed_stores(cluster: PDCluster) -> None:
    """404 store not found is None; 410 Gone is a Tombstone."""
    assert await cluster.get_store(99) is None
    gone = await cluster.get_store(7)
    assert gone is not None and gone.state_name == "Tombstone"


async def test_region_becomes_a_snapshot_and_missing_regions_are_none(cluster: PDCluster) -> None:
    """Epoch, leader and roles are kept; master's 404 and v8.5's zero region both mean "no such region"."""
    region = await cluster.get_region(12)
    assert region is not None
    assert (region.conf_ver, region.version, region.leader_store_id) == (9, 6, 4)
    assert {p.store_id: p.role for p in region.peers} == {1: "Voter", 4: "Voter", 6: "Voter", 7: "Learner"}
    assert (
        region.start_key == "7480000000000000FF3F5F728000000000FF0000010000000000FA" and region.end_key == ""
    )
    assert await cluster.get_region(999) is None
    assert await cluster.get_region(998) is None


async def test_operator_status_is_parsed_and_missing_is_none(cluster: PDCluster) -> None:
    """The status string becomes an outcome with desc and brief; "operator not found" (500) is None."""
    running = await cluster.get_operator(2)
    assert running is not None
    assert (running.outcome, running.desc, running.brief) == (
        OperatorOutcome.RUNNING,
        "admin-transfer-leader",
        "transfer leader: store 1 to 4",
    )
    done = await cluster.get_operator(12)
    assert done is not None and done.outcome is OperatorOutcome.SUCCESS and done.desc == "admin-remove-peer"
    assert await cluster.get_operator(13) is None


async def test_schedulers_paused_and_evicted_stores(pd: FakePD, cluster: PDCluster) -> None:
    """Scheduler names, the paused ones, and the stores evict-leader-scheduler evicts ([] when absent)."""
    assert "balance-region-scheduler" in await cluster.get_schedulers()
    assert await cluster.get_paused_schedulers() == ["balance-region-scheduler"]
    assert await cluster.get_evict_leader_store_ids() == [1, 4]
    pd.override["/pd/api/v1/scheduler-config/evict-leader-scheduler/list"] = _answer(
        404, b"404 page not found\n", TEXT
    )
    assert await cluster.get_evict_leader_store_ids() == []


async def test_config_merges_schedule_and_replication_in_pd_types(cluster: PDCluster) -> None:
    """One GET /config; schedule and replication keys side by side, bools still PD's strings."""
    config = await cluster.get_config()
    assert config["leader-schedule-limit"] == 4
    assert config["max-replicas"] == 3
    assert config["enable-placement-rules"] == "true"
    assert config["max-store-down-time"] == "30m0s"
    assert config["low-space-ratio"] == 0.8


async def test_store_limits_by_store(cluster: PDCluster) -> None:
    """GET /stores/limit becomes {store: {"add-peer": rate, "remove-peer": rate}}."""
    limits = await cluster.get_store_limits()
    assert limits[6] == {"add-peer": 30.0, "remove-peer": 15.0}
    assert limits[7]["remove-peer"] == 100000000.0


# --- writes and error translation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [spec.example for spec in CATALOG.values()],
)
async def test_send_puts_the_catalog_request_on_the_wire(pd: FakePD, cluster: PDCluster, typed: str) -> None:
    """Method, path, query, JSON body and X-Caller-ID are exactly what the catalog built."""
    action, params = parse_action(typed.split())
    request = CATALOG[action].pd_request(params)
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    pd.override[f"{request.path}?{query}" if query else request.path] = _answer(
        200, "The operator is created."
    )
    assert await cluster.send(request, caller_id=CALLER) == "The operator is created."
    sent = pd.requests[-1]
    assert sent.method == request.method
    assert sent.url.path == request.path
    assert dict(sent.url.params) == request.query
    assert (json.loads(sent.content) if sent.content else None) == request.body
    assert sent.headers["X-Caller-ID"] == CALLER


async def test_a_pd_refusal_becomes_cluster_rejected_with_pds_message(pd: FakePD, cluster: PDCluster) -> None:
    """A 500 carrying PD's refusal is ClusterRejected: PD's own text and status, not "unavailable"."""
    _, params = parse_action(["transfer-leader", "12", "6"])
    request = CATALOG[ActionType.TRANSFER_LEADER].pd_request(params)
    pd.override[request.path] = _answer(500, "region has no voter in store 6")
    with pytest.raises(ClusterRejected) as caught:
        await cluster.send(request, caller_id=CALLER)
    assert str(caught.value) == "region has no voter in store 6"
    assert caught.value.status == 500 and not caught.value.not_found and not caught.value.maybe_sent


async def test_not_found_and_bad_request_refusals(pd: FakePD, cluster: PDCluster) -> None:
    """404-like refusals set not_found; a 400 keeps its status."""
    request = CATALOG[ActionType.ADD_PEER].pd_request({"region_id": 999, "store_id": 4})
    pd.override[request.path] = _answer(500, "[PD:region:ErrRegionNotFound]region 999 not found")
    with pytest.raises(ClusterRejected) as caught:
        await cluster.send(request, caller_id=CALLER)
    assert caught.value.not_found and "region 999 not found" in str(caught.value)

    pd.override[request.path] = _answer(400, "invalid store id to transfer peer to")
    with pytest.raises(ClusterRejected) as bad:
        await cluster.send(request, caller_id=CALLER)
    assert bad.value.status == 400 and not bad.value.not_found


async def test_a_write_that_timed_out_may_have_been_sent(pd: FakePD, cluster: PDCluster) -> None:
    """A timeout after sending is ClusterUnavailable with maybe_sent: the executor must check, not retry."""
    request = CATALOG[ActionType.EVICT_LEADER].pd_request({"store_id": 4})
    pd.override[request.path] = _raise(httpx.ReadTimeout("timed out"))
    with pytest.raises(ClusterUnavailable) as caught:
        await cluster.send(request, caller_id=CALLER)
    assert caught.value.maybe_sent
    assert sum(1 for r in pd.requests if r.url.path == request.path) == 1


async def test_a_write_that_could_not_connect_was_not_sent(pd: FakePD, cluster: PDCluster) -> None:
    """A connection refused is ClusterUnavailable without maybe_sent."""
    request = CATALOG[ActionType.EVICT_LEADER].pd_request({"store_id": 4})
    pd.override[request.path] = _raise(httpx.ConnectError("connection refused"))
    with pytest.raises(ClusterUnavailable) as caught:
        await cluster.send(request, caller_id=CALLER)
    assert not caught.value.maybe_sent


async def test_plain_text_5xx_from_pds_proxy_is_unavailable(pd: FakePD, cluster: PDCluster) -> None:
    """ "redirect failed" (plain text 500) is PD's plumbing, not a refusal."""
    failed = (FIXTURES / "error_redirect_failed.txt").read_bytes()
    pd.override["/pd/api/v1/store/1"] = _answer(500, failed, TEXT)
    with pytest.raises(ClusterUnavailable, match="redirect failed"):
        await cluster.get_store(1)


async def test_unreadable_answer_is_unavailable(pd: FakePD, cluster: PDCluster) -> None:
    """A 200 the adapter cannot read is reported as PD unavailable, with what was wrong."""
    pd.override["/pd/api/v1/stores"] = _answer(200, {"count": 1, "stores": [{"status": {}}]})
    with pytest.raises(ClusterUnavailable, match="could not be read"):
        await cluster.get_stores()


# --- the port in use --------------------------------------------------------------------------------


async def test_preflight_over_pd_cluster_reads_real_answers(cluster: PDCluster) -> None:
    """Preflight through the adapter sees region 12's leader on store 4, evicting leaders, and refuses."""
    action, params = parse_action(["transfer-leader", "12", "4"])
    report = await run_preflight(ActionRequest(action=action, params=params, requester="U0ALICE"), cluster)
    failed = {c.name: c.message for c in report.failures}
    assert failed == {
        "target holds a voter": "store 4 already holds the leader of region 12; nothing to move",
        "target store": "store 4 is evicting leaders (evict-leader 4), so PD will not move a leader "
        "there; run remove-evict-leader 4 first",
    }
    assert report.facts["region"]["conf_ver"] == 9
    assert cluster.requests_made <= 8


async def test_preflight_over_an_unreachable_pd_fails_its_checks(pd: FakePD, cluster: PDCluster) -> None:
    """Every read failing to connect turns into failed checks saying "PD unreachable", never an exception."""
    for path in [*ROUTES, *STORES]:
        pd.override[path] = _raise(httpx.ConnectError("connection refused"))
    action, params = parse_action(["add-peer", "12", "5"])
    report = await run_preflight(ActionRequest(action=action, params=params, requester="U0ALICE"), cluster)
    assert report.blocked
    assert all(c.status is CheckStatus.FAIL for c in report.checks)
    assert all(c.message.startswith("PD unreachable: ") for c in report.checks)


# --- against the PD simulator: real writes, then verification ----------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[tuple[ClusterModel, PDCluster]]:
    """A 5-store simulator served over HTTP, read and written through PDClient and PDCluster."""
    model = ClusterModel.manual(stores=5, regions=20)
    async with SimulatorServer(model, tick_interval=None) as server, httpx.AsyncClient() as http:
        yield model, PDCluster(PDClient(http, server.urls, sleep=_no_sleep))


def _settle(model: ClusterModel) -> None:
    """Let simulated time pass until PD has no operator left to run."""
    clock = model.clock
    assert isinstance(clock, ManualClock)
    for _ in range(500):
        clock.advance(1.0)
        model.tick()
        if not model.operators.running:
            return
    raise AssertionError(f"operators still running: {list(model.operators.running)}")


async def _run(cluster: PDCluster, model: ClusterModel, words: str, *, settle: bool = True) -> CheckResult:
    """Preflight, send, let PD work, verify: what the executor does, without the approvals."""
    action, params = parse_action(words.split())
    request = ActionRequest(action=action, params=params, requester="U0ALICE")
    report = await run_preflight(request, cluster)
    assert not report.blocked, [(c.name, c.message) for c in report.failures]
    await cluster.send(CATALOG[action].pd_request(params), caller_id=CALLER)
    if settle:
        _settle(model)
    return (await verify(request, report.facts, cluster)).check


async def test_region_actions_change_the_simulator_and_verify(sim: tuple[ClusterModel, PDCluster]) -> None:
    """transfer-leader, add-peer, remove-peer, split and merge all take effect and verify as PASS."""
    model, cluster = sim
    region = next(r for r in model.regions.values() if r.start_key and r.end_key and r.leader is not None)
    leader = region.leader
    assert leader is not None
    follower = next(p.store_id for p in region.peers if p is not leader)
    spare = next(s for s in sorted(model.stores) if region.peer_on(s) is None)
    steps = [
        f"transfer-leader {region.id} {follower}",
        f"add-peer {region.id} {spare}",
        f"remove-peer {region.id} {spare}",
        f"split-region {region.id} usekey {region.start_key}80",
    ]
    for words in steps:
        result = await _run(cluster, model, words)
        assert result.status is CheckStatus.PASS, (words, result.message)
    left = model.region(region.id)
    right = model.region_by_key(left.end_key)
    assert right is not None and right.id != region.id
    merged = await _run(cluster, model, f"merge-region {right.id} {region.id}")
    assert merged.status is CheckStatus.PASS, merged.message
    assert await cluster.get_region(right.id) is None


async def test_cluster_actions_change_the_simulator_and_verify(sim: tuple[ClusterModel, PDCluster]) -> None:
    """Schedulers, config, store limits and draining take effect and verify as PASS."""
    model, cluster = sim
    steps = [
        "evict-leader 5",
        "remove-evict-leader 5",
        "pause-scheduler balance-region-scheduler 600",
        "resume-scheduler balance-region-scheduler",
        "set-config leader-schedule-limit 8",
        "set-config max-store-down-time 1h",
        "set-store-limit 4 30 add-peer",
    ]
    for words in steps:
        result = await _run(cluster, model, words)
        assert result.status is CheckStatus.PASS, (words, result.message)
    assert model.config.get("leader-schedule-limit") == 8
    # Cancelled before PD finished draining it (once empty, store 5 would be a Tombstone for good). A drain
    # under way is not a drain done: offline-store verifies only once the store is a Tombstone.
    result = await _run(cluster, model, "offline-store 5", settle=False)
    assert result.status is CheckStatus.FAIL and "still Offline" in result.message, result.message
    result = await _run(cluster, model, "cancel-offline 5", settle=False)
    assert result.status is CheckStatus.PASS, result.message
    assert model.store(5).state == 0


async def test_undo_restores_what_preflight_recorded(sim: tuple[ClusterModel, PDCluster]) -> None:
    """The inverse built from preflight facts puts the old config value back."""
    _, cluster = sim
    action, params = parse_action(["set-config", "leader-schedule-limit", "8"])
    request = ActionRequest(action=action, params=params, requester="U0ALICE")
    report = await run_preflight(request, cluster)
    await cluster.send(CATALOG[action].pd_request(params), caller_id=CALLER)
    inverse = CATALOG[action].inverse(params, report.facts)
    assert inverse is not None
    undo_action, undo_params = inverse
    await cluster.send(CATALOG[undo_action].pd_request(undo_params), caller_id=CALLER)
    assert (await cluster.get_config())["leader-schedule-limit"] == 4


async def test_simulator_refusals_arrive_as_cluster_rejected(sim: tuple[ClusterModel, PDCluster]) -> None:
    """PD's own refusal text reaches the domain when a request skips preflight."""
    model, cluster = sim
    region = next(iter(model.regions.values()))
    outsider = next(s for s in sorted(model.stores) if region.peer_on(s) is None)
    request = CATALOG[ActionType.TRANSFER_LEADER].pd_request(
        {"region_id": region.id, "to_store_id": outsider}
    )
    with pytest.raises(ClusterRejected) as caught:
        await cluster.send(request, caller_id=CALLER)
    assert str(caught.value) == f"region has no voter in store {outsider}"
    assert caught.value.status == 500
