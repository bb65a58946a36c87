"""The machinery of preflight checks: one bounded, cached view of PD per preflight, and what a check returns.

A preflight runs its checks concurrently. They share one ``CheckContext`` whose reads are made once
(the first check to ask starts the request; the others await the same task), so a preflight costs a
handful of PD requests however many checks ask for the same region. ``MAX_PD_READS`` bounds it: no
check can turn into a scan.

Each check records the facts it relied on in ``ctx.facts`` (region epoch, leader, peers, store state,
previous config value…): the fingerprint an approval binds to is their hash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from actions.errors import ClusterError, ClusterRejected, ClusterUnavailable, InvalidRequest
from actions.models import ActionRequest, CheckResult, CheckStatus
from actions.params import Params
from actions.ports import (
    Cluster,
    ClusterHealth,
    OperatorSnapshot,
    RegionSnapshot,
    StoreSnapshot,
)

T = TypeVar("T")

logger = logging.getLogger(__name__)

MAX_PD_READS = 12


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check concluded, before it is named: status, a sentence, and the data it used."""

    status: CheckStatus
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def ok(message: str, **data: Any) -> Outcome:
    return Outcome(CheckStatus.PASS, message, data)


def warn(message: str, **data: Any) -> Outcome:
    return Outcome(CheckStatus.WARN, message, data)


def fail(message: str, **data: Any) -> Outcome:
    return Outcome(CheckStatus.FAIL, message, data)


class CheckContext:
    """One preflight's view of PD: cached reads (at most ``max_reads`` requests) and the facts gathered."""

    def __init__(self, request: ActionRequest, cluster: Cluster, *, max_reads: int = MAX_PD_READS) -> None:
        self.request = request
        self.params: Params = request.params
        self.facts: dict[str, Any] = {}
        self.reads = 0
        self._cluster = cluster
        self._max_reads = max_reads
        self._tasks: dict[Hashable, asyncio.Task[Any]] = {}

    async def _once(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None:
            if self.reads >= self._max_reads:
                raise ClusterUnavailable(f"preflight stopped after {self._max_reads} PD requests")
            self.reads += 1
            task = asyncio.ensure_future(call())
            self._tasks[key] = task
        return await cast("asyncio.Task[T]", task)

    async def health(self) -> ClusterHealth:
        return await self._once("health", self._cluster.health)

    async def stores(self) -> list[StoreSnapshot]:
        return await self._once("stores", self._cluster.get_stores)

    async def store(self, store_id: int) -> StoreSnapshot | None:
        return await self._once(("store", store_id), lambda: self._cluster.get_store(store_id))

    async def region(self, region_id: int) -> RegionSnapshot | None:
        return await self._once(("region", region_id), lambda: self._cluster.get_region(region_id))

    async def operator(self, region_id: int) -> OperatorSnapshot | None:
        return await self._once(("operator", region_id), lambda: self._cluster.get_operator(region_id))

    async def schedulers(self) -> list[str]:
        return await self._once("schedulers", self._cluster.get_schedulers)

    async def paused_schedulers(self) -> list[str]:
        return await self._once("paused", self._cluster.get_paused_schedulers)

    async def evicting(self) -> list[int]:
        return await self._once("evicting", self._cluster.get_evict_leader_store_ids)

    async def config(self) -> dict[str, Any]:
        return await self._once("config", self._cluster.get_config)

    async def store_limits(self) -> dict[int, dict[str, float]]:
        return await self._once("limits", self._cluster.get_store_limits)

    async def reject_leader_labels(self) -> set[tuple[str, str]]:
        return await self._once("reject-leader", self._cluster.get_reject_leader_labels)

    async def hot_regions(self) -> set[int]:
        return await self._once("hot", self._cluster.get_hot_region_ids)

    async def degraded_regions(self) -> set[int]:
        return await self._once("degraded", self._cluster.get_degraded_region_ids)

    async def max_replicas(self) -> int:
        """PD's ``max-replicas`` (3 when PD does not say), recorded as a fact."""
        value = (await self.config()).get("max-replicas")
        replicas = 3
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
            replicas = int(value)
        self.note("config", "max-replicas", replicas)
        return replicas

    def note(self, group: str, key: str, value: Any) -> None:
        """Record ``facts[group][key] = value``."""
        self.facts.setdefault(group, {})[key] = value

    def note_store(self, store_id: int, store: StoreSnapshot | None) -> None:
        self.note("stores", str(store_id), store.state_name if store is not None else None)


CheckFn = Callable[[CheckContext], Awaitable[Outcome | None]]


@dataclass(frozen=True, slots=True)
class Check:
    """A named preflight check. ``run`` returns ``None`` when it does not apply to these parameters."""

    name: str
    run: CheckFn

    async def __call__(self, ctx: CheckContext) -> CheckResult | None:
        """Run the check; PD errors and bad parameters become a failed check, never an exception."""
        try:
            outcome = await self.run(ctx)
        except ClusterRejected as exc:
            outcome = fail(f"PD refused to answer: {exc}", status=exc.status)
        except ClusterError as exc:
            outcome = fail(f"PD unreachable: {exc}")
        except InvalidRequest as exc:
            outcome = fail(f"invalid parameters: {exc}", field=exc.field)
        except Exception as exc:
            # A safety gate fails closed: a check that cannot decide blocks the action instead of
            # crashing the preflight (and with it the card that would explain why).
            logger.exception("preflight check %r failed", self.name)
            outcome = fail(f"this check could not run ({type(exc).__name__}: {exc}); nothing will be sent")
        if outcome is None:
            return None
        return CheckResult(name=self.name, status=outcome.status, message=outcome.message, data=outcome.data)


def stores_text(ids: list[int] | tuple[int, ...] | set[int]) -> str:
    """``stores 1, 2 and 5`` / ``store 3`` / ``no store``."""
    ordered = sorted(ids)
    if not ordered:
        return "no store"
    if len(ordered) == 1:
        return f"store {ordered[0]}"
    return f"stores {', '.join(map(str, ordered[:-1]))} and {ordered[-1]}"


def plural(count: int, word: str) -> str:
    """``1 region`` / ``3 regions``."""
    return f"{count} {word}{'s' * (count != 1)}"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"
