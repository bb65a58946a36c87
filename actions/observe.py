"""The read port the operator agent watches PD through, and the snapshots it returns.

``agent/`` depends on ``ClusterObserver`` only; ``pd/observer.py`` implements it over the PD client.
Every method is one PD request, except ``schedule_settings`` (two: schedule and replication config)
and ``schedulers`` (two, plus one when an evict-leader scheduler runs, to learn its stores). None of
them scans every region, so the agent's reads per cycle do not grow with the cluster's region count. Methods
raise ``actions.errors.ClusterError`` subclasses only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol

from actions.ports import RegionSnapshot, StoreSnapshot


class HotKind(enum.StrEnum):
    """Which hotspot list: ``GET /pd/api/v1/hotspot/regions/{write|read}``."""

    WRITE = "write"
    READ = "read"


class RegionCheck(enum.StrEnum):
    """The ``GET /pd/api/v1/regions/check/{kind}`` lists the agent reads."""

    DOWN_PEER = "down-peer"
    PENDING_PEER = "pending-peer"
    MISS_PEER = "miss-peer"
    OVERSIZED_REGION = "oversized-region"


@dataclass(frozen=True, slots=True)
class HotRegion:
    """One hot region as PD's hotspot statistics report it (leader view, flows per second)."""

    region_id: int
    leader_store_id: int | None
    store_ids: tuple[int, ...]  # every store holding a peer
    hot_degree: int  # consecutive reporting intervals the region has stayed hot
    flow_bytes: float
    flow_keys: float
    flow_query: float = 0.0


@dataclass(frozen=True, slots=True)
class SchedulerState:
    """Enabled schedulers and the stores the (single) evict-leader scheduler holds."""

    names: tuple[str, ...]
    evict_leader_store_ids: tuple[int, ...] = ()
    paused: tuple[str, ...] = ()  # ``GET /schedulers?status=paused``


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """The PD settings the agent's rules need, typed; ``raw`` keeps PD's own values for evidence."""

    max_replicas: int = 3
    low_space_ratio: float = 0.8  # a store is low on space once used/capacity passes this
    high_space_ratio: float = 0.7
    max_store_down_time: str = "30m0s"
    halt_scheduling: bool = False
    # ``leader-schedule-limit``, ``region-schedule-limit``… as PD reports them.
    schedule_limits: dict[str, int] = field(default_factory=dict)
    # Per store: ``{"add-peer": rate, "remove-peer": rate}`` (operators per minute).
    store_limits: dict[int, dict[str, float]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


class ClusterObserver(Protocol):
    """Bounded, read-only views of PD for the agent. ``requests_made`` counts PD requests sent."""

    @property
    def requests_made(self) -> int: ...

    async def stores(self) -> list[StoreSnapshot]:
        """``GET /stores``: Up, Offline, Down and Disconnected stores (no Tombstones)."""
        ...

    async def hot_regions(self, kind: HotKind) -> list[HotRegion]:
        """``GET /hotspot/regions/{kind}``: one entry per hot region, hottest first."""
        ...

    async def regions_check(self, check: RegionCheck) -> list[RegionSnapshot]:
        """``GET /regions/check/{check}``: only the regions PD's statistics flag."""
        ...

    async def top_regions_by_size(self, limit: int) -> list[RegionSnapshot]:
        """``GET /regions/size?limit=N``: the ``limit`` largest regions, largest first."""
        ...

    async def top_regions_by_flow(self, kind: HotKind, limit: int) -> list[RegionSnapshot]:
        """``GET /regions/{writeflow|readflow}?limit=N``: the busiest regions, with their size and keys."""
        ...

    async def schedulers(self) -> SchedulerState:
        """``GET /schedulers`` and ``?status=paused`` (+ the evict-leader store list when it runs)."""
        ...

    async def schedule_settings(self) -> ScheduleSettings:
        """``GET /config/schedule`` and ``GET /config/replicate``, reduced to what the rules use."""
        ...
