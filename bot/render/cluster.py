"""``/tikv status``, ``region R`` and ``store S`` as listings (long ones page, see ``listing``)."""

from __future__ import annotations

import json
from datetime import datetime

from actions.models import Ticket
from bot import texts
from bot.reads import RegionView, StatusView, StoreView
from bot.render.kit import escape, when
from bot.render.listing import Listing
from bot.render.tables import fact_blocks, region_facts
from pd.models import RegionInfo, StoreInfo

DOWN_STATES = ("Down", "Disconnected")


def duration(seconds: float) -> str:
    """``3725`` → ``1h 2m``; ``75`` → ``1m 15s``; days for long ones."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def down_for(info: StoreInfo, now: datetime | None) -> str | None:
    """How long a Down or Disconnected store has been silent (from its last heartbeat)."""
    last = info.status.last_heartbeat_ts
    if info.store.state_name not in DOWN_STATES or last is None or now is None:
        return None
    return duration((now - last).total_seconds())


def store_row(info: StoreInfo) -> str:
    store, status = info.store, info.status
    return texts.STORE_ROW.format(
        icon=texts.STORE_STATE_ICON.get(store.state_name, "⚪"),
        id=store.id,
        address=escape(store.address),
        state=escape(store.state_name or "?"),
        leaders=status.leader_count,
        regions=status.region_count,
        free=escape(status.available),
        capacity=escape(status.capacity),
    )


# Findings named in the status summary; the rest are in the rows.
_SUMMARY_FINDINGS = 3


def _ticket_row(ticket: Ticket) -> str:
    return texts.STATUS_TICKET.format(
        id=ticket.id, title=escape(ticket.title), key=escape(ticket.key), when=when(ticket.created_at)
    )


def _summary(view: StatusView) -> list[str]:
    intro: list[str] = []
    if view.health is not None:
        healthy = sum(1 for m in view.health if m.health)
        leader = view.members.leader.name if view.members and view.members.leader else None
        intro.append(
            texts.STATUS_PD.format(
                icon="🟢" if leader and healthy > len(view.health) // 2 else "🔴",
                healthy=healthy,
                members=len(view.health),
                leader=escape(leader) if leader else texts.STATUS_NO_LEADER,
            )
        )
    if view.stores is not None:
        by_state: dict[str, int] = {}
        for info in view.stores:
            by_state[info.store.state_name] = by_state.get(info.store.state_name, 0) + 1
        states = ", ".join(f"{n} {escape(s or '?')}" for s, n in sorted(by_state.items()))
        intro.append(texts.STATUS_STORES.format(count=len(view.stores), states=states))
        for info in sorted(view.stores, key=lambda s: s.store.id):
            silent = down_for(info, view.read_at)
            if silent is not None:
                intro.append(
                    texts.STATUS_STORE_DOWN.format(
                        id=info.store.id, state=escape(info.store.state_name), duration=silent
                    )
                )
    if view.degraded is not None:
        counts = [f"{n} {kind}" for kind, n in view.degraded if n]
        intro.append(texts.STATUS_DEGRADED.format(counts=", ".join(counts) or texts.STATUS_NONE))
    if view.schedulers is not None:
        names = ", ".join(f"`{escape(s)}`" for s in view.schedulers) or texts.STATUS_NONE
        intro.append(texts.STATUS_SCHEDULERS.format(names=names))
    if view.paused:
        names = ", ".join(f"`{escape(s)}`" for s in view.paused)
        intro.append(texts.STATUS_PAUSED.format(names=names))
    if view.operators:
        intro.append(texts.STATUS_RUNNING_OPERATORS.format(count=len(view.operators)))
    if view.tickets:
        # Up front, so a long store list cannot push what the agent found onto a later page.
        titles = "; ".join(escape(t.title) for t in view.tickets[:_SUMMARY_FINDINGS])
        more = len(view.tickets) - _SUMMARY_FINDINGS
        intro.append(
            texts.STATUS_FINDINGS.format(
                count=len(view.tickets), titles=titles + (f"; +{more}" if more > 0 else "")
            )
        )
    intro.extend(texts.STATUS_PROBLEM.format(problem=escape(e)) for e in view.errors)
    return intro


def status_listing(view: StatusView) -> Listing:
    """PD's health, store states, schedulers and problems up front; stores, operators, tickets as rows."""
    rows: list[str] = []
    if view.stores is not None:
        rows.extend(store_row(s) for s in sorted(view.stores, key=lambda s: s.store.id))
    if view.operators is not None:
        rows.extend(
            texts.STATUS_OPERATOR.format(
                region=o.region_id, desc=escape(o.desc), brief=escape(o.brief), status=o.status_name
            )
            for o in view.operators
        )
        if not view.operators:
            rows.append(texts.STATUS_NO_OPERATORS)
    if view.tickets is not None:
        rows.extend(_ticket_row(t) for t in view.tickets)
        if not view.tickets:
            rows.append(texts.STATUS_NO_TICKETS)
    return Listing(
        title=texts.STATUS_TITLE, intro=tuple(_summary(view)), rows=tuple(rows), empty=texts.STATUS_UNREADABLE
    )


def _peers(region: RegionInfo) -> str:
    shown = []
    for peer in region.peers:
        text = texts.REGION_PEER.format(store=peer.store_id)
        if peer.id == region.leader.id:
            text += texts.REGION_LEADER_MARK
        if peer.role_name and peer.role_name != "Voter":
            text += f" {peer.role_name}"
        shown.append(text)
    return ", ".join(shown)


def region_listing(region_id: int, view: RegionView, *, raw_json: bool = False) -> Listing:
    """A region in fields; PD's JSON as rows only when asked (``--json``)."""
    region = view.region
    title = texts.REGION_TITLE.format(id=region_id)
    if region is None:
        empty = texts.REGION_UNKNOWN.format(id=region_id)
        if view.known_ids:
            empty += " " + texts.REGION_HINT.format(ids=", ".join(str(i) for i in view.known_ids))
        return Listing(title=title, rows=(), empty=empty)
    intro = [texts.REGION_LEADER.format(store=region.leader.store_id, peers=_peers(region))]
    if view.operator is not None:
        intro.append(
            texts.REGION_OPERATOR.format(desc=escape(view.operator.desc), brief=escape(view.operator.brief))
        )
    path = f"GET /pd/api/v1/region/id/{region_id}"
    if raw_json:
        document = json.dumps(region.model_dump(mode="json", by_alias=True), indent=2)
        return Listing(
            title=title, intro=tuple(intro), rows=tuple(document.splitlines()), code=True, footer=path
        )
    return Listing(
        title=title,
        intro=tuple(intro),
        rows=(),
        empty=texts.RAW_JSON_HINT.format(command=f"region {region_id}"),
        footer=path,
        extra=fact_blocks(region_facts(region)),
    )


def _store_state(info: StoreInfo, now: datetime | None) -> str:
    state = info.store.state_name or "?"
    icon = texts.STORE_STATE_ICON.get(state, "⚪")
    silent = down_for(info, now)
    if silent is not None:
        return texts.STORE_STATE_FOR.format(icon=icon, state=escape(state), duration=silent)
    if state == "Offline":
        return texts.STORE_STATE_DRAINING.format(icon=icon, regions=info.status.region_count)
    if state == "Up" and info.status.uptime:
        return texts.STORE_STATE_UP.format(icon=icon, uptime=escape(info.status.uptime))
    return f"{icon} {escape(state)}"


def store_facts(view: StoreView) -> list[tuple[str, str]]:
    """A store in fields: state and for how long, address, version, labels, space, counts, limits."""
    assert view.store is not None
    store, status = view.store.store, view.store.status
    labels = ", ".join(f"{escape(k)}={escape(v)}" for k, v in store.label_map.items()) or texts.STATUS_NONE
    limit = (
        texts.STORE_LIMIT_VALUE.format(add=f"{view.limit.add_peer:g}", remove=f"{view.limit.remove_peer:g}")
        if view.limit is not None
        else texts.STORE_LIMIT_UNKNOWN
    )
    heartbeat = when(status.last_heartbeat_ts) if status.last_heartbeat_ts else texts.STORE_NO_HEARTBEAT
    return [
        (texts.FACT_STATE, _store_state(view.store, view.read_at)),
        (texts.FACT_ADDRESS, f"{escape(store.address)} · v{escape(store.version.lstrip('v'))}"),
        (texts.FACT_LABELS, labels),
        (
            texts.FACT_SPACE,
            texts.STORE_SPACE_VALUE.format(
                available=escape(status.available),
                capacity=escape(status.capacity),
                used=escape(status.used_size),
            ),
        ),
        (
            texts.FACT_LEADERS,
            texts.STORE_COUNT_VALUE.format(
                count=status.leader_count,
                weight=f"{status.leader_weight:g}",
                score=f"{status.leader_score:g}",
            ),
        ),
        (
            texts.FACT_REGIONS,
            texts.STORE_COUNT_VALUE.format(
                count=status.region_count,
                weight=f"{status.region_weight:g}",
                score=f"{status.region_score:g}",
            ),
        ),
        (texts.FACT_LIMITS, limit),
        (texts.FACT_HEARTBEAT, heartbeat),
    ]


def store_listing(store_id: int, view: StoreView, *, raw_json: bool = False) -> Listing:
    """A store in fields; PD's JSON as rows only when asked (``--json``)."""
    info = view.store
    title = texts.STORE_TITLE.format(id=store_id)
    if info is None:
        return Listing(title=title, rows=(), empty=texts.STORE_UNKNOWN.format(id=store_id))
    intro = [store_row(info)]
    if view.evicting_leaders:
        intro.append(texts.STORE_EVICTING)
    path = f"GET /pd/api/v1/store/{store_id}"
    if raw_json:
        document = json.dumps(info.model_dump(mode="json", by_alias=True), indent=2)
        return Listing(
            title=title, intro=tuple(intro), rows=tuple(document.splitlines()), code=True, footer=path
        )
    return Listing(
        title=title,
        intro=tuple(intro),
        rows=(),
        empty=texts.RAW_JSON_HINT.format(command=f"store {store_id}"),
        footer=path,
        extra=fact_blocks(store_facts(view)),
    )
