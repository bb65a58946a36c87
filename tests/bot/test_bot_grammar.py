"""The /tikv grammar: every command form, every error, and the word "payload"."""

from __future__ import annotations

import pytest

from actions.models import ActionType
from bot import grammar
from bot.errors import GrammarError
from bot.grammar import (
    DEFAULT_AUDIT_ROWS,
    Audit,
    Help,
    Pending,
    RunAction,
    ShowRegion,
    ShowStore,
    Status,
    Undo,
    parse,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help("default")),
        ("help", Help("default")),
        ("  HELP  ", Help("default")),
        ("help transfer-leader", Help("default", ActionType.TRANSFER_LEADER)),
        ("help evict-leader", Help("default", ActionType.EVICT_LEADER)),
        ("status", Status("default")),
        ("region 12", ShowRegion("default", 12)),
        ("region #12", ShowRegion("default", 12)),
        ("store 4", ShowStore("default", 4)),
        ("pending", Pending("default")),
        ("audit", Audit("default")),
        ("audit 50", Audit("default", limit=50)),
        ("audit region 12", Audit("default", region_id=12)),
        ("audit store 4 100", Audit("default", limit=100, store_id=4)),
        ("audit ticket 3", Audit("default", ticket_id=3)),
        ("audit proposal 7", Audit("default", proposal_id=7)),
        ("audit since 2h", Audit("default", since_seconds=7200)),
        ("audit user <@U0BOB|bob> since 30m 5", Audit("default", limit=5, user="U0BOB", since_seconds=1800)),
        ("audit region 3 store 4 user U0ALICE", Audit("default", region_id=3, store_id=4, user="U0ALICE")),
        ("undo 7", Undo("default", 7)),
        ("undo #7", Undo("default", 7)),
        ("-c prod status", Status("prod")),
        ("status --cluster=prod", Status("prod")),
        ("region 12 -c east", ShowRegion("east", 12)),
    ],
)
def test_every_read_command_form(text: str, expected: grammar.Command) -> None:
    """Each documented form parses to its typed command, -c anywhere picks the cluster."""
    assert parse(text) == expected


def test_actions_and_dry_runs_parse_through_the_catalog() -> None:
    """`[dry-run] ACTION ARGS…` gives the catalog's action and typed parameters."""
    assert parse("transfer-leader 12 3") == RunAction(
        "default", ActionType.TRANSFER_LEADER, {"region_id": 12, "to_store_id": 3}
    )
    assert parse("dry-run transfer-leader 12 3") == RunAction(
        "default", ActionType.TRANSFER_LEADER, {"region_id": 12, "to_store_id": 3}, dry_run=True
    )
    split = parse("-c prod dry-run split-region 12 usekey 7480000000000000ff")
    assert isinstance(split, RunAction) and split.cluster == "prod" and split.dry_run
    assert split.params["keys"] == ["7480000000000000FF"]
    evict = parse("evict-leader 4")
    assert isinstance(evict, RunAction) and evict.action is ActionType.EVICT_LEADER


def test_the_default_cluster_comes_from_the_caller() -> None:
    """Without -c, the command targets the bot's own cluster name."""
    assert parse("status", default_cluster="tikv-east") == Status("tikv-east")


@pytest.mark.parametrize(
    ("text", "message", "usage"),
    [
        ("transfer-leader 12", "transfer-leader needs", "/tikv transfer-leader REGION"),
        ("transfer-leader twelve 3", "region", "e.g. /tikv transfer-leader 12 3"),
        ("dry-run add-peer 12", "add-peer needs", "e.g. /tikv add-peer"),
        ("dry-run", "Which action", "/tikv dry-run ACTION"),
        ("transfer-leder 12 3", "Did you mean transfer-leader", "/tikv transfer-leader"),
        ("frobnicate", "Unknown action", "/tikv help"),
        ("region", "exactly one argument", "/tikv region REGION_ID"),
        ("region abc", "whole number", "/tikv region"),
        ("store 1 2", "exactly one argument", "/tikv store STORE_ID"),
        ("status now", "takes no arguments", "/tikv status"),
        ("pending all", "takes no arguments", "/tikv pending"),
        ("audit host 3", "region, store, ticket, proposal, user or since", "/tikv audit"),
        ("audit user bob", "not a person", "/tikv audit"),
        ("audit since tuesday", "not a duration", "/tikv audit"),
        ("audit since", "needs a value", "/tikv audit"),
        ("audit region", "needs one region id", "/tikv audit"),
        ("audit 0", "between 1 and", "/tikv audit"),
        ("audit 5000", "between 1 and", "/tikv audit"),
        ("undo", "exactly one argument", "/tikv undo PROPOSAL_ID"),
        ("undo seven", "proposal id", "/tikv undo"),
        ("help nothing-like-this", "no action called", "/tikv help"),
        ("help a b", "at most one", "/tikv help"),
        ("-c", "needs a cluster name", "-c CLUSTER"),
        ("--cluster= status", "needs a cluster name", "-c CLUSTER"),
    ],
)
def test_errors_carry_a_message_and_a_usage_line(text: str, message: str, usage: str) -> None:
    """Every parse error says what is wrong and how to write the command, with an example for actions."""
    with pytest.raises(GrammarError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.usage is not None and usage in caught.value.usage


def test_an_action_error_names_its_usage_and_example() -> None:
    """A wrong parameter of a known action answers with the parser's reason, the usage and an example."""
    with pytest.raises(GrammarError) as caught:
        parse("pause-scheduler balance-region soon")
    assert "got 'soon'" in str(caught.value)
    assert caught.value.usage == (
        "/tikv pause-scheduler NAME SECONDS  — e.g. /tikv pause-scheduler balance-region-scheduler 600"
    )


@pytest.mark.parametrize(
    "text",
    ["help payload", "audit payload", "set-config payload 1", "region payload"],
)
def test_the_word_payload_is_ordinary_text(text: str) -> None:
    """ "payload" confuses Bolt's body parser (slack-contract §2.1), never the grammar itself."""
    with pytest.raises(GrammarError) as caught:
        parse(text)
    assert "payload" in str(caught.value)


def test_default_audit_size() -> None:
    """`audit` alone shows the most recent rows, a page's worth."""
    command = parse("audit")
    assert isinstance(command, Audit) and command.limit == DEFAULT_AUDIT_ROWS
