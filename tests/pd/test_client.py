"""PDClient over a mock transport: the requests it sends, failover, no resend of writes, parsing."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.catalog import CATALOG, parse_action
from actions.models import ActionType, PDRequest
from bot.metrics import Metrics
from bot.pdmetrics import pd_transport
from pd import paths
from pd.client import PDClient, build_http_client, tls_verify
from pd.errors import (
    PDBadRequest,
    PDError,
    PDNoLeader,
    PDOperatorExists,
    PDOperatorNotFound,
    PDRegionNotFound,
    PDResponseError,
    PDServerError,
    PDStoreNotFound,
    PDUnavailable,
)
from pd.models import OperatorStatusKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
JSON = "application/json; charset=UTF-8"
OCTET = "application/octet-stream"
TEXT = "text/plain; charset=utf-8"

# members.json names 10.0.1.1 as the leader.
LEADER = "http://10.0.1.1:2379"
FOLLOWER = "http://10.0.1.2:2379"
DOWN = "http://10.0.1.3:2379"
CALLER = "tikv-chatops/proposal-42"

Handler = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reply(
    status: int = 200, name: str | None = None, *, body: object = None, content_type: str = JSON
) -> httpx.Response:
    """An answer shaped like PD's: a fixture's bytes, or ``body`` encoded the way rd.JSON does."""
    if name is not None:
        content = fixture(name)
        if name.endswith(".txt"):
            content_type = TEXT
    elif isinstance(body, bytes):
        content = body
    else:
        content = json.dumps(body, indent=2).encode() + b"\n"
    return httpx.Response(status, content=content, headers={"content-type": content_type})


def origin(request: httpx.Request) -> str:
    return f"{request.url.scheme}://{request.url.host}:{request.url.port}"


class Recorder:
    """The network: hands each request to ``handler`` and remembers it."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        ]

    def trail(self) -> list[tuple[str, str, str]]:
        return [(origin(r), r.method, r.url.path) for r in self.requests]


@asynccontextmanager
async def connect(
    handler: Handler, endpoints: Sequence[str] = ("http://pd:2379",), **kwargs: Any
) -> AsyncIterator[tuple[PDClient, Recorder]]:
    """The real PDClient over ``httpx.MockTransport``; sleeps are recorded, not slept."""
    recorder = Recorder(handler)

    async def fake_sleep(seconds: float) -> None:
        recorder.sleeps.append(seconds)

    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        yield PDClient(http, endpoints, sleep=fake_sleep, **kwargs), recorder


def refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def raising(error: type[httpx.RequestError], text: str) -> Handler:
    """A handler that fails the way httpx does when the network breaks mid-request."""

    def handle(request: httpx.Request) -> httpx.Response:
        raise error(text, request=request)

    return handle


# --- writes: the catalog's requests, through send --------------------------------------------------

Call = Callable[[PDClient], Awaitable[object]]
OPS = "/pd/api/v1/operators"


def catalog_request(typed: str) -> PDRequest:
    """The request the catalog builds for ``typed`` ("transfer-leader 2 4"): what the executor sends."""
    action, params = parse_action(typed.split())
    return CATALOG[action].pd_request(params)


@pytest.mark.parametrize("action", list(ActionType), ids=str)
async def test_send_puts_each_catalog_write_on_the_wire_once_with_its_caller_id(action: ActionType) -> None:
    """Every action's request (its example's) reaches PD as built: method, path, query and JSON fields,
    sent once, with X-Caller-ID. (The catalog's tests pin each request to PD's own fields.)"""
    request = catalog_request(CATALOG[action].example)
    async with connect(lambda r: reply(body="The operator is created.")) as (pd, net):
        result = await pd.send(request, caller_id=CALLER)
    assert result == "The operator is created."
    [sent] = net.requests
    assert (sent.method, sent.url.path, dict(sent.url.params)) == (
        request.method,
        request.path,
        request.query,
    )
    assert sent.headers["X-Caller-ID"] == CALLER
    assert (json.loads(sent.content) if sent.content else None) == request.body


async def test_writes_default_to_the_clients_caller_id() -> None:
    """Without a per-call override the constructor's caller id is sent."""

    def handle(request: httpx.Request) -> httpx.Response:
        return reply(body=[] if request.method == "GET" else "The operator is created.")

    async with connect(handle, caller_id="tikv-chatops/test") as (pd, net):
        await pd.send(catalog_request("transfer-leader 2 4"))
        await pd.get_schedulers()
    assert [r.headers["X-Caller-ID"] for r in net.requests] == ["tikv-chatops/test", "tikv-chatops/test"]


async def test_send_passes_a_catalog_request_through_and_returns_json() -> None:
    """``send`` sends the given method/path/params/body and returns PD's decoded answer."""
    body = {"name": "scatter-regions", "region_ids": [2, 8]}
    request = PDRequest(
        name="ScatterRegions", method="POST", path=paths.OPERATORS, query={"x": "1"}, body=body
    )
    async with connect(lambda r: reply(name="operator_scatter_regions_ok.json")) as (pd, net):
        result = await pd.send(request, caller_id=CALLER)
    assert result == {"processed-percentage": 100, "error": ""}
    [sent] = net.requests
    assert (sent.method, sent.url.path, dict(sent.url.params)) == ("POST", OPS, {"x": "1"})
    assert json.loads(sent.content) == body
    assert sent.headers["X-Caller-ID"] == CALLER


@pytest.mark.parametrize(
    "call",
    [
        lambda pd: pd.send(PDRequest(name="X", method="POST", path="pd/api/v1/operators")),
        lambda pd: pd.get_regions_check("no-such-check"),
        lambda pd: pd.get_top_regions("hottest"),
        lambda pd: pd.get_store(-1),
    ],
)
async def test_invalid_arguments_fail_before_anything_is_sent(call: Call) -> None:
    """Arguments PD would reject (or choke on) raise ValueError locally and send nothing."""
    async with connect(lambda r: reply(body="ok")) as (pd, net):
        with pytest.raises(ValueError):
            await call(pd)
    assert net.requests == []


# --- reads --------------------------------------------------------------------------------------

READS: list[tuple[str, Call, str, dict[str, list[str]], str, Callable[[Any], object]]] = [
    ("get_health", lambda pd: pd.get_health(), "/pd/api/v1/health", {}, "health.json", lambda r: len(r) == 3),
    (
        "get_stores_states",
        lambda pd: pd.get_stores(states=[0, 1, 2]),
        "/pd/api/v1/stores",
        {"state": ["0", "1", "2"]},
        "stores.json",
        lambda r: r.count,
    ),
    ("get_stores", lambda pd: pd.get_stores(), "/pd/api/v1/stores", {}, "stores.json", lambda r: r.count),
    ("get_store", lambda pd: pd.get_store(1), "/pd/api/v1/store/1", {}, "store.json", lambda r: r.store.id),
    (
        "get_stores_limit",
        lambda pd: pd.get_stores_limit(),
        "/pd/api/v1/stores/limit",
        {},
        "stores_limit.json",
        lambda r: r[6].add_peer,
    ),
    (
        "get_regions_check",
        lambda pd: pd.get_regions_check("down-peer"),
        "/pd/api/v1/regions/check/down-peer",
        {},
        "regions_check_down_peer.json",
        lambda r: r.count,
    ),
    (
        "get_top_regions",
        lambda pd: pd.get_top_regions("writeflow", 2),
        "/pd/api/v1/regions/writeflow",
        {"limit": ["2"]},
        "regions_writeflow.json",
        lambda r: r.regions[0].id,
    ),
    (
        "get_hot_write_regions",
        lambda pd: pd.get_hot_write_regions(),
        "/pd/api/v1/hotspot/regions/write",
        {},
        "hotspot_regions_write.json",
        lambda r: sorted(r.as_peer),
    ),
    (
        "get_hot_read_regions",
        lambda pd: pd.get_hot_read_regions(),
        "/pd/api/v1/hotspot/regions/read",
        {},
        "hotspot_regions_write.json",
        lambda r: sorted(r.as_leader),
    ),
    (
        "get_operators_kind",
        lambda pd: pd.get_operators("admin"),
        "/pd/api/v1/operators",
        {"kind": ["admin"]},
        "operators.json",
        lambda r: len(r),
    ),
    (
        "get_operators_kind_no_match",
        lambda pd: pd.get_operators("waiting"),
        "/pd/api/v1/operators",
        {"kind": ["waiting"]},
        "operators_kind_no_match.json",
        lambda r: r == [],
    ),
    (
        "get_operators_object",
        lambda pd: pd.get_operators_object(),
        "/pd/api/v1/operators",
        {"object": ["true"]},
        "operators_object.json",
        lambda r: [o.region_id for o in r],
    ),
    (
        "get_operator_records",
        lambda pd: pd.get_operator_records(from_ts=1787295000.7),
        "/pd/api/v1/operators/records",
        {"from": ["1787295000"]},
        "operator_records.json",
        lambda r: len(r),
    ),
    (
        "get_schedulers_paused",
        lambda pd: pd.get_schedulers("paused"),
        "/pd/api/v1/schedulers",
        {"status": ["paused"]},
        "schedulers_paused.json",
        lambda r: r,
    ),
    (
        "get_evict_leader_stores",
        lambda pd: pd.get_evict_leader_stores(),
        "/pd/api/v1/scheduler-config/evict-leader-scheduler/list",
        {},
        "scheduler_config_evict_leader_list.json",
        lambda r: r.store_ids,
    ),
    ("get_config", lambda pd: pd.get_config(), "/pd/api/v1/config", {}, "config.json", lambda r: r["name"]),
    (
        "get_schedule_config",
        lambda pd: pd.get_schedule_config(),
        "/pd/api/v1/config/schedule",
        {},
        "config_schedule.json",
        lambda r: r.leader_schedule_limit,
    ),
    (
        "get_replicate_config",
        lambda pd: pd.get_replicate_config(),
        "/pd/api/v1/config/replicate",
        {},
        "config_replicate.json",
        lambda r: r.location_labels,
    ),
]

EXPECTED_READ_VALUES: dict[str, object] = {
    "get_health": True,
    "get_stores_states": 5,
    "get_stores": 5,
    "get_store": 1,
    "get_stores_limit": 30.0,
    "get_regions_check": 2,
    "get_top_regions": 8,
    "get_hot_write_regions": [1, 4, 6],
    "get_hot_read_regions": [1, 4, 6],
    "get_operators_kind": 2,
    "get_operators_kind_no_match": True,
    "get_operators_object": [2, 8],
    "get_operator_records": 1,
    "get_schedulers_paused": ["balance-region-scheduler"],
    "get_evict_leader_stores": (1, 4),
    "get_config": "pd-10.0.1.1-2379",
    "get_schedule_config": 4,
    "get_replicate_config": ("zone", "host"),
}


@pytest.mark.parametrize(
    ("name", "call", "path", "query", "answer_name", "pick"), READS, ids=[read[0] for read in READS]
)
async def test_read_sends_pd_path_and_parses_answer(
    name: str,
    call: Call,
    path: str,
    query: dict[str, list[str]],
    answer_name: str,
    pick: Callable[[Any], object],
) -> None:
    """Each read GETs PD's path and query with X-Caller-ID and parses PD's answer into its model."""
    answer = reply(name=answer_name)
    async with connect(lambda r: answer) as (pd, net):
        result = await call(pd)
    [request] = net.requests
    assert request.method == "GET"
    assert request.url.path == path
    assert {key: request.url.params.get_list(key) for key in request.url.params} == query
    assert request.headers["X-Caller-ID"] == "tikv-chatops"
    assert pick(result) == EXPECTED_READ_VALUES[name]


async def test_reads_accept_a_per_call_caller_id() -> None:
    """Reads send the overriding caller id when given one."""
    async with connect(lambda r: reply(name="stores.json")) as (pd, net):
        await pd.get_stores(caller_id=CALLER)
    assert net.requests[0].headers["X-Caller-ID"] == CALLER


async def test_region_answered_as_octet_stream_parses() -> None:
    """PD's compact ``application/octet-stream`` region body parses into RegionInfo."""
    async with connect(lambda r: reply(name="region.json", content_type=OCTET)) as (pd, net):
        region = await pd.get_region_by_id(12)
    assert net.requests[0].url.path == "/pd/api/v1/region/id/12"
    assert region.id == 12 and region.leader_store_id == 4
    assert [p.store_id for p in region.peers] == [1, 4, 6, 7]


@pytest.mark.parametrize(
    "answer",
    [
        reply(404, name="error_region_not_found.json"),
        reply(200, name="region_not_found_v8.5.json", content_type=OCTET),
    ],
    ids=["master-404", "v8.5-zero-object"],
)
async def test_missing_region_raises_region_not_found(answer: httpx.Response) -> None:
    """A missing region is PDRegionNotFound whether PD says 404 (master) or 200 with id 0 (v8.5)."""
    async with connect(lambda r: answer) as (pd, net):
        with pytest.raises(PDRegionNotFound) as caught:
            await pd.get_region_by_id(999)
    assert caught.value.request_name == "GetRegionByID"
    assert caught.value.path == "/pd/api/v1/region/id/999"
    assert "region 999 not found" in caught.value.message
    assert len(net.requests) == 1


async def test_members_keep_uint64_ids_and_update_the_leader() -> None:
    """get_members returns exact uint64 ids and makes the leader's endpoint the first choice."""

    def handle(request: httpx.Request) -> httpx.Response:
        return reply(name="members.json" if request.url.path == paths.MEMBERS else "stores.json")

    async with connect(handle, [FOLLOWER, LEADER]) as (pd, net):
        members = await pd.get_members()
        assert members.members[1].member_id == 11810397637052137549
        net.requests.clear()
        await pd.get_stores()
    assert net.trail() == [(LEADER, "GET", paths.STORES)]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("RUNNING", OperatorStatusKind.RUNNING),
        ("SUCCESS", OperatorStatusKind.SUCCESS),
        ("CANCEL", OperatorStatusKind.CANCEL),
        ("TIMEOUT", OperatorStatusKind.TIMEOUT),
        ("REPLACE", OperatorStatusKind.REPLACE),
    ],
)
async def test_operator_status_is_parsed(word: str, expected: OperatorStatusKind) -> None:
    """``GET /operators/{id}``'s status string becomes a typed status with desc, brief and text."""
    text = json.loads(fixture("operator_region_running.json")).replace("RUNNING", word, 1)
    async with connect(lambda r: reply(body=text)) as (pd, net):
        status = await pd.get_operator_status(2)
    assert net.requests[0].url.path == "/pd/api/v1/operators/2"
    assert status.status is expected
    assert status.desc == "admin-transfer-leader"
    assert status.brief == "transfer leader: store 1 to 4"
    assert status.region_id == 2


async def test_operator_status_not_found_raises() -> None:
    """No operator in the last ten minutes is PD's 500 ``operator not found``: PDOperatorNotFound."""
    async with connect(lambda r: reply(500, name="error_operator_not_found.json")) as (pd, net):
        with pytest.raises(PDOperatorNotFound):
            await pd.get_operator_status(77)
    assert len(net.requests) == 1


async def test_unreadable_operator_status_is_a_response_error() -> None:
    """A 200 that is not PD's status line raises PDResponseError instead of a bare ValueError."""
    async with connect(lambda r: reply(body={"surprise": True})) as (pd, _):
        with pytest.raises(PDResponseError):
            await pd.get_operator_status(2)
    async with connect(lambda r: reply(body="status: ODD, operator: x")) as (pd, _):
        with pytest.raises(PDResponseError):
            await pd.get_operator_status(2)


async def test_answer_of_the_wrong_shape_is_a_response_error() -> None:
    """A 200 that does not fit the model raises PDResponseError naming the bad field."""
    async with connect(lambda r: reply(body={"count": 1, "stores": [{"status": {}}]})) as (pd, _):
        with pytest.raises(PDResponseError) as caught:
            await pd.get_stores()
    assert "stores.0.store" in caught.value.message


async def test_empty_operator_history_is_an_empty_list() -> None:
    """PD's 500 ``operator not found`` for an empty history reads as ``[]``."""
    async with connect(lambda r: reply(500, name="error_operator_not_found.json")) as (pd, net):
        assert await pd.get_operator_records() == []
    assert len(net.requests) == 1


async def test_evict_leader_not_running_is_an_empty_config() -> None:
    """The scheduler-config mux's 404 for a scheduler that is not running means no evicted stores."""
    async with connect(lambda r: reply(404, name="error_unknown_route.txt")) as (pd, _):
        config = await pd.get_evict_leader_stores()
    assert config.store_ids == ()


# --- error formats through the client -------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected", "message"),
    [
        (reply(500, name="error_region_no_voter.json"), PDServerError, "region has no voter in store 6"),
        (
            reply(400, name="error_malformed_json.json"),
            PDBadRequest,
            "invalid character 'o' in literal false",
        ),
        (reply(503, name="error_redirect_no_leader.txt"), PDNoLeader, "redirect finds no leader"),
        (reply(400, name="error_region_id_zero.json"), PDBadRequest, ""),
        (reply(500, name="error_operator_exists.json"), PDOperatorExists, "maybe already have one"),
        (reply(404, name="error_store_not_found.json"), PDStoreNotFound, "store 99 not found"),
    ],
    ids=["json-string", "errcode-object", "plain-text", "empty-object", "operator-exists", "store-404"],
)
async def test_error_formats_reach_the_caller_typed(
    answer: httpx.Response, expected: type[PDError], message: str
) -> None:
    """All three body formats and ``{}`` become typed errors carrying PD's text and the request."""
    async with connect(lambda r: answer, read_retries=0) as (pd, _):
        with pytest.raises(expected) as caught:
            await pd.get_store(1)
    error = caught.value
    assert message in error.message
    assert error.request_name == "GetStore"
    assert error.path == "/pd/api/v1/store/1"
    assert error.status == answer.status_code
    assert error.endpoint == "http://pd:2379"
    assert error.maybe_sent is False


# --- endpoints, failover and retries --------------------------------------------------------------


def three_members() -> Handler:
    """DOWN refuses connections; FOLLOWER and LEADER answer /members (leader = LEADER) and stores."""

    def handle(request: httpx.Request) -> httpx.Response:
        if origin(request) == DOWN:
            refuse_connection(request)
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        return reply(name="stores.json")

    return handle


async def test_reads_prefer_the_leader_learned_from_members() -> None:
    """With three endpoints (one down, one follower, one leader) reads go to the leader once known."""
    async with connect(three_members(), [DOWN, FOLLOWER, LEADER]) as (pd, net):
        await pd.get_stores()
        await pd.get_stores()
    assert net.trail() == [
        (DOWN, "GET", paths.MEMBERS),
        (FOLLOWER, "GET", paths.MEMBERS),
        (LEADER, "GET", paths.STORES),
        (LEADER, "GET", paths.STORES),
    ]


async def test_read_moves_on_past_leaderless_and_refused_endpoints() -> None:
    """A read skips a 503 no-leader answer and a refused connection; the 503 triggers a leader refresh."""

    def handle(request: httpx.Request) -> httpx.Response:
        host = origin(request)
        if host == DOWN:
            refuse_connection(request)
        if host == LEADER:
            # The member /members named has just lost its leadership.
            return reply(503, name="error_redirect_no_leader.txt")
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        return reply(name="store.json")

    async with connect(handle, [DOWN, FOLLOWER, LEADER]) as (pd, net):
        info = await pd.get_store(1)
        assert info.store.id == 1
        assert net.trail() == [
            (DOWN, "GET", paths.MEMBERS),
            (FOLLOWER, "GET", paths.MEMBERS),
            (LEADER, "GET", "/pd/api/v1/store/1"),
            (DOWN, "GET", "/pd/api/v1/store/1"),
            (FOLLOWER, "GET", "/pd/api/v1/store/1"),
        ]
        net.requests.clear()
        await pd.get_store(1)
    # The failures marked the leader stale: the next call asks /members again before the read.
    assert net.trail()[:3] == [
        (LEADER, "GET", paths.MEMBERS),
        (DOWN, "GET", paths.MEMBERS),
        (FOLLOWER, "GET", paths.MEMBERS),
    ]
    assert net.trail()[-1] == (FOLLOWER, "GET", "/pd/api/v1/store/1")
    assert net.sleeps == []


async def test_leader_going_away_fails_over_to_the_others() -> None:
    """When the known leader stops answering, a read falls back to the other endpoints in order."""
    leader_up = True

    def handle(request: httpx.Request) -> httpx.Response:
        host = origin(request)
        if host == DOWN or (host == LEADER and not leader_up):
            refuse_connection(request)
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        return reply(name="stores.json")

    async with connect(handle, [DOWN, FOLLOWER, LEADER]) as (pd, net):
        await pd.get_stores()
        leader_up = False
        net.requests.clear()
        stores = await pd.get_stores()
    assert stores.count == 5
    assert net.trail() == [
        (LEADER, "GET", paths.STORES),
        (DOWN, "GET", paths.STORES),
        (FOLLOWER, "GET", paths.STORES),
    ]


async def test_read_never_moves_on_after_a_refusal() -> None:
    """A 404 from the leader is final: no other endpoint is asked and nothing is retried."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        return reply(404, name="error_store_not_found.json")

    async with connect(handle, [FOLLOWER, LEADER]) as (pd, net):
        with pytest.raises(PDStoreNotFound):
            await pd.get_store(99)
    assert net.trail() == [(FOLLOWER, "GET", paths.MEMBERS), (LEADER, "GET", "/pd/api/v1/store/99")]
    assert net.sleeps == []


async def test_reads_are_retried_with_backoff() -> None:
    """A read that meets 503 twice is retried after 0.05 s and 0.1 s and then succeeds."""
    answers = [reply(503, name="error_redirect_no_leader.txt")] * 2 + [reply(name="stores.json")]
    async with connect(lambda r: answers.pop(0)) as (pd, net):
        stores = await pd.get_stores()
    assert stores.count == 5
    assert len(net.requests) == 3
    assert net.sleeps == [0.05, 0.1]


async def test_read_gives_up_after_its_retries() -> None:
    """With every endpoint down a read tries each of them 1 + read_retries times, then raises."""
    async with connect(refuse_connection, [FOLLOWER, LEADER], read_retries=1, backoff=0.01) as (pd, net):
        with pytest.raises(PDUnavailable) as caught:
            await pd.get_stores()
    stores_calls = net.calls("GET", paths.STORES)
    assert len(stores_calls) == 4
    assert net.sleeps == [0.01]
    assert caught.value.maybe_sent is False
    assert "no PD endpoint answered" in caught.value.message
    assert FOLLOWER in caught.value.message and LEADER in caught.value.message


async def test_write_moves_on_only_past_a_refused_connection() -> None:
    """A write whose first endpoint refuses the connection (nothing sent) is sent once to the next one."""
    leader_up = True

    def handle(request: httpx.Request) -> httpx.Response:
        if origin(request) == LEADER and not leader_up:
            refuse_connection(request)
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        return reply(name="operator_create_ok.json")

    async with connect(handle, [FOLLOWER, LEADER]) as (pd, net):
        await pd.get_members()
        leader_up = False
        net.requests.clear()
        assert await pd.send(catalog_request("transfer-leader 2 4")) == "The operator is created."
    assert net.trail() == [(LEADER, "POST", OPS), (FOLLOWER, "POST", OPS)]


@pytest.mark.parametrize(
    "failure",
    [
        raising(httpx.ReadTimeout, "timed out"),
        raising(httpx.WriteTimeout, "timed out"),
        raising(httpx.ReadError, "connection reset by peer"),
        raising(httpx.RemoteProtocolError, "server disconnected without sending a response"),
        lambda r: reply(500, name="error_redirect_failed.txt"),
        lambda r: reply(503, name="error_redirect_no_leader.txt"),
        lambda r: reply(502, body=b"<html>bad gateway</html>", content_type="text/html"),
    ],
    ids=["read-timeout", "write-timeout", "read-error", "disconnected", "500-text", "503", "502"],
)
async def test_write_is_not_resent_after_it_may_have_reached_pd(failure: Handler) -> None:
    """After a timeout, broken connection or 5xx a write raises maybe_sent=True and is never resent."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        if origin(request) == LEADER:
            return failure(request)
        return reply(name="operator_create_ok.json")

    async with connect(handle, [FOLLOWER, LEADER], read_retries=3) as (pd, net):
        with pytest.raises(PDUnavailable) as caught:
            await pd.send(catalog_request("add-peer 8 6"), caller_id=CALLER)
    assert net.trail() == [(FOLLOWER, "GET", paths.MEMBERS), (LEADER, "POST", OPS)]
    assert len(net.calls("POST")) == 1
    assert caught.value.maybe_sent is True
    assert net.sleeps == []
    assert "may have reached PD" in str(caught.value)


async def test_write_refused_by_pd_is_not_in_doubt() -> None:
    """PD's semantic 500 refusal on a write is final and definitely not applied (maybe_sent=False)."""
    async with connect(lambda r: reply(500, name="error_region_no_voter.json")) as (pd, net):
        with pytest.raises(PDServerError) as caught:
            await pd.send(catalog_request("transfer-leader 2 6"))
    assert len(net.requests) == 1
    assert caught.value.maybe_sent is False
    assert caught.value.message == "region has no voter in store 6"


async def test_rate_limited_write_is_not_in_doubt() -> None:
    """A 429 from PD's rate limiter means the handler never ran: unavailable, but not maybe sent."""
    async with connect(lambda r: reply(429, name="error_rate_limited.txt")) as (pd, net):
        with pytest.raises(PDUnavailable) as caught:
            await pd.send(catalog_request("resume-scheduler balance-leader-scheduler"))
    assert len(net.requests) == 1
    assert caught.value.maybe_sent is False


async def test_write_with_every_endpoint_refusing_connections_was_not_sent() -> None:
    """When no connection could be made anywhere the write raises with maybe_sent=False, one try each."""
    async with connect(refuse_connection, [DOWN, FOLLOWER, LEADER]) as (pd, net):
        with pytest.raises(PDUnavailable) as caught:
            await pd.send(catalog_request("offline-store 7"))
    assert caught.value.maybe_sent is False
    assert len(net.calls("DELETE", "/pd/api/v1/store/7")) == 3
    assert net.sleeps == []


async def test_send_with_get_is_a_read_and_is_retried() -> None:
    """``send`` treats GET as a read: it fails over and retries."""
    answers = [reply(503, name="error_redirect_no_leader.txt"), reply(body=["balance-leader-scheduler"])]
    async with connect(lambda r: answers.pop(0)) as (pd, net):
        result = await pd.send(PDRequest(name="GetSchedulers", method="GET", path=paths.SCHEDULERS))
    assert result == ["balance-leader-scheduler"]
    assert len(net.requests) == 2


async def test_leader_advertising_an_unknown_address_is_not_dialled() -> None:
    """If the leader's client URL is not a configured endpoint, requests stay on configured endpoints."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == paths.MEMBERS:
            return reply(name="members.json")
        return reply(name="stores.json")

    async with connect(handle, ["http://pd-a:2379", "http://pd-b:2379"]) as (pd, net):
        await pd.get_stores()
    assert {origin(r) for r in net.requests} <= {"http://pd-a:2379", "http://pd-b:2379"}


async def test_single_endpoint_never_asks_for_members() -> None:
    """With one endpoint there is nothing to choose, so no discovery request is made."""
    async with connect(lambda r: reply(name="stores.json"), ["pd:2379/"]) as (pd, net):
        await pd.get_stores()
    assert net.trail() == [("http://pd:2379", "GET", paths.STORES)]


async def test_constructor_rejects_bad_endpoint_lists() -> None:
    """No endpoints, a bare string, or negative retries are configuration mistakes."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse_connection)) as http:
        with pytest.raises(ValueError):
            PDClient(http, [])
        with pytest.raises(TypeError):
            PDClient(http, "http://pd:2379")
        with pytest.raises(ValueError):
            PDClient(http, ["http://pd:2379"], read_retries=-1)


# --- logging ----------------------------------------------------------------------------------------


async def test_one_info_line_per_request_without_write_bodies(caplog: pytest.LogCaptureFixture) -> None:
    """Each request logs one INFO line (name, method, URL, status, ms) on logger "pd"; no body."""
    caplog.set_level(logging.INFO, logger="pd")
    async with connect(lambda r: reply(name="operator_create_ok.json")) as (pd, _):
        await pd.send(catalog_request("transfer-leader 2 4"))
        await pd.send(catalog_request("set-config leader-schedule-limit 8"))
    lines = [record for record in caplog.records if record.name == "pd"]
    assert [record.levelno for record in lines] == [logging.INFO, logging.INFO]
    first = lines[0].getMessage()
    assert first.startswith("TransferLeader POST http://pd:2379/pd/api/v1/operators -> 200 in ")
    assert first.endswith(" ms")
    for record in lines:
        text = record.getMessage()
        assert (
            "transfer-leader" not in text
            and "to_store_id" not in text
            and "leader-schedule-limit" not in text
        )


async def test_transport_failures_are_logged_with_the_exception_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A request that gets no answer still logs its one line, naming the failure."""
    caplog.set_level(logging.INFO, logger="pd")
    async with connect(refuse_connection, read_retries=0) as (pd, _):
        with pytest.raises(PDUnavailable):
            await pd.get_stores()
    [record] = [r for r in caplog.records if r.name == "pd"]
    assert "GetStores GET http://pd:2379/pd/api/v1/stores -> ConnectError" in record.getMessage()


# --- build_http_client ------------------------------------------------------------------------------


async def test_build_http_client_defaults_to_ten_seconds() -> None:
    """The helper's default timeout is 10 s and can be changed."""
    async with build_http_client() as http:
        assert http.timeout == httpx.Timeout(10.0)
    async with build_http_client(timeout=2.5) as http:
        assert http.timeout == httpx.Timeout(2.5)


async def test_build_http_client_uses_an_injected_transport() -> None:
    """A transport passed in is the one requests go through."""
    net = Recorder(lambda r: reply(name="stores.json"))
    async with build_http_client(transport=httpx.MockTransport(net)) as http:
        assert (await PDClient(http, ["http://pd:2379"]).get_stores()).count == 5
    assert len(net.requests) == 1


def test_tls_ignores_a_key_without_a_certificate_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """A client key alone cannot authenticate to PD: like no TLS file at all it leaves the system's CAs
    trusted, and a warning says the key is not used."""
    assert tls_verify() is True
    assert caplog.records == []
    assert tls_verify(key_path="/tmp/client.key") is True
    [warning] = [r for r in caplog.records if r.name == "pd"]
    assert warning.levelno == logging.WARNING and "key without its certificate" in warning.getMessage()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _make_pki(directory: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all EC P-256."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=test-ca", "-days", "1",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    for name, extra in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        (directory / f"{name}.ext").write_text(
            f"{extra}\nbasicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
        )
        _openssl(
            "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=directory
        )
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext",
            cwd=directory,
        )  # fmt: skip


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to mint certificates")
async def test_the_pd_transport_speaks_mutual_tls(tmp_path: Path) -> None:
    """Built as the composition root builds it (``pd_transport`` with PD_CACERT, PD_CERT, PD_KEY), the client
    checks PD's certificate and shows its own; without a certificate PD refuses it."""
    _make_pki(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp_path / "ca.crt"))
    server_context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    server_context.verify_mode = ssl.CERT_REQUIRED
    seen_clients: list[object] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        seen_clients.append(writer.get_extra_info("peercert")["subject"])
        body = fixture("stores.json")
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {JSON}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    endpoint = f"https://127.0.0.1:{port}"
    try:
        mutual = pd_transport(
            Metrics(),
            ca_path=tmp_path / "ca.crt",
            cert_path=tmp_path / "client.crt",
            key_path=tmp_path / "client.key",
        )
        async with build_http_client(timeout=5, transport=mutual) as http:
            assert (await PDClient(http, [endpoint], read_retries=0).get_stores()).count == 5
        assert seen_clients == [((("commonName", "client"),),)]
        ca_only = pd_transport(Metrics(), ca_path=tmp_path / "ca.crt")
        async with build_http_client(timeout=5, transport=ca_only) as http:
            with pytest.raises(PDUnavailable):
                await PDClient(http, [endpoint], read_retries=0).get_stores()
    finally:
        server.close()
        await server.wait_closed()
