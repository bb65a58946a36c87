"""Config keys classified by what they can break, the tier of a concrete change, and values checked
against the rest of PD's config."""

from __future__ import annotations

import pytest

from actions.config_keys import (
    CONFIG_KEYS,
    KeyClass,
    check_against,
    config_impact,
    config_key,
    key_class,
)
from actions.models import Tier

CLASSES = {
    "max-replicas": KeyClass.DURABILITY,
    "location-labels": KeyClass.DURABILITY,
    "isolation-level": KeyClass.DURABILITY,
    "strictly-match-label": KeyClass.DURABILITY,
    "enable-placement-rules": KeyClass.DURABILITY,
    "enable-witness": KeyClass.DURABILITY,
    "halt-scheduling": KeyClass.STOPPER,
    "leader-schedule-limit": KeyClass.STOPPER,
    "region-schedule-limit": KeyClass.STOPPER,
    "replica-schedule-limit": KeyClass.STOPPER,
    "merge-schedule-limit": KeyClass.STOPPER,
    "hot-region-schedule-limit": KeyClass.STOPPER,
    "max-store-down-time": KeyClass.STOPPER,
    "enable-remove-down-replica": KeyClass.STOPPER,
    "enable-make-up-replica": KeyClass.STOPPER,
    "enable-replace-offline-replica": KeyClass.STOPPER,
    "max-snapshot-count": KeyClass.TUNING,
    "max-pending-peer-count": KeyClass.TUNING,
    "tolerant-size-ratio": KeyClass.TUNING,
    "low-space-ratio": KeyClass.TUNING,
    "split-merge-interval": KeyClass.TUNING,
    "patrol-region-interval": KeyClass.TUNING,
    "leader-schedule-policy": KeyClass.TUNING,
    "enable-cross-table-merge": KeyClass.TUNING,
}


@pytest.mark.parametrize(("name", "cls"), sorted(CLASSES.items()))
def test_every_key_has_the_class_of_what_it_can_break(name: str, cls: KeyClass) -> None:
    assert name in CONFIG_KEYS
    assert key_class(name) is cls


def test_at_least_fifteen_keys_are_classified_and_every_known_key_has_a_class() -> None:
    assert len(CLASSES) >= 15
    assert {key_class(name) for name in CONFIG_KEYS} == set(KeyClass)


# (key, current as PD reports it, typed value, expected tier, words the reason must contain)
IMPACTS = [
    ("max-replicas", 3, "1", Tier.IRREVERSIBLE, "lowers max-replicas 3 → 1, two of three copies"),
    ("max-replicas", 3, "2", Tier.IRREVERSIBLE, "one of three copies of every region is dropped"),
    ("max-replicas", 3, "5", Tier.IRREVERSIBLE, "PD adds two more copies of every region (needs 5 Up"),
    ("location-labels", "zone,host", "zone", Tier.IRREVERSIBLE, "location-labels zone,host → zone"),
    ("isolation-level", "", "zone", Tier.IRREVERSIBLE, "isolation-level '' → zone"),
    ("strictly-match-label", "false", "true", Tier.IRREVERSIBLE, "strictly-match-label false → true"),
    ("enable-placement-rules", "true", "false", Tier.IRREVERSIBLE, "enable-placement-rules true → false"),
    ("halt-scheduling", "false", "true", Tier.STRUCTURAL, "all scheduling stops"),
    ("halt-scheduling", "true", "false", Tier.CONFIG, "tunes halt-scheduling true → false"),
    ("leader-schedule-limit", 4, "0", Tier.STRUCTURAL, "leader-schedule-limit 4 → 0, which stops leader"),
    ("replica-schedule-limit", 64, "0", Tier.STRUCTURAL, "the repair of regions that lost a copy"),
    ("leader-schedule-limit", 4, "8", Tier.CONFIG, "tunes leader-schedule-limit 4 → 8"),
    ("max-store-down-time", "30m0s", "24h", Tier.STRUCTURAL, "30m0s → 24h0m0s, the replicas of a dead store"),
    ("max-store-down-time", "30m0s", "45m", Tier.CONFIG, "tunes max-store-down-time"),
    ("enable-remove-down-replica", "true", "false", Tier.STRUCTURAL, "rebuilding the replicas of Down"),
    ("enable-remove-down-replica", "false", "true", Tier.CONFIG, "tunes"),
    ("max-snapshot-count", 64, "3", Tier.CONFIG, "tunes max-snapshot-count 64 → 3"),
]


@pytest.mark.parametrize(("name", "current", "typed", "tier", "words"), IMPACTS)
def test_a_change_gets_the_tier_of_what_it_does_with_the_arithmetic(
    name: str, current: object, typed: str, tier: Tier, words: str
) -> None:
    value = config_key(name).parse(typed)
    impact = config_impact(name, current, value)
    assert impact.tier is tier
    assert words in impact.reason


def test_max_store_down_time_raised_far_names_how_much_later() -> None:
    impact = config_impact("max-store-down-time", "30m0s", config_key("max-store-down-time").parse("24h"))
    assert "48× later" in impact.reason


@pytest.mark.parametrize(
    ("name", "typed", "problem"),
    [
        ("max-replicas", "0", "max-replicas must be between 1 and 7"),
        ("max-replicas", "three", "max-replicas must be a whole number"),
        ("halt-scheduling", "maybe", "halt-scheduling is true or false"),
        ("max-store-down-time", "30", "a duration needs a unit"),
        ("max-store-down-time", "10s", "max-store-down-time must be between 60 and 2592000 seconds"),
        ("low-space-ratio", "1.5", "low-space-ratio must be between 0 and 1"),
        ("location-labels", "zone host", "comma-separated list of label names"),
        ("leader-schedule-policy", "random", "must be one of count, size"),
    ],
)
def test_each_key_validates_its_value(name: str, typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        config_key(name).parse(typed)


def test_isolation_level_must_be_one_of_the_configured_location_labels() -> None:
    config = {"location-labels": "zone,host", "isolation-level": ""}
    assert check_against("isolation-level", "zone", config) is None
    assert check_against("isolation-level", "", config) is None
    problem = check_against("isolation-level", "rack", config)
    assert problem is not None and "one of location-labels (zone, host), got 'rack'" in problem
    assert check_against("isolation-level", "zone", {"location-labels": ["zone"]}) is None


def test_location_labels_may_not_drop_the_isolation_level() -> None:
    config = {"location-labels": "zone,host", "isolation-level": "zone"}
    problem = check_against("location-labels", "host", config)
    assert problem is not None and "would drop isolation-level zone" in problem
    assert check_against("location-labels", "zone,rack", config) is None
