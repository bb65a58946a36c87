"""The pd-ctl-like reads as listings: short facts as section fields, lists as aligned code tables.

Every answer says which PD endpoint it read and the pd-ctl command that reads the same, so a person
can check the bot against pd-ctl. Long tables page (``bot.render.listing``); the column names stay
atop every page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from slack_sdk.models.blocks import Block

from bot import texts
from bot.reads_pdctl import Labels, Missing, ReadResult, SchedulerStates, Siblings, StoreLimits
from bot.render.kit import SECTION_FIELDS, escape, fields, inline
from bot.render.listing import ROW_CHARS, Listing
from pd.models import (
    HotPeersStat,
    HotStoreStats,
    MembersInfo,
    OperatorStatus,
    RegionInfo,
    RegionsInfo,
    StoreHotPeersInfos,
)

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(value: float) -> str:
    """``1536`` → ``1.5KiB`` (PD's own byte sizes read the same way)."""
    size = float(value)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    raise AssertionError("unreachable")


def rate(value: float) -> str:
    """A per-second rate of keys or queries, one decimal."""
    return f"{value:.1f}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> tuple[str, tuple[str, ...]]:
    """Column names and rows as lines of aligned columns (for a code block)."""
    body = [tuple(str(c) for c in row) for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return line(header), tuple(line(r) for r in body)


def plain(value: Any) -> str:
    """A config value as pd-ctl prints it inside JSON: strings bare, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def flatten(data: Any, *, sections: bool = False) -> list[tuple[str, str]]:
    """Config as key / value pairs in PD's order; with ``sections`` the top-level objects (schedule,
    replication…) are opened into ``section.key`` pairs. Deeper objects stay compact JSON."""
    if not isinstance(data, dict):
        return [("value", plain(data))]
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if sections and isinstance(value, dict) and value:
            pairs.extend((f"{key}.{inner}", plain(v)) for inner, v in value.items())
        else:
            pairs.append((str(key), plain(value)))
    return pairs


def _stores(region: RegionInfo) -> str:
    marks = []
    down = {d.peer.id for d in region.down_peers}
    pending = {p.id for p in region.pending_peers}
    for peer in region.peers:
        mark = str(peer.store_id)
        if peer.id == region.leader.id:
            mark += "*"
        if peer.role_name and peer.role_name != "Voter":
            mark += "(L)" if peer.role_name == "Learner" else f"({peer.role_name})"
        if peer.id in down:
            mark += "!down"
        elif peer.id in pending:
            mark += "!pending"
        marks.append(mark)
    return ",".join(marks)


REGION_HEADER = ("region", "leader", "stores (*leader)", "size MiB", "keys", "written", "read")


def region_row(region: RegionInfo) -> tuple[str, ...]:
    return (
        str(region.id),
        str(region.leader.store_id or "-"),
        _stores(region),
        str(region.approximate_size),
        str(region.approximate_keys),
        human_bytes(region.written_bytes),
        human_bytes(region.read_bytes),
    )


def peers_text(region: RegionInfo) -> str:
    """``store 1 (leader), store 2, store 5 (down)`` for people."""
    down = {d.peer.id for d in region.down_peers}
    pending = {p.id for p in region.pending_peers}
    shown = []
    for peer in region.peers:
        notes = []
        if peer.id == region.leader.id:
            notes.append("leader")
        if peer.role_name and peer.role_name != "Voter":
            notes.append(peer.role_name.lower())
        if peer.id in down:
            notes.append("down")
        elif peer.id in pending:
            notes.append("pending")
        text = texts.REGION_PEER.format(store=peer.store_id)
        shown.append(f"{text} ({', '.join(notes)})" if notes else text)
    return ", ".join(shown)


def region_facts(region: RegionInfo) -> list[tuple[str, str]]:
    """A region in a few fields: leader, peers, epoch, size, keys, range, flows."""
    down = ", ".join(str(d.peer.store_id) for d in region.down_peers) or texts.STATUS_NONE
    pending = ", ".join(str(p.store_id) for p in region.pending_peers) or texts.STATUS_NONE
    return [
        (texts.FACT_LEADER, texts.FACT_STORE.format(store=region.leader.store_id or "?")),
        (texts.FACT_PEERS, peers_text(region)),
        (
            texts.FACT_SIZE,
            texts.FACT_SIZE_VALUE.format(size=region.approximate_size, keys=region.approximate_keys),
        ),
        (
            texts.FACT_EPOCH,
            texts.FACT_EPOCH_VALUE.format(conf_ver=region.epoch.conf_ver, version=region.epoch.version),
        ),
        (
            texts.FACT_RANGE,
            texts.FACT_RANGE_VALUE.format(start=region.start_key or "−∞", end=region.end_key or "+∞"),
        ),
        (
            texts.FACT_FLOW,
            texts.FACT_FLOW_VALUE.format(
                written=human_bytes(region.written_bytes), read=human_bytes(region.read_bytes)
            ),
        ),
        (texts.FACT_DOWN, down),
        (texts.FACT_PENDING, pending),
    ]


def fact_blocks(pairs: Sequence[tuple[str, str]]) -> tuple[Block, ...]:
    """Pairs as section fields, ten to a section."""
    return tuple(fields(pairs[i : i + SECTION_FIELDS]) for i in range(0, len(pairs), SECTION_FIELDS))


def _listing(
    result: ReadResult,
    title: str,
    *,
    facts: Sequence[tuple[str, str]] = (),
    header: Sequence[str] = (),
    rows: Iterable[Sequence[str]] = (),
    lines: Sequence[str] = (),
    empty: str = texts.READ_NONE,
) -> Listing:
    head, body = table(header, rows) if header else ("", ())
    intro = (texts.READ_PD_CTL.format(command=inline(result.pd_ctl, 300)), *lines)
    return Listing(
        title=title,
        intro=intro,
        rows=body,
        empty=empty,
        code=bool(header),
        footer=texts.READ_ENDPOINT.format(path=result.path),
        extra=fact_blocks(facts),
        code_header=head,
    )


def _hot(result: ReadResult, data: StoreHotPeersInfos) -> Listing:
    stores = sorted(set(data.as_leader) | set(data.as_peer))
    empty = HotPeersStat()

    def row(store: int) -> tuple[str, ...]:
        leader, peer = data.as_leader.get(store, empty), data.as_peer.get(store, empty)
        return (
            str(store),
            str(leader.regions_count),
            human_bytes(leader.total_flow_bytes),
            rate(leader.total_flow_keys),
            rate(leader.total_flow_query),
            str(peer.regions_count),
            human_bytes(peer.total_flow_bytes),
        )

    header = ("store", "leaders", "leader B/s", "keys/s", "queries/s", "peers", "peer B/s")
    title = texts.READ_TITLES["hot " + result.read.arg]
    hottest = sorted(
        (s for stat in data.as_leader.values() for s in stat.statistics), key=lambda s: -s.flow_bytes
    )[:5]
    lines = (
        [
            texts.HOT_REGIONS.format(
                regions=", ".join(f"{s.region_id} ({human_bytes(s.flow_bytes)}/s)" for s in hottest)
            )
        ]
        if hottest
        else []
    )
    return _listing(result, title, header=header, rows=[row(s) for s in stores], lines=lines)


def _hot_stores(result: ReadResult, data: HotStoreStats) -> Listing:
    stores = sorted(set(data.bytes_write_rate) | set(data.bytes_read_rate))
    header = ("store", "write B/s", "read B/s", "write keys/s", "read keys/s", "write q/s", "read q/s")
    rows = [
        (
            str(s),
            human_bytes(data.bytes_write_rate.get(s, 0.0)),
            human_bytes(data.bytes_read_rate.get(s, 0.0)),
            rate(data.keys_write_rate.get(s, 0.0)),
            rate(data.keys_read_rate.get(s, 0.0)),
            rate(data.query_write_rate.get(s, 0.0)),
            rate(data.query_read_rate.get(s, 0.0)),
        )
        for s in stores
    ]
    return _listing(result, texts.READ_TITLES["hot store"], header=header, rows=rows)


def _regions(result: ReadResult, title: str, data: RegionsInfo, what: str) -> Listing:
    count = texts.READ_COUNT.format(count=data.count, what=what)
    return _listing(
        result, title, header=REGION_HEADER, rows=[region_row(r) for r in data.regions], lines=[count]
    )


def _config(result: ReadResult, data: dict[str, Any]) -> Listing:
    arg = result.read.arg or "schedule and replication"
    title = texts.READ_TITLES["config show"].format(section=arg)
    if not data:
        return _listing(result, title, lines=[texts.READ_NONE])
    pairs = flatten(data, sections=result.read.arg in ("", "all"))
    if len(pairs) <= SECTION_FIELDS and result.read.arg in ("replication", "label-property"):
        return _listing(result, title, facts=[(k, escape(v)) for k, v in pairs])
    return _listing(result, title, header=("key", "value"), rows=pairs)


def _members(result: ReadResult, data: MembersInfo) -> Listing:
    leader = data.leader.member_id if data.leader else None
    etcd = data.etcd_leader.member_id if data.etcd_leader else None
    rows = [
        (
            m.name,
            str(m.member_id),
            ",".join(m.client_urls),
            ("leader" if m.member_id == leader else "") + (" etcd-leader" if m.member_id == etcd else ""),
            str(m.leader_priority),
            m.binary_version,
        )
        for m in data.members
    ]
    header = ("name", "member id", "client urls", "role", "priority", "version")
    lines = [texts.READ_COUNT.format(count=len(data.members), what="members")]
    return _listing(result, texts.READ_TITLES["members"], header=header, rows=rows, lines=lines)


def _labels(result: ReadResult, data: Labels) -> Listing:
    rows = []
    for label in data.labels:
        stores = [
            str(s.store.id) for s in data.stores.stores if s.store.label_map.get(label.key) == label.value
        ]
        rows.append((label.key, label.value, ",".join(stores) or "-"))
    return _listing(result, texts.READ_TITLES["labels"], header=("key", "value", "stores"), rows=rows)


def _limits(result: ReadResult, data: StoreLimits) -> Listing:
    rows = [(str(s), f"{lim.add_peer:g}", f"{lim.remove_peer:g}") for s, lim in sorted(data.limits.items())]
    lines = [texts.STORE_LIMIT_UNIT]
    return _listing(
        result,
        texts.READ_TITLES["store limit"],
        header=("store", "add-peer", "remove-peer"),
        rows=rows,
        lines=lines,
    )


def _schedulers(result: ReadResult, data: SchedulerStates) -> Listing:
    def state(name: str) -> str:
        if name in data.disabled:
            return "disabled"
        return "paused" if name in data.paused else "running"

    rows = [(name, state(name)) for name in data.names]
    lines = [texts.READ_COUNT.format(count=len(data.names), what="schedulers")]
    return _listing(
        result, texts.READ_TITLES["scheduler show"], header=("name", "state"), rows=rows, lines=lines
    )


def _operator_status(result: ReadResult, data: OperatorStatus) -> Listing:
    facts = [
        (texts.FACT_STATUS, data.status.value),
        (texts.FACT_OPERATOR, escape(data.desc or "?")),
        (texts.FACT_BRIEF, escape(data.brief or "?")),
    ]
    title = texts.READ_TITLES["operator region"].format(id=result.read.number)
    return _listing(result, title, facts=facts, lines=[inline(data.operator, 1500)])


def _siblings(result: ReadResult, data: Siblings) -> Listing:
    rows = []
    for region in data.siblings.regions:
        side = "left" if region.end_key == data.region.start_key and region.end_key else "right"
        rows.append((side, *region_row(region)))
    title = texts.READ_TITLES["region sibling"].format(id=data.region.id)
    return _listing(result, title, header=("side", *REGION_HEADER), rows=rows)


def _top(result: ReadResult, data: RegionsInfo) -> Listing:
    title = texts.READ_TITLES["region top"].format(kind=result.read.arg, count=result.read.number)
    return _listing(result, title, header=REGION_HEADER, rows=[region_row(r) for r in data.regions])


def pd_read_listing(result: ReadResult) -> Listing:
    """``result`` as a listing."""
    read, data = result.read, result.data
    kind = read.kind
    if isinstance(data, Missing):
        key = "operator region" if kind == "operator show" and read.number is not None else kind
        title = texts.READ_TITLES.get(key, kind).format(
            id=read.number, section=read.arg, kind=read.arg, count=read.number, name=read.arg
        )
        return _listing(result, title, lines=[data.sentence])
    if kind == "config show" and isinstance(data, dict):
        return _config(result, data)
    if kind == "operator show" and isinstance(data, OperatorStatus):
        return _operator_status(result, data)
    if kind in ("operator show", "operator history") and isinstance(data, list):
        # PD's operator strings are long sentences: rows of text, not a table.
        listing = _listing(
            result,
            texts.READ_TITLES[kind],
            lines=[texts.READ_COUNT.format(count=len(data), what="operators")],
        )
        return replace(listing, rows=tuple(inline(str(op), ROW_CHARS) for op in data))
    if isinstance(data, SchedulerStates):
        return _schedulers(result, data)
    if kind == "scheduler config":
        title = texts.READ_TITLES[kind].format(name=read.arg)
        return _listing(result, title, header=("key", "value"), rows=flatten(data))
    if isinstance(data, StoreHotPeersInfos):
        return _hot(result, data)
    if isinstance(data, HotStoreStats):
        return _hot_stores(result, data)
    if kind == "region check" and isinstance(data, RegionsInfo):
        title = texts.READ_TITLES[kind].format(kind=read.arg)
        return _regions(result, title, data, texts.READ_CHECK_WHAT.format(kind=read.arg))
    if isinstance(data, RegionInfo):
        title = texts.READ_TITLES["region key"].format(id=data.id)
        lines = [texts.READ_KEY_AS.format(format="hex" if read.hex_key else "raw")]
        return _listing(result, title, facts=region_facts(data), lines=lines)
    if isinstance(data, Siblings):
        return _siblings(result, data)
    if kind == "region top" and isinstance(data, RegionsInfo):
        return _top(result, data)
    if isinstance(data, Labels):
        return _labels(result, data)
    if isinstance(data, MembersInfo):
        return _members(result, data)
    if isinstance(data, StoreLimits):
        return _limits(result, data)
    raise ValueError(f"no rendering for {kind!r} with {type(data).__name__}")
