"""The action catalog: what people type becomes the exact PD request, pd-ctl line and inverse."""

from __future__ import annotations

from typing import Any

import pytest

from actions.catalog import CATALOG, InvalidParams, help_entries, parse_action, spec_for, validate_params
from actions.config_keys import CONFIG_KEYS, format_go_duration, parse_go_duration
from actions.errors import InvalidRequest
from actions.models import ActionType, Tier

# typed words -> (action, params, method, path, query, body, pd-ctl line)
CASES: list[tuple[str, ActionType, dict[str, Any], str, str, dict[str, str], Any, str]] = [
    (
        "transfer-leader 12 3",
        ActionType.TRANSFER_LEADER,
        {"region_id": 12, "to_store_id": 3},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "transfer-leader", "region_id": 12, "to_store_id": 3},
        "pd-ctl operator add transfer-leader 12 3",
    ),
    (
        "transfer-peer 12 1 4",
        ActionType.TRANSFER_PEER,
        {"region_id": 12, "from_store_id": 1, "to_store_id": 4},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "transfer-peer", "region_id": 12, "from_store_id": 1, "to_store_id": 4},
        "pd-ctl operator add transfer-peer 12 1 4",
    ),
    (
        "add-peer 12 5",
        ActionType.ADD_PEER,
        {"region_id": 12, "store_id": 5},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "add-peer", "region_id": 12, "store_id": 5},
        "pd-ctl operator add add-peer 12 5",
    ),
    (
        "remove-peer 12 5",
        ActionType.REMOVE_PEER,
        {"region_id": 12, "store_id": 5},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "remove-peer", "region_id": 12, "store_id": 5},
        "pd-ctl operator add remove-peer 12 5",
    ),
    (
        "split-region 12",
        ActionType.SPLIT_REGION,
        {"region_id": 12, "policy": "scan"},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "split-region", "region_id": 12, "policy": "scan"},
        "pd-ctl operator add split-region 12 --policy=scan",
    ),
    (
        "split-region 12 APPROXIMATE",
        ActionType.SPLIT_REGION,
        {"region_id": 12, "policy": "approximate"},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "split-region", "region_id": 12, "policy": "approximate"},
        "pd-ctl operator add split-region 12 --policy=approximate",
    ),
    (
        "split-region 12 usekey 7480000000000000ff 0x7481",
        ActionType.SPLIT_REGION,
        {"region_id": 12, "policy": "usekey", "keys": ["7480000000000000FF", "7481"]},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "split-region", "region_id": 12, "policy": "usekey", "keys": ["7480000000000000FF", "7481"]},
        "pd-ctl operator add split-region 12 --policy=usekey --keys=7480000000000000FF,7481",
    ),
    (
        "merge-region 10 11",
        ActionType.MERGE_REGION,
        {"source_region_id": 10, "target_region_id": 11},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "merge-region", "source_region_id": 10, "target_region_id": 11},
        "pd-ctl operator add merge-region 10 11",
    ),
    (
        "scatter-region 12",
        ActionType.SCATTER_REGION,
        {"region_id": 12},
        "POST",
        "/pd/api/v1/operators",
        {},
        {"name": "scatter-region", "region_id": 12},
        "pd-ctl operator add scatter-region 12",
    ),
    (
        "cancel-operator 12",
        ActionType.CANCEL_OPERATOR,
        {"region_id": 12},
        "DELETE",
        "/pd/api/v1/operators/12",
        {},
        None,
        "pd-ctl operator remove 12",
    ),
    (
        "evict-leader 4",
        ActionType.EVICT_LEADER,
        {"store_id": 4},
        "POST",
        "/pd/api/v1/schedulers",
        {},
        {"name": "evict-leader-scheduler", "store_id": 4},
        "pd-ctl scheduler add evict-leader-scheduler 4",
    ),
    (
        "evict-leader-scheduler 4",
        ActionType.EVICT_LEADER,
        {"store_id": 4},
        "POST",
        "/pd/api/v1/schedulers",
        {},
        {"name": "evict-leader-scheduler", "store_id": 4},
        "pd-ctl scheduler add evict-leader-scheduler 4",
    ),
    (
        "remove-evict-leader 4",
        ActionType.REMOVE_EVICT_LEADER,
        {"store_id": 4},
        "DELETE",
        "/pd/api/v1/schedulers/evict-leader-scheduler-4",
        {},
        None,
        "pd-ctl scheduler remove evict-leader-scheduler-4",
    ),
    (
        "pause-scheduler balance-region-scheduler 600",
        ActionType.PAUSE_SCHEDULER,
        {"scheduler": "balance-region-scheduler", "delay_seconds": 600},
        "POST",
        "/pd/api/v1/schedulers/balance-region-scheduler",
        {},
        {"delay": 600},
        "pd-ctl scheduler pause balance-region-scheduler 600",
    ),
    (
        "pause-scheduler balance-leader 10m",
        ActionType.PAUSE_SCHEDULER,
        {"scheduler": "balance-leader-scheduler", "delay_seconds": 600},
        "POST",
        "/pd/api/v1/schedulers/balance-leader-scheduler",
        {},
        {"delay": 600},
        "pd-ctl scheduler pause balance-leader-scheduler 600",
    ),
    (
        "resume-scheduler balance-region-scheduler",
        ActionType.RESUME_SCHEDULER,
        {"scheduler": "balance-region-scheduler"},
        "POST",
        "/pd/api/v1/schedulers/balance-region-scheduler",
        {},
        {"delay": 0},
        "pd-ctl scheduler resume balance-region-scheduler",
    ),
    (
        "set-config leader-schedule-limit 8",
        ActionType.SET_CONFIG,
        {"key": "leader-schedule-limit", "value": 8},
        "POST",
        "/pd/api/v1/config",
        {},
        {"leader-schedule-limit": 8},
        "pd-ctl config set leader-schedule-limit 8",
    ),
    (
        "set-config low-space-ratio 0.85",
        ActionType.SET_CONFIG,
        {"key": "low-space-ratio", "value": 0.85},
        "POST",
        "/pd/api/v1/config",
        {},
        {"low-space-ratio": 0.85},
        "pd-ctl config set low-space-ratio 0.85",
    ),
    (
        "set-config enable-tikv-split-region off",
        ActionType.SET_CONFIG,
        {"key": "enable-tikv-split-region", "value": "false"},
        "POST",
        "/pd/api/v1/config",
        {},
        {"enable-tikv-split-region": "false"},
        "pd-ctl config set enable-tikv-split-region false",
    ),
    (
        "set-config schedule.max-store-down-time 1h30m",
        ActionType.SET_CONFIG,
        {"key": "max-store-down-time", "value": "1h30m0s"},
        "POST",
        "/pd/api/v1/config",
        {},
        {"max-store-down-time": "1h30m0s"},
        "pd-ctl config set max-store-down-time 1h30m0s",
    ),
    (
        "set-config max-replicas 5",
        ActionType.SET_CONFIG,
        {"key": "max-replicas", "value": 5},
        "POST",
        "/pd/api/v1/config",
        {},
        {"max-replicas": 5},
        "pd-ctl config set max-replicas 5",
    ),
    (
        "set-store-limit 4 15 add-peer",
        ActionType.SET_STORE_LIMIT,
        {"store_id": 4, "rate": 15.0, "limit_type": "add-peer"},
        "POST",
        "/pd/api/v1/store/4/limit",
        {},
        {"rate": 15, "type": "add-peer"},
        "pd-ctl store limit 4 15 add-peer",
    ),
    (
        "set-store-limit 4 7.5",
        ActionType.SET_STORE_LIMIT,
        {"store_id": 4, "rate": 7.5},
        "POST",
        "/pd/api/v1/store/4/limit",
        {},
        {"rate": 7.5},
        "pd-ctl store limit 4 7.5",
    ),
    (
        "offline-store 4",
        ActionType.OFFLINE_STORE,
        {"store_id": 4},
        "DELETE",
        "/pd/api/v1/store/4",
        {},
        None,
        "pd-ctl store delete 4",
    ),
    (
        "cancel-offline 4",
        ActionType.CANCEL_OFFLINE,
        {"store_id": 4},
        "POST",
        "/pd/api/v1/store/4/state",
        {"state": "Up"},
        None,
        "pd-ctl store cancel-delete 4",
    ),
]


@pytest.mark.parametrize(("typed", "action", "params", "method", "path", "query", "body", "pd_ctl"), CASES)
async def test_typed_words_become_pd_request_and_pd_ctl_line(
    typed: str,
    action: ActionType,
    params: dict[str, Any],
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
    pd_ctl: str,
) -> None:
    """Each action parses to its params, then PD's exact method, path, query and body, and its pd-ctl line."""
    parsed_action, parsed = parse_action(typed.split())
    assert (parsed_action, parsed) == (action, params)
    spec = CATALOG[action]
    request = spec.pd_request(parsed)
    assert (request.method, request.path, request.query, request.body) == (method, path, query, body)
    assert spec.pd_ctl(parsed) == pd_ctl


async def test_every_action_is_in_the_catalog_and_its_example_parses() -> None:
    """Each ActionType has one spec whose example parses, describes itself in words and names a request."""
    assert set(CATALOG) == set(ActionType)
    for action, spec in CATALOG.items():
        assert spec.action is action
        parsed_action, params = parse_action(spec.example.split())
        assert parsed_action is action
        assert spec.describe(params)[0].isupper()
        assert spec.pd_request(params).name
        assert spec.usage().startswith(spec.word)
        assert spec.checks, f"{action} runs no preflight checks"


async def test_describe_says_what_happens_in_words() -> None:
    """Cards show a sentence, not parameters."""
    _, params = parse_action(["transfer-leader", "12", "3"])
    assert CATALOG[ActionType.TRANSFER_LEADER].describe(params) == "Move the leader of region 12 to store 3"
    _, params = parse_action(["pause-scheduler", "balance-region", "90"])
    assert CATALOG[ActionType.PAUSE_SCHEDULER].describe(params) == "Pause balance-region-scheduler for 1m30s"


async def test_tiers_follow_the_design_table() -> None:
    """Tiers decide approvals; they are the ones docs/architecture.md lists."""
    tiers = {action: spec.tier for action, spec in CATALOG.items()}
    assert tiers[ActionType.TRANSFER_LEADER] is Tier.REVERSIBLE
    assert tiers[ActionType.ADD_PEER] is Tier.STRUCTURAL
    assert tiers[ActionType.MERGE_REGION] is Tier.IRREVERSIBLE
    assert tiers[ActionType.OFFLINE_STORE] is Tier.IRREVERSIBLE
    assert tiers[ActionType.EVICT_LEADER] is Tier.REVERSIBLE  # it lasts until removed
    assert tiers[ActionType.SET_CONFIG] is Tier.CONFIG
    operators = {a for a, s in CATALOG.items() if s.creates_operator}
    assert operators == {
        ActionType.TRANSFER_LEADER,
        ActionType.TRANSFER_PEER,
        ActionType.ADD_PEER,
        ActionType.REMOVE_PEER,
        ActionType.SPLIT_REGION,
        ActionType.MERGE_REGION,
        ActionType.SCATTER_REGION,
    }


# --- inverse ----------------------------------------------------------------------------------------

INVERSES: list[tuple[str, dict[str, Any], tuple[ActionType, dict[str, Any]] | None]] = [
    (
        "transfer-leader 12 3",
        {"region": {"leader_store_id": 1}},
        (ActionType.TRANSFER_LEADER, {"region_id": 12, "to_store_id": 1}),
    ),
    ("transfer-leader 12 3", {}, None),
    (
        "transfer-peer 12 1 4",
        {},
        (ActionType.TRANSFER_PEER, {"region_id": 12, "from_store_id": 4, "to_store_id": 1}),
    ),
    ("add-peer 12 5", {}, (ActionType.REMOVE_PEER, {"region_id": 12, "store_id": 5})),
    ("remove-peer 12 5", {}, (ActionType.ADD_PEER, {"region_id": 12, "store_id": 5})),
    ("split-region 12", {}, None),
    ("merge-region 10 11", {}, None),
    ("scatter-region 12", {}, None),
    ("cancel-operator 12", {}, None),
    ("evict-leader 4", {}, (ActionType.REMOVE_EVICT_LEADER, {"store_id": 4})),
    ("remove-evict-leader 4", {}, (ActionType.EVICT_LEADER, {"store_id": 4})),
    (
        "pause-scheduler balance-region-scheduler 600",
        {},
        (ActionType.RESUME_SCHEDULER, {"scheduler": "balance-region-scheduler"}),
    ),
    (
        "resume-scheduler balance-region-scheduler",
        {"scheduler": {"paused": True}},
        (ActionType.PAUSE_SCHEDULER, {"scheduler": "balance-region-scheduler", "delay_seconds": 3600}),
    ),
    (
        "set-config leader-schedule-limit 8",
        {"config": {"leader-schedule-limit": 4}},
        (ActionType.SET_CONFIG, {"key": "leader-schedule-limit", "value": 4}),
    ),
    (
        "set-config max-store-down-time 1h",
        {"config": {"max-store-down-time": "30m0s"}},
        (ActionType.SET_CONFIG, {"key": "max-store-down-time", "value": "30m0s"}),
    ),
    ("set-config leader-schedule-limit 8", {}, None),
    (
        "set-store-limit 4 30 add-peer",
        {"store_limit": {"add-peer": 15.0, "remove-peer": 20.0}},
        (ActionType.SET_STORE_LIMIT, {"store_id": 4, "rate": 15.0, "limit_type": "add-peer"}),
    ),
    (
        "set-store-limit 4 30",
        {"store_limit": {"add-peer": 15.0, "remove-peer": 15.0}},
        (ActionType.SET_STORE_LIMIT, {"store_id": 4, "rate": 15.0}),
    ),
    ("set-store-limit 4 30", {"store_limit": {"add-peer": 15.0, "remove-peer": 20.0}}, None),
    ("offline-store 4", {}, (ActionType.CANCEL_OFFLINE, {"store_id": 4})),
    ("cancel-offline 4", {}, (ActionType.OFFLINE_STORE, {"store_id": 4})),
]


@pytest.mark.parametrize(("typed", "facts", "expected"), INVERSES)
async def test_inverse_uses_preflight_facts(
    typed: str, facts: dict[str, Any], expected: tuple[ActionType, dict[str, Any]] | None
) -> None:
    """Undo proposes the inverse action; facts supply the old leader, config value or store limit."""
    action, params = parse_action(typed.split())
    assert CATALOG[action].inverse(params, facts) == expected


async def test_an_inverse_is_itself_a_valid_catalog_request() -> None:
    """Every inverse's params validate against the inverse action's own parameters."""
    facts = {
        "region": {"leader_store_id": 1},
        "scheduler": {"paused": True},
        "config": {"leader-schedule-limit": 4},
        "store_limit": {"add-peer": 15.0, "remove-peer": 15.0},
    }
    for spec in CATALOG.values():
        _, params = parse_action(spec.example.split())
        if spec.action is ActionType.SET_CONFIG:
            params = {"key": "leader-schedule-limit", "value": 8}
        inverse = spec.inverse(params, facts)
        if inverse is None:
            continue
        action, inverse_params = inverse
        inverse_spec = CATALOG[action]
        assert validate_params(action, inverse_spec.raw_params(inverse_params)) == inverse_params


# --- bad input ----------------------------------------------------------------------------------------

BAD: list[tuple[str, str, str | None]] = [
    ("transfer-leader abc 3", "region id must be a positive whole number, got 'abc'", "region_id"),
    ("transfer-leader 0 3", "region id must be a positive whole number, got '0'", "region_id"),
    ("transfer-leader 12 -3", "target store id must be a positive whole number, got '-3'", "to_store_id"),
    ("transfer-leader 12", "transfer-leader needs REGION STORE (2 arguments), got 1 (12)", None),
    ("transfer-leader 12 3 4", "transfer-leader needs REGION STORE (2 arguments), got 3", None),
    ("transfer-peer 12 4 4", "the target store must differ from the source store", "to_store_id"),
    ("merge-region 10 10", "a region cannot merge with itself", "target_region_id"),
    (
        "split-region 12 middle",
        "split policy must be one of scan, approximate, usekey, got 'middle'",
        "policy",
    ),
    ("split-region 12 usekey", "usekey needs at least one split key", "keys"),
    ("split-region 12 usekey 7G", "split keys are hex bytes", "keys"),
    ("split-region 12 usekey ABC", "split keys are hex bytes", "keys"),
    ("split-region 12 scan 7480", "split-region needs REGION [scan|approximate|usekey KEY…]", None),
    (
        "pause-scheduler balance-region-scheduler soon",
        "pause time must be a whole number of seconds",
        "delay_seconds",
    ),
    (
        "pause-scheduler balance-region-scheduler 0",
        "pause time must be between 1 second and 7 days",
        "delay_seconds",
    ),
    ("pause-scheduler all 60", "one at a time, not 'all'", "scheduler"),
    ("set-config leader-schedule-limt 8", "did you mean leader-schedule-limit?", "key"),
    (
        "set-config leader-schedule-limit -1",
        "leader-schedule-limit must be a whole number of 0 or more",
        "value",
    ),
    ("set-config leader-schedule-limit 5000", "leader-schedule-limit must be between 0 and 1024", "value"),
    ("set-config max-replicas 9", "max-replicas must be between 1 and 7", "value"),
    ("set-config low-space-ratio 1.5", "low-space-ratio must be between 0 and 1", "value"),
    ("set-config max-store-down-time 600", "a duration needs a unit", "value"),
    ("set-config enable-tikv-split-region maybe", "enable-tikv-split-region is true or false", "value"),
    (
        "set-config leader-schedule-policy weight",
        "leader-schedule-policy must be one of count, size",
        "value",
    ),
    ("set-store-limit 4 0", "store limit rate must be greater than 0", "rate"),
    ("set-store-limit 4 fast", "store limit rate must be a number", "rate"),
    ("set-store-limit 4 15 add-learner", "limit type must be one of add-peer, remove-peer", "limit_type"),
]


@pytest.mark.parametrize(("typed", "message", "field"), BAD)
async def test_bad_input_is_refused_with_a_sentence_and_usage(
    typed: str, message: str, field: str | None
) -> None:
    """Wrong input raises InvalidRequest naming the field, saying what is wrong, carrying the usage line."""
    with pytest.raises(InvalidRequest) as caught:
        parse_action(typed.split())
    assert message in str(caught.value)
    assert caught.value.field == field
    assert caught.value.usage == spec_for(typed.split()[0]).usage()


async def test_unknown_action_suggests_the_closest_one() -> None:
    """A typo names the action it probably meant and lists the known ones."""
    with pytest.raises(InvalidRequest) as caught:
        spec_for("tranfer-leader")
    assert "Did you mean transfer-leader?" in str(caught.value)
    assert "offline-store" in str(caught.value)
    with pytest.raises(InvalidRequest, match="Name an action"):
        parse_action([])


async def test_validate_params_collects_every_field_error() -> None:
    """The Edit modal gets one message per wrong field, not just the first."""
    with pytest.raises(InvalidParams) as caught:
        validate_params(ActionType.TRANSFER_PEER, {"region_id": "x", "from_store_id": "", "to_store_id": "0"})
    assert set(caught.value.errors) == {"region_id", "from_store_id", "to_store_id"}
    assert caught.value.errors["from_store_id"] == "source store is required"
    assert isinstance(caught.value, InvalidRequest)


async def test_validate_params_round_trips_the_edit_modal_prefill() -> None:
    """raw_params pre-fills the modal; submitting it unchanged gives the same params back."""
    for typed, action, params, *_ in CASES:
        spec = CATALOG[action]
        assert validate_params(action, spec.raw_params(params)) == params, typed


async def test_validate_params_refuses_unknown_fields_and_fills_defaults() -> None:
    """An unknown field is an error; an empty optional field takes its default."""
    assert validate_params(ActionType.SPLIT_REGION, {"region_id": "12", "policy": "", "keys": ""}) == {
        "region_id": 12,
        "policy": "scan",
    }
    with pytest.raises(InvalidParams) as caught:
        validate_params(ActionType.ADD_PEER, {"region_id": "12", "store_id": "5", "to_store_id": "5"})
    assert "add-peer has no parameter to_store_id" in caught.value.errors["to_store_id"]


async def test_help_entries_cover_every_action_with_usage_and_example() -> None:
    """help lists every action once, with its usage, example, tier and aliases."""
    entries = help_entries()
    assert [e.action for e in entries] == list(CATALOG)
    evict = next(e for e in entries if e.action is ActionType.EVICT_LEADER)
    assert evict.usage == "evict-leader STORE"
    assert evict.aliases == ("evict-leader-scheduler",)
    assert all(e.example.split()[0] in (e.usage.split()[0], *e.aliases) for e in entries)


async def test_config_table_knows_pd_types() -> None:
    """Known keys carry PD's type: numbers, bool-strings, durations; replication keys included."""
    assert CONFIG_KEYS["leader-schedule-limit"].kind.value == "uint64"
    assert CONFIG_KEYS["enable-tikv-split-region"].kind.value == "bool-string"
    assert CONFIG_KEYS["max-store-down-time"].kind.value == "duration"
    assert CONFIG_KEYS["max-replicas"].section == "replication"


@pytest.mark.parametrize(
    ("text", "nanoseconds", "canonical"),
    [
        ("30m", 30 * 60 * 10**9, "30m0s"),
        ("1h", 3600 * 10**9, "1h0m0s"),
        ("1.5s", 1_500_000_000, "1.5s"),
        ("10ms", 10_000_000, "10ms"),
        ("1h30m15s", 5415 * 10**9, "1h30m15s"),
        ("0", 0, "0s"),
        ("2µs", 2000, "2µs"),
    ],
)
async def test_go_durations_parse_and_print_like_go(text: str, nanoseconds: int, canonical: str) -> None:
    """Durations are read as Go reads them and written as Go's Duration.String() writes them."""
    assert parse_go_duration(text) == nanoseconds
    assert format_go_duration(nanoseconds) == canonical


@pytest.mark.parametrize("text", ["", "5", "5x", "m", "1h-5m"])
async def test_malformed_go_durations_are_refused(text: str) -> None:
    """Anything Go's time.ParseDuration would refuse is refused."""
    with pytest.raises(ValueError, match="duration"):
        parse_go_duration(text)
