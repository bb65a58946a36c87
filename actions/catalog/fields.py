"""The parameters catalog actions share, each defined once: key in ``ActionRequest.params``, label, parser."""

from __future__ import annotations

from actions.config_keys import CONFIG_KEYS, config_key
from actions.params import (
    SPLIT_POLICIES,
    STORE_LIMIT_TYPES,
    ParamSpec,
    choice,
    hex_keys,
    pause_seconds,
    positive_id,
    scheduler_name,
    store_limit_rate,
    text,
)


def _config_key(raw: str) -> str:
    return config_key(raw).name


REGION = ParamSpec(
    "region_id", "Region", "The region's id, as /tikv region shows it.", "REGION", positive_id("region id")
)
STORE = ParamSpec(
    "store_id", "Store", "The store's id, as /tikv status shows it.", "STORE", positive_id("store id")
)
TO_STORE = ParamSpec(
    "to_store_id", "Target store", "The store that receives it.", "STORE", positive_id("target store id")
)
FROM_STORE = ParamSpec(
    "from_store_id", "Source store", "The store the peer leaves.", "FROM", positive_id("source store id")
)
TO_STORE_OF_PEER = ParamSpec(
    "to_store_id", "Target store", "The store the peer moves to.", "TO", positive_id("target store id")
)
SOURCE_REGION = ParamSpec(
    "source_region_id",
    "Source region",
    "The region that disappears into the other.",
    "SOURCE",
    positive_id("source region id"),
)
TARGET_REGION = ParamSpec(
    "target_region_id",
    "Target region",
    "The neighbouring region that absorbs it.",
    "TARGET",
    positive_id("target region id"),
)
POLICY = ParamSpec(
    "policy",
    "Split policy",
    "scan reads the region to find the middle key, approximate estimates it, usekey splits at the "
    "given keys.",
    "scan|approximate|usekey",
    choice("split policy", SPLIT_POLICIES),
    optional=True,
    default="scan",
    choices=SPLIT_POLICIES,
)
KEYS = ParamSpec(
    "keys",
    "Split keys",
    "Hex keys to split at (usekey only), separated by spaces, e.g. 7480000000000000FF.",
    "KEY",
    hex_keys,
    optional=True,
    many=True,
)
SCHEDULER = ParamSpec(
    "scheduler",
    "Scheduler",
    "The scheduler's name as PD lists it, e.g. balance-region-scheduler.",
    "NAME",
    scheduler_name,
)
DELAY = ParamSpec(
    "delay_seconds",
    "Pause for",
    "Seconds (or 10m, 2h) until PD resumes it by itself; at most 7 days.",
    "SECONDS",
    pause_seconds,
)
CONFIG_KEY = ParamSpec(
    "key",
    "Config key",
    f"A PD schedule or replication key ({len(CONFIG_KEYS)} are known), e.g. leader-schedule-limit.",
    "KEY",
    _config_key,
)
CONFIG_VALUE = ParamSpec(
    "value",
    "Value",
    "The new value in PD's type: a number, true/false, or a duration such as 30m.",
    "VALUE",
    text("config value"),
)
RATE = ParamSpec(
    "rate",
    "Rate",
    "Operations per minute the store may take part in (greater than 0).",
    "RATE",
    store_limit_rate,
)
LIMIT_TYPE = ParamSpec(
    "limit_type",
    "Limit type",
    "add-peer or remove-peer; leave empty for both.",
    "add-peer|remove-peer",
    choice("limit type", STORE_LIMIT_TYPES),
    optional=True,
    choices=STORE_LIMIT_TYPES,
)
