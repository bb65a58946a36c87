"""Paths of PD's HTTP API v1, as constants and small builders (PD's ``client/http/api.go``).

Every path is absolute from the endpoint root (``/pd/api/v1/...``). Builders quote their
arguments so a name can never step outside the route it is meant for.
"""

from __future__ import annotations

from urllib.parse import quote

API_PREFIX = "/pd/api/v1"

# Cluster and members
HEALTH = f"{API_PREFIX}/health"
PING = f"{API_PREFIX}/ping"
MEMBERS = f"{API_PREFIX}/members"

# Stores
STORES = f"{API_PREFIX}/stores"
STORES_LIMIT = f"{API_PREFIX}/stores/limit"
STORE_PREFIX = f"{API_PREFIX}/store"
LABELS = f"{API_PREFIX}/labels"

# Regions and hotspots
REGION_BY_ID_PREFIX = f"{API_PREFIX}/region/id"
REGIONS = f"{API_PREFIX}/regions"
REGIONS_KEY = f"{API_PREFIX}/regions/key"
REGIONS_CHECK_PREFIX = f"{API_PREFIX}/regions/check"
REGION_BY_KEY_PREFIX = f"{API_PREFIX}/region/key"
REGIONS_SIBLING_PREFIX = f"{API_PREFIX}/regions/sibling"
HOTSPOT_WRITE_REGIONS = f"{API_PREFIX}/hotspot/regions/write"
HOTSPOT_READ_REGIONS = f"{API_PREFIX}/hotspot/regions/read"
HOTSPOT_STORES = f"{API_PREFIX}/hotspot/stores"

# The kinds PD routes under /regions/check/ and the top-N lists under /regions/.
REGION_CHECK_KINDS = frozenset(
    {
        "miss-peer",
        "extra-peer",
        "pending-peer",
        "down-peer",
        "learner-peer",
        "empty-region",
        "offline-peer",
        "oversized-region",
        "undersized-region",
    }
)
TOP_REGION_KINDS = frozenset(
    {"writeflow", "readflow", "writequery", "readquery", "size", "keys", "cpu", "confver", "version"}
)

# Operators
OPERATORS = f"{API_PREFIX}/operators"
OPERATOR_RECORDS = f"{API_PREFIX}/operators/records"

# Schedulers
SCHEDULERS = f"{API_PREFIX}/schedulers"
SCHEDULER_CONFIG_PREFIX = f"{API_PREFIX}/scheduler-config"
EVICT_LEADER_SCHEDULER = "evict-leader-scheduler"

# Config
CONFIG = f"{API_PREFIX}/config"
CONFIG_SCHEDULE = f"{API_PREFIX}/config/schedule"
CONFIG_REPLICATE = f"{API_PREFIX}/config/replicate"
CONFIG_LABEL_PROPERTY = f"{API_PREFIX}/config/label-property"


def _segment(value: str) -> str:
    if not value:
        raise ValueError("a PD path segment must not be empty")
    return quote(value, safe="")


def _id(value: int) -> str:
    # bool is an int in Python; a True store id is always a bug upstream.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"PD ids are non-negative integers, got {value!r}")
    return str(value)


def store_by_id(store_id: int) -> str:
    """``/pd/api/v1/store/{id}`` (GET a store, DELETE = set it Offline)."""
    return f"{STORE_PREFIX}/{_id(store_id)}"


def region_by_id(region_id: int) -> str:
    """``/pd/api/v1/region/id/{id}``."""
    return f"{REGION_BY_ID_PREFIX}/{_id(region_id)}"


def region_by_key(key: str) -> str:
    """``/pd/api/v1/region/key/{key}``: the key escaped as Go's ``url.QueryEscape`` would."""
    if not key:
        raise ValueError("a region key must not be empty")
    return f"{REGION_BY_KEY_PREFIX}/{quote(key, safe='')}"


def region_siblings(region_id: int) -> str:
    """``/pd/api/v1/regions/sibling/{id}``: the regions left and right of one region."""
    return f"{REGIONS_SIBLING_PREFIX}/{_id(region_id)}"


def regions_check(kind: str) -> str:
    """``/pd/api/v1/regions/check/{kind}`` for one of ``REGION_CHECK_KINDS``."""
    if kind not in REGION_CHECK_KINDS:
        raise ValueError(f"unknown region check {kind!r}; one of {sorted(REGION_CHECK_KINDS)}")
    return f"{REGIONS_CHECK_PREFIX}/{kind}"


def top_regions(kind: str) -> str:
    """``/pd/api/v1/regions/{kind}`` for one of ``TOP_REGION_KINDS`` (top-N lists)."""
    if kind not in TOP_REGION_KINDS:
        raise ValueError(f"unknown top-region list {kind!r}; one of {sorted(TOP_REGION_KINDS)}")
    return f"{REGIONS}/{kind}"


def operator_by_region(region_id: int) -> str:
    """``/pd/api/v1/operators/{region_id}`` (GET status, DELETE cancels)."""
    return f"{OPERATORS}/{_id(region_id)}"


def scheduler_config_list(name: str) -> str:
    """``/pd/api/v1/scheduler-config/{name}/list``."""
    return f"{SCHEDULER_CONFIG_PREFIX}/{_segment(name)}/list"
