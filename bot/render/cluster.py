"""``/tikv status``, ``region R`` and ``store S`` as listings (long ones page, see ``listing``)."""

from __future__ import annotations

import json

from actions.models import Ticket
from bot.reads import RegionView, StatusView, StoreView
from bot.render.kit import escape, when
from bot.render.listing import Listing
from pd.models import StoreInfo

STATE_ICON = {"Up": "🟢", "Offline": "🟡", "Down": "🔴", "Disconnected": "🟠", "Tombstone": "⚫"}


def store_row(info: StoreInfo) -> str:
    store, status = info.store, info.status
    icon = STATE_ICON.get(store.state_name, "⚪")
    return (
        f"{icon} *store {store.id}* {escape(store.address)} · {escape(store.state_name or '?')} · "
        f"{status.leader_count} leaders · {status.region_count} regions · "
        f"{escape(status.available)} free of {escape(status.capacity)}"
    )


def _ticket_row(ticket: Ticket) -> str:
    return f"🎫 *ticket {ticket.id}* {escape(ticket.title)} · opened {when(ticket.created_at)}"


def status_listing(view: StatusView) -> Listing:
    intro: list[str] = []
    if view.health is not None:
        healthy = sum(1 for m in view.health if m.health)
        leader = view.members.leader.name if view.members and view.members.leader else None
        icon = "🟢" if leader and healthy > len(view.health) // 2 else "🔴"
        intro.append(
            f"{icon} *PD:* {healthy} of {len(view.health)} members healthy · "
            f"leader {escape(leader) if leader else '*none*'}"
        )
    if view.stores is not None:
        by_state: dict[str, int] = {}
        for info in view.stores:
            by_state[info.store.state_name] = by_state.get(info.store.state_name, 0) + 1
        counts = ", ".join(f"{n} {escape(s or '?')}" for s, n in sorted(by_state.items()))
        intro.append(f"*Stores:* {len(view.stores)} ({counts})")
    if view.schedulers is not None:
        names = ", ".join(f"`{escape(s)}`" for s in view.schedulers) or "none"
        intro.append(f"*Schedulers:* {names}")
    for error in view.errors:
        intro.append(f"⚠️ {escape(error)}")
    rows: list[str] = []
    if view.stores is not None:
        rows.extend(store_row(s) for s in sorted(view.stores, key=lambda s: s.store.id))
    if view.operators is not None:
        if view.operators:
            rows.extend(
                f"⚙️ *operator* region {o.region_id}: {escape(o.desc)} ({escape(o.brief)}) · {o.status_name}"
                for o in view.operators
            )
        else:
            rows.append("⚙️ No operators running.")
    if view.tickets is not None:
        rows.extend(_ticket_row(t) for t in view.tickets)
        if not view.tickets:
            rows.append("🎫 No open findings.")
    return Listing(
        title="Cluster status", intro=tuple(intro), rows=tuple(rows), empty="PD could not be read."
    )


def region_listing(region_id: int, view: RegionView) -> Listing:
    region = view.region
    if region is None:
        return Listing(title=f"Region {region_id}", rows=(), empty=f"PD does not know region {region_id}.")
    peers = ", ".join(
        f"store {p.store_id}{' (leader)' if p.id == region.leader.id else ''}"
        + (f" {p.role_name}" if p.role_name and p.role_name != "Voter" else "")
        for p in region.peers
    )
    intro = [
        f"*Leader:* store {region.leader.store_id} · *peers:* {peers}",
        f"*Epoch:* conf_ver {region.epoch.conf_ver}, version {region.epoch.version} · "
        f"*size:* {region.approximate_size} MiB, {region.approximate_keys} keys",
    ]
    if region.down_peers:
        intro.append("🔴 *Down peers:* " + ", ".join(f"store {d.peer.store_id}" for d in region.down_peers))
    if region.pending_peers:
        intro.append("🟡 *Pending peers:* " + ", ".join(f"store {p.store_id}" for p in region.pending_peers))
    if view.operator is not None:
        intro.append(f"⚙️ *Operator:* {escape(view.operator.desc)} ({escape(view.operator.brief)})")
    document = json.dumps(region.model_dump(mode="json", by_alias=True), indent=2)
    return Listing(
        title=f"Region {region_id}",
        intro=tuple(intro),
        rows=tuple(document.splitlines()),
        code=True,
        footer="GET /pd/api/v1/region/id/" + str(region_id),
    )


def store_listing(store_id: int, view: StoreView) -> Listing:
    info = view.store
    if info is None:
        return Listing(title=f"Store {store_id}", rows=(), empty=f"PD does not know store {store_id}.")
    intro = [store_row(info)]
    if view.evicting_leaders:
        intro.append("🚚 The evict-leader scheduler is moving leaders off this store.")
    if info.status.last_heartbeat_ts is not None:
        intro.append(f"Last heartbeat {when(info.status.last_heartbeat_ts)}")
    document = json.dumps(info.model_dump(mode="json", by_alias=True), indent=2)
    return Listing(
        title=f"Store {store_id}",
        intro=tuple(intro),
        rows=tuple(document.splitlines()),
        code=True,
        footer="GET /pd/api/v1/store/" + str(store_id),
    )
