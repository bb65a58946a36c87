"""Fixtures for PD tests: the simulator served on 127.0.0.1, and a "recorded PD" that replays
the response fixtures in ``tests/fixtures/pd`` through ``httpx.MockTransport``.

Both are reached through a plain ``httpx.AsyncClient`` wrapped in a ``Backend`` naming the
ids a check should use: the simulator's come from its model, the recording's are the ids the
fixtures were written with (region 2 on stores 1, 4, 5 led from 1; store 6 holds none of it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pd.simulator import ClusterModel, ManualClock, SimulatorServer
from pd.simulator.testing import (
    DATA_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    Answer,
    Backend,
    Recorded,
    RecordedPD,
    simulator_facts,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
RECORDED_URL = "http://pd.recorded:2379"
V1 = "/pd/api/v1"
ERRCODE = {"TiDB-Error-Code": "input"}
RECORDED_FACTS: dict[str, Any] = {
    "region": 2,
    "leader_store": 1,
    "follower_store": 4,
    "foreign_store": 6,
    "quiet_region": 4,
    "read_region": 12,
    "non_adjacent": (2, 12),
}


def simulator_model(stores: int = 5, regions: int = 20, seed: int = 7) -> ClusterModel:
    """A small cluster on a hand-driven clock: operators only move when a test advances time."""
    return ClusterModel.generate(stores, regions, seed, clock=ManualClock(), step_delay=0.02)


def ok(fixture: str) -> Answer:
    """A 200 answer with an ``rd.JSON`` fixture body."""
    return Answer(200, fixture)


def operator_post(answers: list[Answer], **body: Any) -> Recorded:
    """A recorded ``POST /operators``."""
    return Recorded("POST", f"{V1}/operators", answers, body=body)


def scheduler_post(answers: list[Answer], **body: Any) -> Recorded:
    """A recorded ``POST /schedulers``."""
    return Recorded("POST", f"{V1}/schedulers", answers, body=body)


def recorded_session() -> list[Recorded]:
    """Every request the shared contract checks send, answered from the fixture files."""
    return [
        Recorded("GET", f"{V1}/health", [ok("health.json")]),
        Recorded("GET", f"{V1}/members", [ok("members.json")]),
        Recorded("GET", f"{V1}/leader", [ok("leader.json")]),
        operator_post(
            [Answer(500, "error_region_not_found.json")], name="transfer-leader", region_id=999, to_store_id=1
        ),
        operator_post(
            [Answer(500, "error_region_no_voter.json")], name="transfer-leader", region_id=2, to_store_id=6
        ),
        operator_post(
            [ok("operator_create_ok.json"), Answer(500, "error_operator_exists.json")],
            name="transfer-leader",
            region_id=2,
            to_store_id=4,
        ),
        operator_post([Answer(400, "error_unknown_operator.json")], name="foo"),
        operator_post([Answer(400, "error_missing_operator_name.json")], region_id=2),
        Recorded(
            "POST",
            f"{V1}/operators",
            [Answer(400, "error_malformed_json.json", headers=ERRCODE)],
            body=b"foo",
        ),
        operator_post(
            [Answer(500, "error_regions_not_adjacent.json")],
            name="merge-region",
            source_region_id=2,
            target_region_id=12,
        ),
        Recorded("GET", f"{V1}/operators", [ok("operators.json")]),
        Recorded("GET", f"{V1}/operators", [ok("operators_object.json")], query={"object": ""}),
        Recorded("GET", f"{V1}/operators/records", [Answer(500, "error_operator_not_found.json")]),
        Recorded("GET", f"{V1}/operators/4", [Answer(500, "error_operator_not_found.json")]),
        Recorded("DELETE", f"{V1}/operators/4", [Answer(500, "error_operator_not_found.json")]),
        scheduler_post([Answer(400, "error_missing_store_id.json")], name="evict-leader-scheduler"),
        scheduler_post(
            [Answer(400, "error_bad_store_id.json")], name="evict-leader-scheduler", store_id="abc"
        ),
        scheduler_post([ok("scheduler_create_ok.json")], name="evict-leader-scheduler", store_id=1),
        scheduler_post([ok("scheduler_store_applied_ok.json")], name="evict-leader-scheduler", store_id=4),
        scheduler_post([Answer(400, "error_scheduler_existed.json")], name="balance-leader-scheduler"),
        scheduler_post([Answer(400, "error_unknown_scheduler.json")], name="no-such"),
        Recorded("GET", f"{V1}/schedulers", [ok("schedulers.json")]),
        Recorded(
            "GET",
            f"{V1}/scheduler-config/evict-leader-scheduler/list",
            [
                ok("scheduler_config_evict_leader_list.json"),
                Answer(404, "error_unknown_route.txt", TEXT_CONTENT_TYPE),
            ],
        ),
        Recorded(
            "DELETE",
            f"{V1}/schedulers/evict-leader-scheduler-1",
            [ok("scheduler_delete_per_store_body.json")],
        ),
        Recorded(
            "DELETE",
            f"{V1}/schedulers/evict-leader-scheduler-4",
            [ok("scheduler_delete_per_store_body.json"), Answer(404, "scheduler_delete_per_store_body.json")],
        ),
        Recorded(
            "DELETE", f"{V1}/schedulers/no-such-scheduler", [Answer(404, "error_scheduler_not_found.json")]
        ),
        Recorded(
            "POST",
            f"{V1}/schedulers/no-such-scheduler",
            [Answer(500, "error_scheduler_not_found.json")],
            body={"delay": 10},
        ),
        Recorded(
            "POST",
            f"{V1}/schedulers/balance-region-scheduler",
            [Answer(400, "error_missing_pause_time.json")],
            body={},
        ),
        Recorded("GET", f"{V1}/config/schedule", [ok("config_schedule.json")]),
        Recorded("GET", f"{V1}/config/replicate", [ok("config_replicate.json")]),
        Recorded("GET", f"{V1}/store/99", [Answer(404, "error_store_not_found.json")]),
        Recorded("GET", f"{V1}/store/abc", [Answer(400, "error_bad_path_id.json", headers=ERRCODE)]),
        Recorded(
            "POST", f"{V1}/store/99/limit", [Answer(500, "error_store_not_found.json")], body={"rate": 10}
        ),
        Recorded("GET", f"{V1}/region/id/999", [Answer(404, "error_region_not_found.json")]),
        Recorded("GET", f"{V1}/region/id/12", [Answer(200, "region.json", DATA_CONTENT_TYPE)]),
    ]


@pytest.fixture
async def sim_pd() -> AsyncIterator[Backend]:
    """The simulator over real HTTP: 3 members on free ports, no background ticks."""
    model = simulator_model()
    async with SimulatorServer(model, tick_interval=None) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as client:
            yield Backend("simulator", client, model=model, server=server, **simulator_facts(model))


@pytest.fixture(params=["simulator", "recorded"])
async def pd(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each shared contract check runs against the live simulator and against the recorded PD."""
    if request.param == "recorded":
        transport = RecordedPD(recorded_session(), FIXTURES).transport()
        async with httpx.AsyncClient(base_url=RECORDED_URL, transport=transport) as client:
            yield Backend("recorded", client, **RECORDED_FACTS)
        return
    model = simulator_model()
    async with SimulatorServer(model, tick_interval=None) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as client:
            yield Backend("simulator", client, model=model, server=server, **simulator_facts(model))
