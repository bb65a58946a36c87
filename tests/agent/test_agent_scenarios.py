"""The incident scenarios of ``bench/agent_scenarios.py``, each scored as the bench scores it: every
expected finding and required proposal, no unexpected finding, no proposal that is not acceptable,
no forbidden one; and over an hour of unanswered cycles, no repeated card for an unchanged finding."""

from __future__ import annotations

import pytest

from bench.agent_scenarios import SCENARIOS, Scenario, by_name
from bench.bench_agent_eval import Score, run_rules, run_steady


def _verdict(score: Score) -> dict[str, int]:
    return {
        "missed findings": score.finding_fn,
        "unexpected findings": score.finding_fp,
        "unacceptable proposals": score.proposal_bad,
        "forbidden proposals": score.forbidden,
        "required proposals not made": score.required - score.required_met,
    }


def test_there_are_at_least_fifteen_scenarios_and_a_healthy_one() -> None:
    assert len(SCENARIOS) >= 15 and len({s.name for s in SCENARIOS}) == len(SCENARIOS)
    assert by_name("healthy").build()[1].findings == frozenset()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
async def test_the_rules_find_and_propose_what_the_scenario_expects(scenario: Scenario) -> None:
    score = await run_rules(scenario)
    assert _verdict(score) == dict.fromkeys(_verdict(score), 0), (score.findings, score.proposals)
    assert score.pd_requests <= 15


@pytest.mark.parametrize("name", ["store-down-past", "oversized-down-peer", "leader-imbalance-paused"])
async def test_an_unchanged_finding_gets_one_card_and_few_audit_rows_in_an_hour(name: str) -> None:
    """Sixty 60 s cycles nobody answers: one card per finding at most; a refused split is audited once
    per back-off window (0, 5, 15, 35 min), not sixty times."""
    scenario = by_name(name)
    score = await run_rules(scenario)
    await run_steady(scenario, score, cycles=60)
    assert score.repeats == 0
    assert score.cards <= len(score.findings)
    # One proposal's life now writes its creation to the timeline too (the audit trail keeps every
    # event); what must not happen is a row per cycle: sixty cycles stay within a handful.
    assert score.audit_rows <= 6
