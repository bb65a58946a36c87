"""The pd-ctl-like reads, typed as Slack sends them, checked number by number against the simulator's
own HTTP answers (the same endpoints, asked directly, not through the bot)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ALICE, E2E, eventually, open_e2e

from bot.render.tables import human_bytes, plain, rate
from pd.simulator.seeded import seeded_model

V1 = "/pd/api/v1"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[E2E]:
    """The embedded seed (down store, hot regions, leader imbalance) with operators that last."""
    async with open_e2e(tmp_path, model=seeded_model(step_delay=30.0)) as e2e:
        yield e2e


class Answer:
    """One answer of the bot: its text, and the rows of its code tables split into cells."""

    def __init__(self, message: Any) -> None:
        self.text = message.text + "\n" + str(message.blocks)
        self.blocks = message.blocks
        code = []
        for block in message.blocks:
            body = (block.get("text") or {}).get("text", "")
            for chunk in re.findall(r"```\n(.*?)\n```", body, re.S):
                code.extend(chunk.splitlines())
        self.header = code[0] if code else ""
        self.rows = [re.split(r"\s{2,}", line.strip()) for line in code if line != self.header]

    def column(self, name: str) -> list[str]:
        index = re.split(r"\s{2,}", self.header.strip()).index(name)
        return [row[index] for row in self.rows]

    def row(self, first: str) -> list[str]:
        return next(r for r in self.rows if r[0] == first)

    def fields(self) -> dict[str, str]:
        found = {}
        for block in self.blocks:
            for item in block.get("fields") or []:
                label, _, value = item["text"].partition("\n")
                found[label.strip("*")] = value
        return found


async def ask(e2e: E2E, text: str) -> Answer:
    before = len(_answers(e2e))
    delivery = await e2e.relay.command(ALICE, text)
    assert delivery.ok, delivery
    answers = await eventually(lambda: _answers(e2e)[before:], limit=15)
    return Answer(answers[-1])


def _answers(e2e: E2E) -> list[Any]:
    return [m for m in e2e.fake.ephemerals(user=ALICE) if m.source == "response_url"]


async def pd(e2e: E2E, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient() as http:
        answer = await http.get(e2e.sim.url + V1 + path, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


async def post(e2e: E2E, path: str, body: Any) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(e2e.sim.url + V1 + path, json=body)
    assert answer.status_code == 200, (path, answer.text)


def _ids(regions: list[dict[str, Any]]) -> list[str]:
    return [str(r["id"]) for r in regions]


async def test_config_reads_match_pd(env: E2E) -> None:
    schedule = await pd(env, "/config/schedule")
    answer = await ask(env, "config show schedule")
    assert "pd-ctl config show schedule" in answer.text and f"GET {V1}/config/schedule" in answer.text
    shown = dict((row[0], row[1] if len(row) > 1 else "") for row in answer.rows)
    assert set(shown) == set(schedule)
    for key, value in schedule.items():
        # A long value (store-limit of every store) is clipped to the table's width, with an ellipsis.
        assert shown[key] == plain(value) or plain(value).startswith(shown[key].removesuffix("…")), key

    replication = await pd(env, "/config/replicate")
    fields = (await ask(env, "config show replication")).fields()
    assert {k: v for k, v in fields.items()} == {k: plain(v) for k, v in replication.items()}

    whole = await pd(env, "/config")
    answer = await ask(env, "config show")
    shown = dict((row[0], row[1] if len(row) > 1 else "") for row in answer.rows)
    assert shown["replication.max-replicas"] == str(whole["replication"]["max-replicas"])
    assert shown["schedule.leader-schedule-limit"] == str(whole["schedule"]["leader-schedule-limit"])
    assert "pd-server.flow-round-by-digit" not in shown  # pd-ctl's plain show keeps two sections

    assert await pd(env, "/config/label-property") == {}
    assert "None." in (await ask(env, "config show label-property")).text


async def test_operator_and_scheduler_reads_match_pd(env: E2E) -> None:
    model = env.model
    running_region = 16
    region = model.region(running_region)
    target = next(p.store_id for p in region.peers if p is not region.leader)
    body = {"name": "transfer-leader", "region_id": running_region, "to_store_id": target}
    await post(env, "/operators", body)
    await post(env, "/operators", {"name": "transfer-leader", "region_id": 20, "to_store_id": 3})
    async with httpx.AsyncClient() as http:
        assert (await http.delete(f"{env.sim.url}{V1}/operators/20")).status_code == 200
    await post(env, "/schedulers/balance-region-scheduler", {"delay": 600})

    operators = await pd(env, "/operators")
    answer = await ask(env, "operator show")
    assert len(operators) == 1 and f"*{len(operators)}* operators" in answer.text
    assert all(op[:200] in answer.text for op in operators)
    status = await ask(env, f"operator show region {running_region}")
    assert status.fields()["Status"] == "RUNNING" and "pd-ctl operator check 16" in status.text
    assert "No operator ran on region 99" in (await ask(env, "operator show region 99")).text
    records = await pd(env, "/operators/records")
    history = await ask(env, "operator history")
    assert len(records) == 1 and "region:20(" in records[0] and "*1* operators" in history.text
    assert records[0][:200] in history.text

    names = await pd(env, "/schedulers")
    paused = await pd(env, "/schedulers", status="paused")
    answer = await ask(env, "scheduler show")
    assert answer.column("name") == names
    assert {r[0] for r in answer.rows if r[1] == "paused"} == set(paused)
    assert "balance-region-scheduler" in paused  # beside the seed's forgotten balance-leader pause
    config = await pd(env, "/scheduler-config/balance-leader-scheduler/list")
    answer = await ask(env, "scheduler config balance-leader")
    assert answer.row("batch")[1] == str(config["batch"])
    assert "pd-ctl scheduler config balance-leader-scheduler" in answer.text
    assert (
        "No scheduler `evict-leader-scheduler` is running"
        in (await ask(env, "scheduler config evict-leader")).text
    )


async def test_hot_reads_match_pd(env: E2E) -> None:
    for kind in ("read", "write"):
        hot = await pd(env, f"/hotspot/regions/{kind}")
        answer = await ask(env, f"hot {kind}")
        assert f"pd-ctl hot {kind}" in answer.text
        for store, stat in hot["as_leader"].items():
            row = answer.row(store)
            assert row[1] == str(stat["regions_count"]) and row[2] == human_bytes(stat["total_flow_bytes"])
            assert row[3] == rate(stat["total_flow_keys"]) and row[4] == rate(stat["total_flow_query"])
        for store, stat in hot["as_peer"].items():
            row = answer.row(store)
            assert row[5] == str(stat["regions_count"]) and row[6] == human_bytes(stat["total_flow_bytes"])
    stores = await pd(env, "/hotspot/stores")
    answer = await ask(env, "hot store")
    for store, value in stores["bytes-write-rate"].items():
        row = answer.row(store)
        assert row[1] == human_bytes(value) and row[2] == human_bytes(stores["bytes-read-rate"][store])
        assert row[3] == rate(stores["keys-write-rate"][store])
        assert row[6] == rate(stores["query-read-rate"][store])


@pytest.mark.parametrize(
    "kind",
    [
        "down-peer",
        "pending-peer",
        "miss-peer",
        "extra-peer",
        "offline-peer",
        "empty-region",
        "oversized-region",
        "learner-peer",
    ],
)
async def test_region_checks_match_pd(env: E2E, kind: str) -> None:
    found = await pd(env, f"/regions/check/{kind}")
    answer = await ask(env, f"region check {kind}")
    assert f"*{found['count']}* regions" in answer.text and f"pd-ctl region check {kind}" in answer.text
    if not found["count"]:
        assert "None." in answer.text and not answer.rows
        return
    first_page = _ids(found["regions"])[:60]
    assert answer.column("region") == first_page
    for region in found["regions"][: len(answer.rows)]:
        row = answer.row(str(region["id"]))
        assert row[3] == str(region.get("approximate_size", 0))


async def test_region_key_sibling_and_top_match_pd(env: E2E) -> None:
    start = env.model.region(16).start_key
    by_key = await pd(env, f"/region/key/{start}", format="hex")
    answer = await ask(env, f"region key {start}")
    assert f"Region {by_key['id']} (by key)" in answer.text and by_key["id"] == 16
    assert answer.fields()["Size"].startswith(f"{by_key['approximate_size']} MiB")
    raw = await ask(env, "region key --format=raw u")  # after every TiDB-looking key: the last region
    last = max(env.model.regions.values(), key=lambda r: r.start_key)
    assert f"Region {last.id} (by key)" in raw.text and "Key read as raw" in raw.text

    siblings = await pd(env, "/regions/sibling/12")
    answer = await ask(env, "region sibling 12")
    assert answer.column("region") == _ids(siblings["regions"])
    assert answer.row("left")[1] == "8" and answer.row("right")[1] == "16"

    for word, kind in (("read", "readflow"), ("write", "writeflow"), ("size", "size")):
        top = await pd(env, f"/regions/{kind}", limit=5)
        answer = await ask(env, f"region top {word} 5")
        assert answer.column("region") == _ids(top["regions"]), word
        column = {"read": "read", "write": "written", "size": "size MiB"}[word]
        metric = {"read": "read_bytes", "write": "written_bytes", "size": "approximate_size"}[word]
        expected = [
            str(r.get(metric, 0)) if word == "size" else human_bytes(r.get(metric, 0)) for r in top["regions"]
        ]
        assert answer.column(column) == expected


async def test_store_limit_labels_and_members_match_pd(env: E2E) -> None:
    limits = await pd(env, "/stores/limit")
    answer = await ask(env, "store limit")
    for store, limit in limits.items():
        assert answer.row(store)[1:] == [f"{limit['add-peer']:g}", f"{limit['remove-peer']:g}"]

    labels = await pd(env, "/labels")
    answer = await ask(env, "labels")
    assert [(r[0], r[1]) for r in answer.rows] == [(x["key"], x["value"]) for x in labels]
    stores = (await pd(env, "/stores"))["stores"]
    zone1 = sorted(
        str(s["store"]["id"]) for s in stores if {"key": "zone", "value": "z1"} in s["store"]["labels"]
    )
    assert next(r for r in answer.rows if r[:2] == ["zone", "z1"])[2] == ",".join(zone1)

    members = await pd(env, "/members")
    answer = await ask(env, "members")
    assert f"*{len(members['members'])}* members" in answer.text
    for member in members["members"]:
        row = answer.row(member["name"])
        assert row[1] == str(member["member_id"])
    assert "leader" in " ".join(answer.row(members["leader"]["name"]))


async def test_store_and_region_summaries_and_status_match_pd(env: E2E) -> None:
    store = await pd(env, "/store/1")
    answer = await ask(env, "store 1")
    fields = answer.fields()
    assert '"leader_weight"' not in answer.text
    status = store["status"]
    assert fields["Leaders"].startswith(f"{status['leader_count']} · weight")
    assert fields["Regions"].startswith(f"{status['region_count']} · weight")
    assert f"{status['available']} free of {status['capacity']}" in fields["Space"]
    assert "add-peer 15 · remove-peer 15" in fields["Store limit"]
    down = (await ask(env, "store 5")).fields()
    assert down["State"].startswith("🔴 Down for 1h")

    region = await pd(env, "/region/id/12")
    fields = (await ask(env, "region 12")).fields()
    assert fields["Leader"] == f"store {region['leader']['store_id']}"
    assert fields["Size"] == f"{region['approximate_size']} MiB · {region['approximate_keys']} keys"
    unknown = await ask(env, "region 13")
    assert "does not know region 13" in unknown.text and "8, 12, 16" in unknown.text

    checks = {k: (await pd(env, f"/regions/check/{k}"))["count"] for k in ("down-peer", "miss-peer")}
    answer = await ask(env, "status")
    assert f"{checks['down-peer']} down-peer" in answer.text and "no heartbeat for 1h" in answer.text


async def test_json_on_request_comes_as_a_file_with_pds_own_numbers(env: E2E) -> None:
    """`store 1 --json` attaches PD's JSON as a file in the channel and says so; the summary has none."""
    store = await pd(env, "/store/1")
    answer = await ask(env, "store 1 --json")
    assert "attached" in answer.text and '"leader_count"' not in answer.text
    [upload] = await eventually(lambda: [f for f in env.fake.files() if f.completed], limit=15)
    assert upload.channel == "C0OPS" and upload.content is not None
    sent = json.loads(upload.content)
    assert sent["status"]["leader_count"] == store["status"]["leader_count"]
    assert sent["store"]["address"] == store["store"]["address"]
