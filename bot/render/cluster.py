"""``/tikv status``, ``region R`` and ``store S`` as listings (long ones page, see ``listing``)."""

from __future__ import annotations

import json

from actions.models import Ticket
from bot import texts
from bot.reads import RegionView, StatusView, StoreView
from bot.render.kit import escape, when
from bot.render.listing import Listing
from pd.models import RegionInfo, StoreInfo


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
    if view.schedulers is not None:
        names = ", ".join(f"`{escape(s)}`" for s in view.schedulers) or texts.STATUS_NONE
        intro.append(texts.STATUS_SCHEDULERS.format(names=names))
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


def region_listing(region_id: int, view: RegionView) -> Listing:
    region = view.region
    title = texts.REGION_TITLE.format(id=region_id)
    if region is None:
        return Listing(title=title, rows=(), empty=texts.REGION_UNKNOWN.format(id=region_id))
    intro = [
        texts.REGION_LEADER.format(store=region.leader.store_id, peers=_peers(region)),
        texts.REGION_EPOCH.format(
            conf_ver=region.epoch.conf_ver,
            version=region.epoch.version,
            size=region.approximate_size,
            keys=region.approximate_keys,
        ),
    ]
    if region.down_peers:
        stores = ", ".join(texts.REGION_PEER.format(store=d.peer.store_id) for d in region.down_peers)
        intro.append(texts.REGION_DOWN.format(stores=stores))
    if region.pending_peers:
        stores = ", ".join(texts.REGION_PEER.format(store=p.store_id) for p in region.pending_peers)
        intro.append(texts.REGION_PENDING.format(stores=stores))
    if view.operator is not None:
        intro.append(
            texts.REGION_OPERATOR.format(desc=escape(view.operator.desc), brief=escape(view.operator.brief))
        )
    document = json.dumps(region.model_dump(mode="json", by_alias=True), indent=2)
    return Listing(
        title=title,
        intro=tuple(intro),
        rows=tuple(document.splitlines()),
        code=True,
        footer=f"GET /pd/api/v1/region/id/{region_id}",
    )


def store_listing(store_id: int, view: StoreView) -> Listing:
    info = view.store
    title = texts.STORE_TITLE.format(id=store_id)
    if info is None:
        return Listing(title=title, rows=(), empty=texts.STORE_UNKNOWN.format(id=store_id))
    intro = [store_row(info)]
    if view.evicting_leaders:
        intro.append(texts.STORE_EVICTING)
    if info.status.last_heartbeat_ts is not None:
        intro.append(texts.STORE_HEARTBEAT.format(when=when(info.status.last_heartbeat_ts)))
    document = json.dumps(info.model_dump(mode="json", by_alias=True), indent=2)
    return Listing(
        title=title,
        intro=tuple(intro),
        rows=tuple(document.splitlines()),
        code=True,
        footer=f"GET /pd/api/v1/store/{store_id}",
    )
