"""Read-only views of the cluster for ``/tikv status``, ``region R`` and ``store S``.

These decide nothing: they gather what PD and the store say, concurrently and each within a timeout,
so one slow or failing read leaves a gap in the answer (with its reason) instead of failing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from actions.errors import ClusterUnavailable
from actions.models import Ticket
from actions.ports import ProposalStore
from agent.findings import open_findings
from pd.client import PDClient
from pd.errors import PDError, PDNotFound
from pd.models import HealthInfo, MembersInfo, OperatorObject, RegionInfo, StoreInfo

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything ``/tikv status`` shows; ``None`` means that read failed (see ``errors``)."""

    stores: tuple[StoreInfo, ...] | None
    health: tuple[HealthInfo, ...] | None
    members: MembersInfo | None
    operators: tuple[OperatorObject, ...] | None
    schedulers: tuple[str, ...] | None
    tickets: tuple[Ticket, ...] | None  # the agent's open findings, most severe first
    errors: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RegionView:
    region: RegionInfo | None  # None: PD does not know it
    operator: OperatorObject | None = None


@dataclass(frozen=True, slots=True)
class StoreView:
    store: StoreInfo | None  # None: PD does not know it
    evicting_leaders: bool = False


class ClusterReads:
    """Gathers the read-only views; ``timeout`` bounds each PD read."""

    def __init__(self, pd: PDClient, store: ProposalStore, *, timeout: float = 5.0) -> None:
        self._pd = pd
        self._store = store
        self._timeout = timeout

    async def _read(self, name: str, call: Callable[[], Awaitable[T]], errors: list[str]) -> T | None:
        # ``call`` is a function, called here: a coroutine made by the caller and handed to a task that
        # is cancelled before it starts (the job stopped, the bot shutting down) would never be awaited.
        try:
            async with asyncio.timeout(self._timeout):
                return await call()
        except TimeoutError:
            errors.append(f"{name}: PD did not answer within {self._timeout:g}s")
        except PDError as exc:
            errors.append(f"{name}: {exc}")
        return None

    async def status(self) -> StatusView:
        errors: list[str] = []
        stores, health, members, operators, schedulers = await asyncio.gather(
            self._read("stores", self._pd.get_stores, errors),
            self._read("health", self._pd.get_health, errors),
            self._read("members", self._pd.get_members, errors),
            self._read("operators", self._pd.get_operators_object, errors),
            self._read("schedulers", self._pd.get_schedulers, errors),
        )
        tickets: list[Ticket] | None
        try:
            tickets = await open_findings(self._store)
        except Exception as exc:
            errors.append(f"tickets: the database could not be read ({type(exc).__name__})")
            tickets = None
        return StatusView(
            stores=tuple(stores.stores) if stores is not None else None,
            health=tuple(health) if health is not None else None,
            members=members,
            operators=tuple(operators) if operators is not None else None,
            schedulers=tuple(schedulers) if schedulers is not None else None,
            tickets=tuple(tickets) if tickets is not None else None,
            errors=tuple(errors),
        )

    async def region(self, region_id: int) -> RegionView:
        """Raises ``ClusterUnavailable`` (a message for people) when PD cannot say."""
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    region = await self._pd.get_region_by_id(region_id)
                except PDNotFound:
                    return RegionView(None)
                operators = await self._pd.get_operators_object()
        except (PDError, TimeoutError) as exc:
            raise self._unavailable(f"region {region_id}", exc) from exc
        return RegionView(region, next((o for o in operators if o.region_id == region_id), None))

    async def store(self, store_id: int) -> StoreView:
        """Raises ``ClusterUnavailable`` (a message for people) when PD cannot say."""
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    info = await self._pd.get_store(store_id)
                except PDNotFound:
                    return StoreView(None)
                evict = await self._pd.get_evict_leader_stores()
        except (PDError, TimeoutError) as exc:
            raise self._unavailable(f"store {store_id}", exc) from exc
        return StoreView(info, evicting_leaders=store_id in evict.store_ids)

    def _unavailable(self, what: str, exc: PDError | TimeoutError) -> ClusterUnavailable:
        if isinstance(exc, TimeoutError):
            return ClusterUnavailable(f"PD did not answer about {what} within {self._timeout:g}s; try again.")
        return ClusterUnavailable(f"PD could not be asked about {what}: {exc}")
