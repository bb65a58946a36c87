"""Agent evaluation: the rules scored on the incident scenarios of ``bench/agent_scenarios.py``.

For each scenario the simulator serves the cluster over HTTP and the real ``PDObserver`` observes it:

* **rules** — one observation, ``agent.rules.evaluate``: precision and recall of the findings (keys
  the scenario expects; tolerated keys count neither way) and of the proposals (each proposal is
  acceptable or not; each required proposal is made or not), and forbidden proposals made;
* **steady state** — the whole ``AgentLoop`` (store, ``Operations``, preflight) for an hour of 60 s
  cycles on the unchanged cluster, nobody clicking: cards posted per hour, audit rows per hour, and
  repeats (a second card for the same finding while nothing changed).

``--base COMMIT`` scores the agent of an older commit on the same scenarios (its ``agent``, ``actions``,
``pd`` and ``store`` packages extracted with ``git archive`` into a temporary directory) and prints both
side by side. ``--json`` prints the raw scores of the tree it runs in (used by ``--base``).

    python -m bench.bench_agent_eval [--base f3f6ce2] [--json] [--cycles 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import httpx2

from actions.executor import Executor
from actions.models import ActionResult, Proposal
from actions.operations import Operations
from actions.policy import Policy
from actions.ports import AuditQuery, CardRef
from agent.advisor import ClaudeAdvisor
from agent.loop import AgentLoop, AgentSettings
from agent.observe import observe
from agent.rules import evaluate
from bench.agent_scenarios import SCENARIOS, Expectation, Match, Scenario
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.observer import PDObserver
from pd.simulator import SimulatorServer
from store.sqlite import open_store

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TOP_N = 64
BASE_COMMIT = "f3f6ce2"
ROOT = Path(__file__).resolve().parent.parent
TREES = ("agent", "actions", "pd", "store", "bench/__init__.py")  # what the base run takes from the commit


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class _Cards:
    published: list[Proposal] = field(default_factory=list)

    async def publish(self, proposal: Proposal, *, channel: str | None = None) -> CardRef | None:
        self.published.append(proposal)
        return CardRef(channel=channel or "C0OPS", message_ts=f"1700000000.{proposal.id:06d}")

    async def update(self, proposal: Proposal) -> None:
        return None

    async def progress(self, proposal: Proposal, text: str) -> None:
        return None

    async def finished(self, proposal: Proposal, result: ActionResult) -> None:
        return None


@dataclass
class Score:
    """One scenario's raw counts."""

    name: str
    findings: list[str]
    proposals: list[str]
    finding_tp: int = 0
    finding_fp: int = 0
    finding_fn: int = 0
    proposal_ok: int = 0
    proposal_bad: int = 0
    required: int = 0
    required_met: int = 0
    forbidden: int = 0
    pd_requests: int = 0
    cards: int = 0
    audit_rows: int = 0
    repeats: int = 0
    hours: float = 0.0
    advised: int = 0  # proposals posted from the scripted model's tool calls
    advised_expected: int = 0  # proposals the rules made on the same cycle (the model echoes them)
    advised_forbidden: int = 0


def _params(params: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(params).items()}


def score_rules(expect: Expectation, found: list[str], proposals: list[tuple[str, dict[str, Any]]]) -> Score:
    keys = set(found)
    score = Score("", sorted(keys), [f"{a} {p}" for a, p in proposals])
    score.finding_tp = len(keys & expect.findings)
    score.finding_fp = len(keys - expect.findings - expect.tolerated)
    score.finding_fn = len(expect.findings - keys)
    for action, params in proposals:
        if any(m.matches(action, params) for m in expect.forbidden):
            score.forbidden += 1
        if any(m.matches(action, params) for m in expect.acceptable):
            score.proposal_ok += 1
        else:
            score.proposal_bad += 1
    score.required = len(expect.required)
    score.required_met = sum(1 for m in expect.required if any(m.matches(a, p) for a, p in proposals))
    return score


async def _served(scenario: Scenario) -> tuple[SimulatorServer, Expectation]:
    model, expect = scenario.build()
    server = SimulatorServer(model, tick_interval=None)
    return server, expect


async def run_rules(scenario: Scenario) -> Score:
    """One observation of the scenario, scored."""
    server, expect = await _served(scenario)
    async with server as sim, httpx.AsyncClient() as http:
        if scenario.on_server is not None:
            scenario.on_server(sim)
        client = PDClient(http, [sim.url], read_retries=0)
        observer = PDObserver(client)
        obs = await observe(observer, at=START, top_n=TOP_N)
        evaluation = evaluate(obs)
    proposals = [(p.action.value, _params(p.params)) for f in evaluation.findings for p in f.proposals]
    score = score_rules(expect, [f.key for f in evaluation.findings], proposals)
    score.name = scenario.name
    score.pd_requests = obs.requests
    return score


AGENT_MAY_PROPOSE_ALL = {"tiers": {"irreversible": {"agent_may_propose": True}}}


async def run_steady(scenario: Scenario, score: Score, *, cycles: int, interval: float = 60.0) -> None:
    """The whole loop for ``cycles`` cycles on the unchanged cluster; nobody decides anything."""
    server, _ = await _served(scenario)
    clock = _Clock()
    cards = _Cards()
    async with server as sim, httpx.AsyncClient() as http:
        if scenario.on_server is not None:
            scenario.on_server(sim)
        client = PDClient(http, [sim.url], read_retries=0)
        cluster = PDCluster(client)
        store = await open_store(":memory:")
        try:
            policy = Policy.from_mapping(AGENT_MAY_PROPOSE_ALL)
            executor = Executor(cluster, store, cards, clock, poll_interval=0.01)
            operations = Operations(cluster, store, cards, policy, executor, clock)
            loop = AgentLoop(
                PDObserver(client),
                store,
                operations,
                policy,
                channel="C0PROPOSALS",
                settings=AgentSettings(interval=interval),
                clock=clock,
            )
            for _ in range(cycles):
                await loop.run_once()
                clock.now += timedelta(seconds=interval)
            audit = await store.query_audit(AuditQuery(limit=100_000))
        finally:
            await store.aclose()
    per_ticket: dict[Any, int] = {}
    for proposal in cards.published:
        per_ticket[proposal.request.ticket_id] = per_ticket.get(proposal.request.ticket_id, 0) + 1
    score.cards = len(cards.published)
    score.audit_rows = len(audit)
    score.repeats = sum(n - 1 for n in per_ticket.values() if n > 1)
    score.hours = cycles * interval / 3600


SCRIPTED_CONFIDENCE = 0.8


def scripted_model(request: httpx2.Request) -> httpx2.Response:
    """A stand-in for Claude's Messages API: one tool call per action the rules would propose."""
    body = json.loads(request.content)
    question = json.loads(body["messages"][0]["content"])
    calls = [
        {
            "type": "tool_use",
            "id": f"toolu_{i:02d}",
            "name": proposal["action"],
            "input": {
                **proposal["params"],
                "finding": finding["key"],
                "rationale": f"Scripted: {proposal['why']}",
                "confidence": SCRIPTED_CONFIDENCE,
            },
        }
        for i, (finding, proposal) in enumerate(
            (f, p) for f in question["findings"] for p in f["rules_would_propose"][:1]
        )
    ]
    message = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": "Scripted advice."}, *calls],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    return httpx2.Response(200, json=message)


async def run_advised(scenario: Scenario, score: Score, expect: Expectation) -> None:
    """One cycle of the whole loop with the advisor answering over HTTP (scripted model)."""
    server, _ = await _served(scenario)
    clock = _Clock()
    cards = _Cards()
    claude = httpx2.AsyncClient(transport=httpx2.MockTransport(scripted_model))
    advisor = ClaudeAdvisor(api_key="sk-ant-bench", http_client=claude, max_retries=0, timeout=5)
    async with server as sim, httpx.AsyncClient() as http:
        if scenario.on_server is not None:
            scenario.on_server(sim)
        client = PDClient(http, [sim.url], read_retries=0)
        cluster = PDCluster(client)
        store = await open_store(":memory:")
        try:
            policy = Policy.from_mapping(AGENT_MAY_PROPOSE_ALL)
            executor = Executor(cluster, store, cards, clock, poll_interval=0.01)
            operations = Operations(cluster, store, cards, policy, executor, clock)
            loop = AgentLoop(
                PDObserver(client), store, operations, policy, channel="C0PROPOSALS", advisor=advisor,
                settings=AgentSettings(interval=60.0), clock=clock,
            )  # fmt: skip
            report = await loop.run_once()
        finally:
            await store.aclose()
            await advisor.aclose()
    posted = [(p.request.action.value, dict(p.request.params)) for p in cards.published]
    score.advised = sum(1 for p in report.proposals if p.request.confidence == SCRIPTED_CONFIDENCE)
    score.advised_expected = len(report.proposals)
    score.advised_forbidden = sum(1 for a, p in posted if any(m.matches(a, p) for m in expect.forbidden))


async def run_all(cycles: int) -> list[Score]:
    scores = []
    for scenario in SCENARIOS:
        score = await run_rules(scenario)
        if cycles:
            await run_steady(scenario, score, cycles=cycles)
        await run_advised(scenario, score, scenario.build()[1])
        scores.append(score)
    return scores


# --- totals and the table ------------------------------------------------------------------------


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def totals(scores: list[Score]) -> dict[str, float]:
    tp = sum(s.finding_tp for s in scores)
    fp = sum(s.finding_fp for s in scores)
    fn = sum(s.finding_fn for s in scores)
    ok = sum(s.proposal_ok for s in scores)
    bad = sum(s.proposal_bad for s in scores)
    hours = sum(s.hours for s in scores) or 1.0
    return {
        "finding_precision": _ratio(tp, tp + fp),
        "finding_recall": _ratio(tp, tp + fn),
        "proposal_precision": _ratio(ok, ok + bad),
        "proposal_recall": _ratio(sum(s.required_met for s in scores), sum(s.required for s in scores)),
        "forbidden": sum(s.forbidden for s in scores),
        "cards_per_hour": sum(s.cards for s in scores) / hours,
        "audit_rows_per_hour": sum(s.audit_rows for s in scores) / hours,
        "repeats": sum(s.repeats for s in scores),
        "max_pd_requests": max(s.pd_requests for s in scores),
        "advised": sum(s.advised for s in scores),
        "advised_expected": sum(s.advised_expected for s in scores),
        "advised_forbidden": sum(s.advised_forbidden for s in scores),
    }


def _cell(score: dict[str, Any] | None) -> str:
    if score is None:
        return "n/a"
    f = f"{score['finding_tp']}/{score['finding_tp'] + score['finding_fn']}"
    extra = f" +{score['finding_fp']}" if score["finding_fp"] else ""
    p = f"{score['required_met']}/{score['required']}"
    bad = f" ✗{score['proposal_bad']}" if score["proposal_bad"] else ""
    forbidden = f" ⛔{score['forbidden']}" if score["forbidden"] else ""
    return f"{f}{extra} · {p}{bad}{forbidden} · {score['cards']}c/{score['audit_rows']}a"


def _fmt(key: str, v: float) -> str:
    if "precision" in key or "recall" in key:
        return f"{v:.0%}"
    return f"{v:g}" if v == int(v) else f"{v:.1f}"


def table(new: list[Score], base: list[dict[str, Any]] | None, base_label: str) -> str:
    base_by = {s["name"]: s for s in base or []}
    lines = [
        "## bench_agent_eval\n",
        f"{len(SCENARIOS)} incident scenarios (5 stores, 200 regions; `bench/agent_scenarios.py`). Per "
        "scenario: findings found/expected (+ unexpected), required proposals made/required (✗ proposals "
        "not acceptable, ⛔ forbidden ones), cards/audit rows over one hour of 60 s cycles nobody answers.\n",
        f"| scenario | what | base `{base_label}` | new |",
        "|---|---|---|---|",
    ]
    for scenario, score in zip(SCENARIOS, new, strict=True):
        base_cell = _cell(base_by.get(scenario.name))
        lines.append(f"| {scenario.name} | {scenario.what} | {base_cell} | {_cell(asdict(score))} |")
    new_totals = totals(new)
    base_totals = totals([Score(**s) for s in base]) if base else None
    real_model = "a real model is scored only with ANTHROPIC_API_KEY set; not run here"
    lines += ["", f"| score | base `{base_label}` | new |", "|---|---|---|"]
    names = {
        "finding_precision": "finding precision",
        "finding_recall": "finding recall",
        "proposal_precision": "proposal precision",
        "proposal_recall": "proposal recall (required made)",
        "forbidden": "forbidden proposals",
        "cards_per_hour": "cards per hour, steady state (all scenarios)",
        "audit_rows_per_hour": "audit rows per hour, steady state (all scenarios)",
        "repeats": "repeated cards for an unchanged finding",
        "max_pd_requests": "PD requests per cycle (max over scenarios)",
        "advised": "advisor path: proposals posted from the scripted model's tool calls",
        "advised_expected": "advisor path: proposals posted in that cycle",
        "advised_forbidden": "advisor path: forbidden proposals posted",
    }
    for key, label in names.items():
        base_value = _fmt(key, base_totals[key]) if base_totals else "n/a"
        lines.append(f"| {label} | {base_value} | {_fmt(key, new_totals[key])} |")
    lines.append(
        "\nThe advisor path runs one cycle per scenario with `ClaudeAdvisor` talking HTTP to a scripted "
        f"model that echoes the rules' first proposal per finding as tool calls ({real_model})."
    )
    return "\n".join(lines)


def base_scores(commit: str, cycles: int) -> list[dict[str, Any]] | None:
    """Run this bench against ``commit``'s agent in a temporary tree; None when git cannot."""
    tmp = Path(tempfile.mkdtemp(prefix="agent-eval-base-"))
    try:
        archive = subprocess.run(
            [
                "git",
                "archive",
                "--format=tar",
                commit,
                "agent",
                "actions",
                "pd",
                "store",
                "bench/__init__.py",
            ],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
        for name in ("agent_scenarios.py", "bench_agent_eval.py"):
            shutil.copy(ROOT / "bench" / name, tmp / "bench" / name)
        proc = subprocess.run(
            [sys.executable, "-m", "bench.bench_agent_eval", "--json", "--cycles", str(cycles)],
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": str(tmp), "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
        )
        data: list[dict[str, Any]] = json.loads(proc.stdout)
        return data
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        print(f"base scores unavailable: {exc}", file=sys.stderr)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--base", default=BASE_COMMIT)
    parser.add_argument("--cycles", type=int, default=60)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    scores = asyncio.run(run_all(args.cycles))
    if args.json:
        print(json.dumps([asdict(s) for s in scores]))
        return 0
    base = base_scores(args.base, args.cycles) if args.base else None
    print(table(scores, base, args.base))
    new = totals(scores)
    return 0 if new["forbidden"] == 0 and new["repeats"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


__all__ = ["Match", "Score", "run_rules", "run_steady", "score_rules"]
