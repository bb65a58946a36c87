"""Checks about stores: their state, leader eviction, and draining (offline) safety.

Store facts recorded for the fingerprint: the ``state_name`` of every store an action names, whether it
is evicting leaders, and for draining the set of Up and Offline stores. Leader counts and free space
are shown in the checks' data but not fingerprinted: they change every heartbeat.
"""

from __future__ import annotations

from typing import Any

from actions.checks.base import Check, CheckContext, Outcome, fail, ok, plural, stores_text, warn
from actions.params import int_param
from actions.ports import ClusterHealth, StoreSnapshot

# Why a store in each non-Up state cannot take new work, in words.
STATE_REASONS = {
    "Offline": "is Offline: it is being drained and PD is moving its data away",
    "Tombstone": "has been removed from the cluster (Tombstone)",
    "Down": "is Down: it has not sent a heartbeat for longer than max-store-down-time",
    "Disconnected": "is Disconnected: it has not sent a heartbeat for over 20 seconds",
}


def store_data(store: StoreSnapshot) -> dict[str, Any]:
    return {
        "store_id": store.id,
        "address": store.address,
        "state": store.state_name,
        "leader_count": store.leader_count,
        "region_count": store.region_count,
        "available_ratio": round(store.available_ratio, 4),
    }


def rejected_labels(listed: set[tuple[str, str]], store: StoreSnapshot) -> list[str]:
    """The store's labels among PD's ``reject-leader`` ones, as ``["zone=z1"]``."""
    return [f"{k}={v}" for k, v in sorted(store.labels.items()) if (k, v) in listed]


def _missing(store_id: int) -> Outcome:
    return fail(f"store {store_id} does not exist; check the store id with /tikv status", store_id=store_id)


def pd_health() -> Check:
    """PD has a leader and a healthy majority of members."""

    async def run(ctx: CheckContext) -> Outcome:
        health: ClusterHealth = await ctx.health()
        data = {"leader": health.leader, "members": health.members, "healthy_members": health.healthy_members}
        if health.leader is None:
            return fail(
                "PD has no leader right now (an election may be under way); try again in a few seconds",
                **data,
            )
        if not health.ok:
            return fail(
                f"only {health.healthy_members} of {health.members} PD members are healthy; PD has "
                "no working "
                "majority",
                **data,
            )
        if health.healthy_members < health.members:
            return warn(
                f"{health.members - health.healthy_members} of {health.members} PD members are unhealthy; "
                f"the leader is {health.leader}",
                **data,
            )
        return ok(f"PD leader is {health.leader}; all {health.members} members are healthy", **data)

    return Check("PD healthy", run)


def target_store(param: str, *, takes_leaders: bool = False) -> Check:
    """The store receiving a leader or a peer exists and is Up (and, for leaders, is not evicting them)."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, param)
        store = await ctx.store(store_id)
        ctx.note_store(store_id, store)
        if store is None:
            return _missing(store_id)
        data = store_data(store)
        if store.state_name != "Up":
            reason = STATE_REASONS.get(store.state_name, f"is {store.state_name}")
            return fail(f"store {store_id} {reason}; pick an Up store", **data)
        if takes_leaders:
            rejecting = rejected_labels(await ctx.reject_leader_labels(), store) if store.labels else []
            ctx.note("reject_leader", str(store_id), rejecting)
            if rejecting:
                return fail(
                    f"store {store_id} has the label {', '.join(rejecting)}, which PD's label-property "
                    "marks reject-leader; PD will not move a leader there (target leader is not allowed)",
                    **data,
                )
            evicting = await ctx.evicting()
            ctx.note("evicting", str(store_id), store_id in evicting)
            if store_id in evicting:
                return fail(
                    f"store {store_id} is evicting leaders (evict-leader {store_id}), so PD will "
                    "not move a leader "
                    f"there; run remove-evict-leader {store_id} first",
                    **data,
                )
        return ok(f"store {store_id} ({store.address}) is Up", **data)

    return Check("target store", run)


def store_exists(param: str = "store_id") -> Check:
    """The store exists and has not been removed (Down or Offline stores are fine)."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, param)
        store = await ctx.store(store_id)
        ctx.note_store(store_id, store)
        if store is None:
            return _missing(store_id)
        if store.state_name == "Tombstone":
            return fail(f"store {store_id} {STATE_REASONS['Tombstone']}", **store_data(store))
        return ok(f"store {store_id} ({store.address}) is {store.state_name}", **store_data(store))

    return Check("store exists", run)


def not_evicting() -> Check:
    """evict-leader: not evicting leaders yet (undoing a no-op would end the earlier eviction)."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        evicting = await ctx.evicting()
        ctx.note("evicting", str(store_id), store_id in evicting)
        if store_id in evicting:
            return fail(
                f"store {store_id} is already evicting leaders; nothing to do (undoing this would "
                "end the earlier "
                "eviction too)",
                evicting=sorted(evicting),
            )
        return ok(f"store {store_id} is not evicting leaders yet", evicting=sorted(evicting))

    return Check("not already evicting", run)


def leaders_have_somewhere_to_go() -> Check:
    """evict-leader: another Up store that is not evicting leaders can take them."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        stores = await ctx.stores()
        evicting = set(await ctx.evicting())
        candidates = sorted(
            s.id for s in stores if s.id != store_id and s.state_name == "Up" and s.id not in evicting
        )
        data = {"candidates": candidates, "evicting": sorted(evicting)}
        if not candidates:
            return fail(
                f"no other Up store can take store {store_id}'s leaders (the others are down, draining or "
                "evicting leaders too); its regions would have no leader to move to",
                **data,
            )
        return ok(f"{stores_text(candidates)} can take the leaders", **data)

    return Check("other stores can lead", run)


def in_evict_list() -> Check:
    """remove-evict-leader: the store is one evict-leader-scheduler evicts."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        evicting = await ctx.evicting()
        ctx.note("evicting", str(store_id), store_id in evicting)
        if store_id not in evicting:
            others = (
                f" (evict-leader runs on {stores_text(evicting)})" if evicting else " (no evict-leader runs)"
            )
            return fail(
                f"store {store_id} is not evicting leaders{others}; nothing to remove",
                evicting=sorted(evicting),
            )
        return ok(f"store {store_id} is evicting leaders", evicting=sorted(evicting))

    return Check("store is evicting", run)


def store_drainable() -> Check:
    """offline-store: the store exists and is not already draining or removed."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        store = await ctx.store(store_id)
        ctx.note_store(store_id, store)
        if store is None:
            return _missing(store_id)
        data = store_data(store)
        if store.state_name == "Offline":
            return fail(f"store {store_id} is already Offline (being drained); nothing to do", **data)
        if store.state_name == "Tombstone":
            return fail(f"store {store_id} {STATE_REASONS['Tombstone']}; nothing to drain", **data)
        if store.state_name in ("Down", "Disconnected"):
            return warn(
                f"store {store_id} is {store.state_name}: PD will rebuild its "
                f"{plural(store.region_count, 'replica')} from the other copies instead of moving them",
                **data,
            )
        return ok(
            f"store {store_id} is Up with {plural(store.region_count, 'region')} and "
            f"{plural(store.leader_count, 'leader')} to move",
            **data,
        )

    return Check("store state", run)


def enough_up_stores() -> Check:
    """offline-store: the Up stores left can still hold max-replicas copies of every region."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        stores = await ctx.stores()
        max_replicas = await ctx.max_replicas()
        up = sorted(s.id for s in stores if s.state_name == "Up")
        ctx.facts["up_store_ids"] = up
        remaining = [s for s in up if s != store_id]
        data = {"up_stores": up, "remaining": remaining, "max_replicas": max_replicas}
        if len(remaining) < max_replicas:
            return fail(
                f"taking store {store_id} offline would leave {len(remaining)} Up stores, fewer "
                "than max-replicas "
                f"{max_replicas}; its replicas would have nowhere to go",
                **data,
            )
        return ok(f"{len(remaining)} Up stores remain for max-replicas {max_replicas}", **data)

    return Check("enough Up stores", run)


def no_other_draining() -> Check:
    """offline-store: no other store is being drained (one at a time keeps the cluster's headroom)."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        stores = await ctx.stores()
        draining = sorted(s.id for s in stores if s.state_name == "Offline" and s.id != store_id)
        ctx.facts["offline_store_ids"] = draining
        if draining:
            return fail(
                f"{stores_text(draining)} {'is' if len(draining) == 1 else 'are'} already being "
                "drained; drain one "
                "store at a time",
                draining=draining,
            )
        return ok("no other store is being drained", draining=draining)

    return Check("no other store draining", run)


def store_is_offline() -> Check:
    """cancel-offline: the store is Offline (draining) and not yet a Tombstone."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        store = await ctx.store(store_id)
        ctx.note_store(store_id, store)
        if store is None:
            return _missing(store_id)
        data = store_data(store)
        if store.state_name == "Tombstone":
            return fail(
                f"store {store_id} has finished draining and is a Tombstone; it cannot come back "
                "(add the machine "
                "again as a new store)",
                **data,
            )
        if store.state_name != "Offline":
            return fail(
                f"store {store_id} is {store.state_name}, not Offline; there is no drain to cancel", **data
            )
        return ok(f"store {store_id} is Offline; cancelling sets it back to Up", **data)

    return Check("store is Offline", run)
