"""One observation of the cluster: every bounded PD read of a cycle, made concurrently.

A read that fails leaves its field ``None`` (and its reason in ``errors``) instead of failing the
cycle: the rules that need it are skipped, and their tickets stay as they are, because a finding
that could not be looked for has not disappeared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

from actions.errors import ClusterError
from actions.observe import ClusterObserver, HotKind, HotRegion, RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import RegionSnapshot, StoreSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Observation:
    """What one cycle read. ``None`` means the read failed; see ``errors``."""

    at: datetime
    stores: tuple[StoreSnapshot, ...] | None = None
    hot_write: tuple[HotRegion, ...] | None = None
    hot_read: tuple[HotRegion, ...] | None = None
    checks: Mapping[RegionCheck, tuple[RegionSnapshot, ...]] = field(default_factory=dict)
    top_by_size: tuple[RegionSnapshot, ...] | None = None
    # The busiest regions by write and read flow: the size and keys of the hot regions.
    top_by_flow: Mapping[HotKind, tuple[RegionSnapshot, ...]] = field(default_factory=dict)
    top_n: int = 0
    schedulers: SchedulerState | None = None
    settings: ScheduleSettings | None = None
    # Evict-leader schedulers the bot itself created, by store, with when they revert (None: never).
    bot_evictions: Mapping[int, datetime | None] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    requests: int = 0

    @property
    def pd_leaderless(self) -> str:
        """PD's words when a read failed because PD has no leader, else empty."""
        for error in self.errors:
            if "ErrRedirectNoLeader" in error or "no leader" in error.lower():
                return error.partition(": ")[2] or error
        return ""

    def check(self, check: RegionCheck) -> tuple[RegionSnapshot, ...] | None:
        return self.checks.get(check)

    def store(self, store_id: int) -> StoreSnapshot | None:
        return next((s for s in self.stores or () if s.id == store_id), None)

    def region(self, region_id: int) -> RegionSnapshot | None:
        """A region this cycle read anyway (flow or size tops, flagged lists), or None."""
        for regions in (*self.top_by_flow.values(), self.top_by_size or (), *self.checks.values()):
            for region in regions:
                if region.id == region_id:
                    return region
        return None


async def _read(what: str, call: Callable[[], Awaitable[T]], errors: list[str]) -> T | None:
    # A function, called here: a coroutine made by the caller would be dropped unawaited if this task
    # were cancelled before it started (the agent stopping).
    try:
        return await call()
    except ClusterError as exc:
        log.warning("agent: could not read %s from PD: %s", what, exc)
        errors.append(f"{what}: {exc}")
        return None


async def observe(observer: ClusterObserver, *, at: datetime, top_n: int) -> Observation:
    """Read everything the rules need: a fixed number of PD requests, whatever the region count."""
    errors: list[str] = []
    before = observer.requests_made
    checks = list(RegionCheck)
    core = asyncio.gather(
        _read("stores", observer.stores, errors),
        _read("hot write regions", partial(observer.hot_regions, HotKind.WRITE), errors),
        _read("hot read regions", partial(observer.hot_regions, HotKind.READ), errors),
        _read("largest regions", partial(observer.top_regions_by_size, top_n), errors),
        _read("schedulers", observer.schedulers, errors),
        _read("schedule config", observer.schedule_settings, errors),
    )
    flow_top = observer.top_regions_by_flow
    busiest = asyncio.gather(
        _read("busiest regions by write", partial(flow_top, HotKind.WRITE, top_n), errors),
        _read("busiest regions by read", partial(flow_top, HotKind.READ, top_n), errors),
    )
    flagged = asyncio.gather(
        *(_read(f"regions/check/{c.value}", partial(observer.regions_check, c), errors) for c in checks)
    )
    (
        (stores, hot_write, hot_read, top, schedulers, settings),
        (by_write, by_read),
        check_results,
    ) = await asyncio.gather(core, busiest, flagged)
    flows = {HotKind.WRITE: by_write, HotKind.READ: by_read}
    return Observation(
        at=at,
        stores=None if stores is None else tuple(stores),
        hot_write=None if hot_write is None else tuple(hot_write),
        hot_read=None if hot_read is None else tuple(hot_read),
        checks={c: tuple(r) for c, r in zip(checks, check_results, strict=True) if r is not None},
        top_by_size=None if top is None else tuple(top),
        top_by_flow={k: tuple(v) for k, v in flows.items() if v is not None},
        top_n=top_n,
        schedulers=schedulers,
        settings=settings,
        errors=tuple(errors),
        requests=observer.requests_made - before,
    )
