"""The policy file read strictly, fail-closed policy with real Slack, and `tikv-chatops policy check`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from actions.models import ActionRequest, ActionType, Actor, Proposal, ProposalState, Tier
from actions.policy import Policy, PolicyError
from bot.cli import main as cli_main
from bot.main import load_policy
from bot.policy_file import read_policy


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tiers:\n  irreversible:\n    approvals: true\n", "tiers.irreversible.approvals"),
        ("tiers:\n  config:\n    requester_may_approve: on\n", "tiers.config.requester_may_approve"),
        ("tiers:\n  config:\n    agent_may_propose: yes\n", "tiers.config.agent_may_propose"),
        ("tiers:\n  structural:\n    ttl: 400d\n", "tiers.structural.ttl"),
        ("tiers:\n  structural:\n    approvals: '2'\n", "tiers.structural.approvals"),
        ("approvers:\n  users: U0ALICE\n", "approvers.users"),
        ("allow_unsafe_max_replicas: 1\n", "allow_unsafe_max_replicas"),
        ("aprovers: {users: [U0ALICE]}\n", "aprovers"),
    ],
)
def test_a_wrong_value_is_an_error_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError, match=key.replace(".", r"\.")) as caught:
        read_policy(path)
    assert str(path) in str(caught.value)


def test_a_ttl_of_up_to_a_year_and_real_booleans_are_fine(tmp_path: Path) -> None:
    policy = read_policy(
        _write(tmp_path, "tiers:\n  config: {ttl: 365d, requester_may_approve: true, approvals: 2}\n")
    )
    config = policy.tier_policy(Tier.CONFIG)
    assert config.requester_may_approve is True and config.approvals == 2 and config.ttl.days == 365


def test_real_slack_without_approvers_fails_closed_and_the_log_says_how_to_fix_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot"):
        closed = load_policy(None, real_slack=True)
    assert closed.approval_gap(Tier.STRUCTURAL) and closed.approval_gap(Tier.IRREVERSIBLE)
    assert closed.approval_gap(Tier.CONFIG) == ""
    assert any("approvers:" in r.getMessage() and "structural" in r.getMessage() for r in caplog.records)
    assert "Nobody can approve irreversible" in closed.approval_gap(Tier.IRREVERSIBLE)
    assert closed.may_approve(Actor(user_id="U0X"), _pending()) == closed.approval_gap(Tier.STRUCTURAL)
    # The playground keeps its friendly defaults.
    friendly = load_policy(None, real_slack=False)
    assert friendly.gaps() == []
    # Naming approvers closes the gap.
    named = Policy.from_mapping({"approvers": {"groups": ["S0OPS"]}}).fail_closed()
    assert named.gaps() == []
    assert named.may_approve(Actor(user_id="U0X", group_ids=frozenset({"S0OPS"})), _pending()) is None


def _pending() -> Proposal:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Proposal(
        id=1,
        revision=1,
        state=ProposalState.PENDING,
        request=ActionRequest(
            action=ActionType.SET_CONFIG, params={"key": "halt-scheduling", "value": "true"}, requester="U0A"
        ),
        original_params={},
        tier=Tier.STRUCTURAL,
        approvals_required=1,
        fingerprint="f",
        created_at=now,
        updated_at=now,
        expires_at=now,
    )


def test_policy_check_prints_each_tier_and_exits_non_zero_on_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "TIKV_CHATOPS_POLICY"):
        monkeypatch.delenv(name, raising=False)
    good = _write(tmp_path, "approvers: {users: [U0CAROL]}\ntiers:\n  structural: {approvals: 2, ttl: 2h}\n")
    assert cli_main(["policy", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "structural: 2 approvals by users U0CAROL, not the requester; ttl 2h" in out
    assert "irreversible: 2 approvals by users U0CAROL" in out and "reversible: 1 approval by anyone" in out

    bad = tmp_path / "bad.yml"
    bad.write_text("tiers:\n  config:\n    requester_may_approve: on\n", encoding="utf-8")
    assert cli_main(["policy", "check", str(bad)]) == 1
    assert "tiers.config.requester_may_approve" in capsys.readouterr().err

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    assert cli_main(["policy", "check"]) == 0
    out = capsys.readouterr().out
    assert "structural: 1 approval by nobody (no approvers are configured)" in out
    assert "warning: Nobody can approve structural actions" in out


def test_serve_refuses_to_start_with_a_wrong_policy_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _write(tmp_path, "tiers:\n  irreversible:\n    approvals: true\n")
    monkeypatch.setenv("TIKV_CHATOPS_POLICY", str(bad))
    monkeypatch.setenv("TIKV_CHATOPS_DB", str(tmp_path / "never.db"))
    monkeypatch.setenv("PORT", "0")
    monkeypatch.setenv("HOST", "127.0.0.1")
    assert cli_main(["serve"]) == 2
    assert "tiers.irreversible.approvals" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()
