"""Read-only views of the cluster for ``/tikv status``, ``region R`` and ``store S``.

These decide nothing: they gather what PD and the store say, concurrently and each within a timeout,
so one slow or failing read leaves a gap in the answer (with its reason) instead of failing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from actions.errors import ClusterError, ClusterUnavailable
from actions.models import Ticket
from actions.ports import ProposalStore
from agent.findings import open_findings
from bot.grammar_reads import PdRead
from bot.reads_pdctl import PdReads, ReadResult
from pd.calls import PDCalls
from pd.client import PDClient
from pd.errors import PDError, PDNotFound
from pd.models import HealthInfo, MembersInfo, OperatorObject, RegionInfo, StoreInfo, StoreLimit

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
    degraded: tuple[tuple[str, int], ...] | None = None  # region check kind -> regions PD lists
    paused: tuple[str, ...] | None = None  # paused schedulers
    read_at: datetime | None = None


# The region checks whose counts `/tikv status` shows (PD's /regions/check kinds).
DEGRADED_KINDS = ("down-peer", "pending-peer", "miss-peer", "extra-peer", "offline-peer", "learner-peer")
# How many real region ids `/tikv region N` suggests when PD does not know N.
REGION_HINTS = 5


@dataclass(frozen=True, slots=True)
class RegionView:
    region: RegionInfo | None  # None: PD does not know it
    operator: OperatorObject | None = None
    known_ids: tuple[int, ...] = ()  # when PD does not know it: a few regions it does know


@dataclass(frozen=True, slots=True)
class StoreView:
    store: StoreInfo | None  # None: PD does not know it
    evicting_leaders: bool = False
    limit: StoreLimit | None = None  # None: PD did not say (or store-limit v2)
    read_at: datetime | None = None


class ClusterReads:
    """Gathers the read-only views; ``timeout`` bounds each PD read."""

    def __init__(self, pd: PDClient, store: ProposalStore, *, timeout: float = 5.0) -> None:
        self._pd = pd
        self._store = store
        self._timeout = timeout
        self._calls = PDCalls(timeout=timeout)  # each read of /tikv status, bounded on its own
        self._pd_reads = PdReads(pd, timeout=timeout)

    async def pd_read(self, command: PdRead) -> ReadResult:
        """One pd-ctl-like read (``bot.reads_pdctl``); raises ``ClusterUnavailable``."""
        return await self._pd_reads.read(command)

    async def _read(self, name: str, call: Callable[[], Awaitable[T]], errors: list[str]) -> T | None:
        """``call``'s answer, or None with the reason in ``errors`` (PD failed, or took over ``timeout``)."""
        try:
            return await self._calls.call(call)
        except ClusterError as exc:
            errors.append(f"{name}: {exc}")
        return None

    async def status(self) -> StatusView:
        errors: list[str] = []
        (stores, health, members, operators, schedulers, paused), checks = await asyncio.gather(
            asyncio.gather(
                self._read("stores", self._pd.get_stores, errors),
                self._read("health", self._pd.get_health, errors),
                self._read("members", self._pd.get_members, errors),
                self._read("operators", self._pd.get_operators_object, errors),
                self._read("schedulers", self._pd.get_schedulers, errors),
                self._read("paused schedulers", partial(self._pd.get_schedulers, "paused"), errors),
            ),
            asyncio.gather(
                *(
                    self._read(f"region check {k}", partial(self._pd.get_regions_check, k), errors)
                    for k in DEGRADED_KINDS
                )
            ),
        )
        counted = [(k, c.count) for k, c in zip(DEGRADED_KINDS, checks, strict=True) if c is not None]
        degraded = tuple(counted) if len(counted) == len(DEGRADED_KINDS) else None
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
            degraded=degraded,
            paused=tuple(paused) if paused is not None else None,
            read_at=datetime.now(UTC),
        )

    async def region(self, region_id: int) -> RegionView:
        """Raises ``ClusterUnavailable`` (a message for people) when PD cannot say."""
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    region = await self._pd.get_region_by_id(region_id)
                except PDNotFound:
                    known = await self._pd.get_regions_by_key_range(limit=REGION_HINTS)
                    return RegionView(None, known_ids=tuple(r.id for r in known.regions))
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
                limits = await self._read("store limits", self._pd.get_stores_limit, [])
        except (PDError, TimeoutError) as exc:
            raise self._unavailable(f"store {store_id}", exc) from exc
        return StoreView(
            info,
            evicting_leaders=store_id in evict.store_ids,
            limit=limits.get(store_id) if limits else None,
            read_at=datetime.now(UTC),
        )

    def _unavailable(self, what: str, exc: PDError | TimeoutError) -> ClusterUnavailable:
        if isinstance(exc, TimeoutError):
            return ClusterUnavailable(f"PD did not answer about {what} within {self._timeout:g}s; try again.")
        return ClusterUnavailable(f"PD could not be asked about {what}: {exc}")
