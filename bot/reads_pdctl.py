"""The pd-ctl-like reads: each asks the PD endpoint pd-ctl itself asks, and decides nothing.

``PdReads.read`` returns a ``ReadResult``: the read, the endpoint it asked (shown under the answer),
the pd-ctl command that asks the same thing, and PD's answer as the client's models. Rendering is
``bot.render.tables``. A read PD cannot answer raises ``ClusterUnavailable`` with a sentence for
people; a read of something PD does not know (a scheduler that is not running, a key no region
holds) is an answer, not an error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from actions.errors import ClusterUnavailable
from bot import texts
from bot.grammar_reads import PdRead
from pd import paths
from pd.client import PDClient
from pd.errors import PDError, PDNotFound, PDOperatorNotFound, PDRegionNotFound
from pd.models import (
    HotStoreStats,
    MembersInfo,
    OperatorStatus,
    RegionInfo,
    RegionsInfo,
    StoreHotPeersInfos,
    StoreLabel,
    StoreLimit,
    StoresInfo,
)

# `region top` words and the PD lists they read (pd-ctl: region topread / topwrite / topsize).
TOP_LISTS = {"read": "readflow", "write": "writeflow", "size": "size"}
CONFIG_PATHS = {
    "": paths.CONFIG,
    "all": paths.CONFIG,
    "schedule": paths.CONFIG_SCHEDULE,
    "replication": paths.CONFIG_REPLICATE,
    "label-property": paths.CONFIG_LABEL_PROPERTY,
}


@dataclass(frozen=True, slots=True)
class SchedulerStates:
    names: tuple[str, ...]
    paused: frozenset[str]
    disabled: frozenset[str]


@dataclass(frozen=True, slots=True)
class Labels:
    labels: tuple[StoreLabel, ...]
    stores: StoresInfo


@dataclass(frozen=True, slots=True)
class Siblings:
    region: RegionInfo
    siblings: RegionsInfo


@dataclass(frozen=True, slots=True)
class StoreLimits:
    limits: dict[int, StoreLimit]


@dataclass(frozen=True, slots=True)
class Missing:
    """PD does not know what was asked about (the sentence says what)."""

    sentence: str


ReadData = (
    dict[str, Any]
    | list[str]
    | OperatorStatus
    | SchedulerStates
    | StoreHotPeersInfos
    | HotStoreStats
    | RegionsInfo
    | RegionInfo
    | Siblings
    | StoreLimits
    | Labels
    | MembersInfo
    | Missing
    | object
)


@dataclass(frozen=True, slots=True)
class ReadResult:
    read: PdRead
    path: str  # what PD was asked, e.g. GET /pd/api/v1/config/schedule
    pd_ctl: str  # the pd-ctl command that asks the same
    data: ReadData


def scheduler_name(name: str) -> str:
    """PD's scheduler name for a command name: ``evict-leader`` → ``evict-leader-scheduler``."""
    lowered = name.lower()
    return lowered if lowered.endswith("-scheduler") else f"{lowered}-scheduler"


class PdReads:
    """Answers ``PdRead`` commands; ``timeout`` bounds the whole read."""

    def __init__(self, pd: PDClient, *, timeout: float = 5.0) -> None:
        self._pd = pd
        self._timeout = timeout

    async def read(self, command: PdRead) -> ReadResult:
        what = f"/tikv {command.kind}"
        try:
            async with asyncio.timeout(self._timeout):
                return await self._read(command)
        except TimeoutError as exc:
            raise ClusterUnavailable(texts.READ_TIMEOUT.format(what=what, seconds=self._timeout)) from exc
        except PDError as exc:
            raise ClusterUnavailable(texts.READ_UNAVAILABLE.format(what=what, error=exc)) from exc

    async def _read(self, c: PdRead) -> ReadResult:
        pd = self._pd
        kind = c.kind
        if kind == "config show":
            path = CONFIG_PATHS[c.arg]
            data: ReadData
            if c.arg == "schedule":
                data = (await pd.get_schedule_config()).raw
            elif c.arg == "replication":
                data = (await pd.get_replicate_config()).raw
            elif c.arg == "label-property":
                data = await pd.get_label_property_config()
            elif c.arg == "all":
                data = await pd.get_config()
            else:
                # pd-ctl's plain `config show` keeps the replication and schedule sections.
                whole = await pd.get_config()
                data = {k: whole[k] for k in ("replication", "schedule") if k in whole}
            return _result(c, path, f"config show {c.arg}".strip(), data)
        if kind == "operator show" and c.number is not None:
            try:
                status: ReadData = await pd.get_operator_status(c.number)
            except PDOperatorNotFound:
                status = Missing(texts.READ_NO_OPERATOR.format(id=c.number))
            return _result(c, paths.operator_by_region(c.number), f"operator check {c.number}", status)
        if kind == "operator show":
            return _result(c, paths.OPERATORS, "operator show", await pd.get_operators())
        if kind == "operator history":
            return _result(c, paths.OPERATOR_RECORDS, "operator history", await pd.get_operator_records())
        if kind == "scheduler show":
            names, paused, disabled = await asyncio.gather(
                pd.get_schedulers(), pd.get_schedulers("paused"), pd.get_schedulers("disabled")
            )
            states = SchedulerStates(tuple(names), frozenset(paused), frozenset(disabled))
            return _result(c, paths.SCHEDULERS, "scheduler show", states)
        if kind == "scheduler config":
            name = scheduler_name(c.arg)
            try:
                config: ReadData = await pd.get_scheduler_config(name)
            except PDNotFound:
                config = Missing(texts.READ_NO_SCHEDULER.format(name=name))
            return _result(c, paths.scheduler_config_list(name), f"scheduler config {name}", config)
        if kind == "hot":
            if c.arg == "store":
                return _result(c, paths.HOTSPOT_STORES, "hot store", await pd.get_hot_stores())
            if c.arg == "read":
                return _result(c, paths.HOTSPOT_READ_REGIONS, "hot read", await pd.get_hot_read_regions())
            return _result(c, paths.HOTSPOT_WRITE_REGIONS, "hot write", await pd.get_hot_write_regions())
        if kind == "region check":
            found = await pd.get_regions_check(c.arg)
            return _result(c, paths.regions_check(c.arg), f"region check {c.arg}", found)
        if kind == "region key":
            fmt = "hex" if c.hex_key else "raw"
            path = paths.region_by_key(c.arg) + ("?format=hex" if c.hex_key else "")
            try:
                region: ReadData = await pd.get_region_by_key(c.arg, hex_key=c.hex_key)
            except PDRegionNotFound:
                region = Missing(texts.READ_NO_KEY.format(key=c.arg))
            return _result(c, path, f"region key --format={fmt} {c.arg}", region)
        if kind == "region sibling":
            assert c.number is not None
            try:
                target, siblings = await asyncio.gather(
                    pd.get_region_by_id(c.number), pd.get_region_siblings(c.number)
                )
                answer: ReadData = Siblings(target, siblings)
            except PDRegionNotFound:
                answer = Missing(texts.REGION_UNKNOWN.format(id=c.number))
            return _result(c, paths.region_siblings(c.number), f"region sibling {c.number}", answer)
        if kind == "region top":
            assert c.number is not None
            top = TOP_LISTS[c.arg]
            regions = await pd.get_top_regions(top, c.number)
            return _result(
                c, f"{paths.top_regions(top)}?limit={c.number}", f"region top{c.arg} {c.number}", regions
            )
        if kind == "store limit":
            return _result(c, paths.STORES_LIMIT, "store limit", StoreLimits(await pd.get_stores_limit()))
        if kind == "labels":
            labels, stores = await asyncio.gather(pd.get_labels(), pd.get_stores())
            return _result(c, paths.LABELS, "label", Labels(tuple(labels), stores))
        if kind == "members":
            return _result(c, paths.MEMBERS, "member", await pd.get_members())
        raise ValueError(f"unknown read {kind!r}")


def _result(read: PdRead, path: str, pd_ctl: str, data: ReadData) -> ReadResult:
    return ReadResult(read, path, f"pd-ctl {pd_ctl}", data)
