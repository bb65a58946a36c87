"""ClaudeAdvisor at the HTTP level: the SDK's httpx2 client over a MockTransport answering as the API does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
import respx

from actions.catalog import CATALOG
from actions.models import ActionType
from actions.observe import RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import StoreSnapshot
from agent.advisor import (
    DEFAULT_MODEL,
    ClaudeAdvisor,
    load_prompt,
    make_advisor,
    prompt_version,
    tools_for,
)
from agent.findings import Finding
from agent.observe import Observation
from agent.rules import evaluate

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ALLOWED = [
    a
    for a, spec in CATALOG.items()
    if a is not ActionType.OFFLINE_STORE and spec.tier.value != "irreversible"
]


def observation() -> Observation:
    stores = tuple(
        StoreSnapshot(
            id=i,
            address=f"tikv-{i}:20160",
            state_name="Down" if i == 4 else "Up",
            capacity_bytes=100,
            available_bytes=70,
            leader_count=0 if i == 4 else 100,
            region_count=300,
        )
        for i in (1, 2, 3, 4)
    )
    return Observation(
        at=NOW,
        stores=stores,
        hot_write=(),
        hot_read=(),
        checks={c: () for c in RegionCheck},
        top_by_size=(),
        schedulers=SchedulerState(
            names=("balance-hot-region-scheduler", "balance-leader-scheduler", "balance-region-scheduler"),
            paused=("balance-region-scheduler",),
        ),
        settings=ScheduleSettings(),
    )


def findings() -> tuple[Finding, ...]:
    found = evaluate(observation()).findings
    assert [f.key for f in found] == ["store-down:4", "scheduler-paused:balance-region-scheduler"]
    return found[:1]


def message(*content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": DEFAULT_MODEL,
        "content": list(content),
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 812, "output_tokens": 96},
    }


def tool_use(name: str, arguments: dict[str, Any], ident: str = "toolu_01") -> dict[str, Any]:
    return {"type": "tool_use", "id": ident, "name": name, "input": arguments}


Handler = Callable[[httpx2.Request], httpx2.Response]


def advisor_answering(handler: Handler, seen: list[httpx2.Request] | None = None) -> ClaudeAdvisor:
    def record(request: httpx2.Request) -> httpx2.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(record))
    return ClaudeAdvisor(api_key="sk-ant-test", http_client=client, max_retries=0, timeout=5)


async def test_valid_tool_call_becomes_advice_with_claudes_rationale_and_confidence() -> None:
    """A tool call for a known finding with valid parameters is kept, typed by the catalog."""
    reply = message(
        {"type": "text", "text": "Store 4 is down; move its leaders."},
        tool_use(
            "evict-leader-scheduler",
            {
                "store_id": 4,
                "finding": "store-down:4",
                "rationale": "Store 4 missed heartbeats.",
                "confidence": 0.9,
            },
        ),
    )
    seen: list[httpx2.Request] = []
    advisor = advisor_answering(lambda r: httpx2.Response(200, json=reply), seen)
    advice = await advisor.advise(findings(), observation(), allowed=ALLOWED)
    await advisor.aclose()

    [action] = advice.actions
    assert (action.finding_key, action.action, dict(action.params)) == (
        "store-down:4",
        ActionType.EVICT_LEADER,
        {"store_id": 4},
    )
    assert (action.rationale, action.confidence) == ("Store 4 missed heartbeats.", 0.9)
    assert advice.unavailable is None and advice.dropped == ()
    assert advice.summary == "Store 4 is down; move its leaders."

    [request] = seen
    assert request.url.path == "/v1/messages"
    # 2.x sends the key as a bearer token (1.x used x-api-key); either way it is the configured key.
    assert "sk-ant-test" in request.headers.get("authorization", "") + request.headers.get("x-api-key", "")
    body = json.loads(request.content)
    assert body["model"] == DEFAULT_MODEL
    assert body["system"] == load_prompt()
    names = {t["name"] for t in body["tools"]}
    assert names == {a.value for a in ALLOWED}
    evict = next(t for t in body["tools"] if t["name"] == "evict-leader-scheduler")
    assert evict["input_schema"]["properties"]["store_id"]["type"] == "integer"
    assert evict["input_schema"]["properties"]["finding"]["enum"] == ["store-down:4"]
    question = json.loads(body["messages"][0]["content"])
    assert question["findings"][0]["key"] == "store-down:4"
    assert question["diagnosis"]["region balancing"] == ["balance-region-scheduler is paused"]
    assert question["diagnosis"]["leader balancing"] == []
    assert advice.source == f"{DEFAULT_MODEL}, prompt advisor/2"
    assert {s["id"]: s["state"] for s in question["cluster"]["stores"]}[4] == "Down"


async def test_invalid_tool_calls_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Unknown action or finding, bad parameters and forbidden actions are dropped, each with a reason."""
    reply = message(
        tool_use(
            "reboot-store",
            {"store_id": 4, "finding": "store-down:4", "rationale": "r", "confidence": 1},
            "t1",
        ),
        tool_use(
            "evict-leader-scheduler",
            {"store_id": 4, "finding": "store-down:9", "rationale": "r", "confidence": 1},
            "t2",
        ),
        tool_use(
            "evict-leader-scheduler",
            {"store_id": "four", "finding": "store-down:4", "rationale": "r", "confidence": 1},
            "t3",
        ),
        tool_use(
            "offline-store",
            {"store_id": 4, "finding": "store-down:4", "rationale": "r", "confidence": 1},
            "t4",
        ),
    )
    advisor = advisor_answering(lambda r: httpx2.Response(200, json=reply))
    with caplog.at_level(logging.WARNING, logger="agent.advisor"):
        advice = await advisor.advise(findings(), observation(), allowed=ALLOWED)
    await advisor.aclose()
    assert advice.actions == ()
    assert len(advice.dropped) == 4
    assert "Unknown action" in advice.dropped[0]
    assert "unknown finding" in advice.dropped[1]
    assert "store id" in advice.dropped[2]
    assert "not an action the agent may propose" in advice.dropped[3]
    assert sum("dropped Claude's" in r.getMessage() for r in caplog.records) == 4


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            lambda r: httpx2.Response(
                500, json={"type": "error", "error": {"type": "api_error", "message": "boom"}}
            ),
            "API error 500",
        ),
        (
            lambda r: httpx2.Response(
                429,
                headers={"retry-after": "0"},
                json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
            ),
            "rate limited",
        ),
        (lambda r: (_ for _ in ()).throw(httpx2.ReadTimeout("read timed out", request=r)), "timed out"),
        (lambda r: (_ for _ in ()).throw(httpx2.ConnectError("refused", request=r)), "unreachable"),
    ],
)
async def test_api_failures_become_an_unavailable_reason(answer: Handler, reason: str) -> None:
    """500, 429, a timeout and a refused connection never raise: the advice says why Claude is unavailable."""
    advisor = advisor_answering(answer)
    advice = await advisor.advise(findings(), observation(), allowed=ALLOWED)
    await advisor.aclose()
    assert advice.unavailable == reason
    assert advice.actions == ()


def test_every_catalog_action_becomes_a_tool_with_its_parameters() -> None:
    """Tools mirror the catalog: one per action, required parameters and the three agent fields required."""
    tools: Any = json.loads(
        json.dumps(tools_for(list(CATALOG), ["store-down:4"]))
    )  # as the API receives them
    assert [t["name"] for t in tools] == [a.value for a in CATALOG]
    transfer = next(t for t in tools if t["name"] == "transfer-leader")["input_schema"]
    assert transfer["required"] == ["region_id", "to_store_id", "finding", "rationale", "confidence"]
    split = next(t for t in tools if t["name"] == "split-region")["input_schema"]
    assert split["properties"]["policy"]["enum"] == ["scan", "approximate", "usekey"]
    assert split["properties"]["keys"]["type"] == "array"
    assert "policy" not in split["required"]


def test_the_prompt_states_its_version() -> None:
    """The prompt file is versioned on its first line; the version names the advisor on cards and audit."""
    assert prompt_version(load_prompt()) == "advisor/2"
    with pytest.raises(ValueError, match="Prompt version"):
        prompt_version("You are an advisor.")


def test_no_api_key_means_no_advisor() -> None:
    """Without ANTHROPIC_API_KEY the agent runs on rules alone; with it, a current model is the default."""
    assert make_advisor(None) is None
    assert make_advisor("") is None
    advisor = make_advisor("sk-ant-test", None, http_client=httpx2.AsyncClient())
    assert advisor is not None and advisor.model == DEFAULT_MODEL


async def test_respx_does_not_see_the_sdks_traffic() -> None:
    """anthropic sends through httpx2, so a respx route for its URL is never called (hence MockTransport)."""
    advisor = ClaudeAdvisor(api_key="sk-ant-test", base_url="http://127.0.0.1:9", max_retries=0, timeout=2)
    with respx.mock(assert_all_called=False) as router:
        route = router.post("http://127.0.0.1:9/v1/messages").respond(200, json=message())
        advice = await advisor.advise(findings(), observation(), allowed=ALLOWED)
    await advisor.aclose()
    assert not route.called
    assert advice.unavailable == "unreachable"
