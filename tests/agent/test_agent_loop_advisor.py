"""The loop with Claude as advisor (API answered by an httpx2 MockTransport): Claude's valid suggestions
become proposals with its rationale and confidence; invalid ones are dropped; failures fall back to rules."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from agent_support import PROPOSAL_CHANNEL, agent_env, healthy_model

from actions.models import ActionType, Actor, Source
from actions.ports import AuditQuery
from agent.advisor import ClaudeAdvisor
from pd.simulator import ClusterModel

BALANCE_LEADER = "balance-leader-scheduler"
FINDING = f"scheduler-paused:{BALANCE_LEADER}"
ADVISOR = "claude-sonnet-5-5, prompt advisor/2"
PEOPLE = Actor(user_id="U0ALICE", name="alice")


def paused_model() -> ClusterModel:
    model = healthy_model()
    model.schedulers.pause(BALANCE_LEADER, 86_400)
    return model


Handler = Callable[[httpx2.Request], httpx2.Response]


def reply(*content: dict[str, Any]) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5-5",
            "content": list(content),
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 900, "output_tokens": 120},
        },
    )


def tool_use(name: str, arguments: dict[str, Any], ident: str = "toolu_01") -> dict[str, Any]:
    return {"type": "tool_use", "id": ident, "name": name, "input": arguments}


def claude(handler: Handler, calls: list[httpx2.Request]) -> ClaudeAdvisor:
    def record(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return handler(request)

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(record))
    return ClaudeAdvisor(api_key="sk-ant-test", http_client=http, max_retries=0, timeout=5)


async def test_claudes_valid_suggestion_is_proposed_with_its_rationale_and_confidence() -> None:
    """Claude's resume-scheduler for the paused scheduler is posted with Claude's words (labelled as
    Claude's, with the model and prompt version) and confidence; the audit row names the advisor."""
    model = paused_model()
    calls: list[httpx2.Request] = []
    answer = reply(
        {"type": "text", "text": "PD's leader balancing is paused."},
        tool_use(
            "resume-scheduler",
            {
                "scheduler": BALANCE_LEADER,
                "finding": FINDING,
                "rationale": "Nothing balances leaders while it is paused.",
                "confidence": 0.86,
            },
        ),
    )
    advisor = claude(lambda r: answer, calls)
    async with agent_env(model, advisor=advisor) as env:
        report = await env.loop.run_once()
        [proposal] = report.proposals
        assert (proposal.request.action, dict(proposal.request.params)) == (
            ActionType.RESUME_SCHEDULER,
            {"scheduler": BALANCE_LEADER},
        )
        assert (
            proposal.request.rationale == f"Claude ({ADVISOR}): Nothing balances leaders while it is paused."
        )
        assert proposal.request.confidence == 0.86 and proposal.request.advised_by == ADVISOR
        assert proposal.request.source is Source.AGENT
        assert proposal.state.value == "pending"  # it waits for a person like any proposal
        assert env.notifier.published[0][1] == PROPOSAL_CHANNEL
        await env.operations.approve(proposal.id, actor=PEOPLE)
        rows = await env.store.query_audit(AuditQuery(limit=50, proposal_id=proposal.id))
        requests = [r.request_json for r in rows if "action" in r.request_json]
        assert any(q.get("advised_by") == ADVISOR for q in requests)
        assert all(q.get("advised_by") in (None, ADVISOR) for q in requests)
    await advisor.aclose()
    assert report.advisor_note is None and len(calls) == 1
    sent = json.loads(calls[0].content)
    assert [f["key"] for f in json.loads(sent["messages"][0]["content"])["findings"]] == [FINDING]


async def test_claudes_invalid_suggestion_is_dropped_and_the_rules_still_apply(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A tool call with bad parameters is dropped and logged; the finding gets the rules' proposal."""
    model = paused_model()
    calls: list[httpx2.Request] = []
    answer = reply(
        tool_use("evict-leader", {"store_id": -4, "finding": FINDING, "rationale": "r", "confidence": 1})
    )
    advisor = claude(lambda r: answer, calls)
    async with agent_env(model, advisor=advisor) as env:
        with caplog.at_level(logging.WARNING, logger="agent.advisor"):
            report = await env.loop.run_once()
    await advisor.aclose()
    [proposal] = report.proposals
    assert proposal.request.action is ActionType.RESUME_SCHEDULER
    assert proposal.request.rationale.startswith(
        "Claude suggested no valid action for this finding; proposed by rules. Rules: "
    )
    assert proposal.request.confidence is None and proposal.request.advised_by is None
    assert any("dropped Claude's evict-leader call" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            lambda r: httpx2.Response(
                500, json={"type": "error", "error": {"type": "api_error", "message": "x"}}
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
        (lambda r: (_ for _ in ()).throw(httpx2.ReadTimeout("timed out", request=r)), "timed out"),
    ],
)
async def test_api_failure_falls_back_to_the_rules_with_a_note_on_the_card(
    answer: Handler, reason: str
) -> None:
    """500, 429 and a timeout: the rules' proposal is posted, its rationale saying why Claude was not used."""
    model = paused_model()
    calls: list[httpx2.Request] = []
    advisor = claude(answer, calls)
    async with agent_env(model, advisor=advisor) as env:
        report = await env.loop.run_once()
    await advisor.aclose()
    [proposal] = report.proposals
    assert proposal.request.action is ActionType.RESUME_SCHEDULER
    assert proposal.request.rationale.startswith(
        f"Claude unavailable ({reason}); proposed by rules. Rules: {BALANCE_LEADER} is paused"
    )
    assert report.advisor_note == reason


async def test_claude_is_not_asked_when_nothing_needs_proposing() -> None:
    """A healthy cluster, or a finding whose proposal is still open, costs no API call."""
    calls: list[httpx2.Request] = []
    advisor = claude(lambda r: reply(), calls)
    async with agent_env(healthy_model(), advisor=advisor) as env:
        await env.loop.run_once()
    assert calls == []
    async with agent_env(paused_model(), advisor=advisor) as env:
        await env.loop.run_once()  # Claude says nothing: the rules propose
        await env.loop.run_once()  # the proposal is open: nothing to ask about
    await advisor.aclose()
    assert len(calls) == 1
