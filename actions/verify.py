"""Verification: after an action ran, read PD back and say whether the cluster now looks as intended.

``verify`` is called once the executor saw PD accept the request (and, for operators, finish it). It
reads only what the action touched and compares it with the preflight ``facts``. PASS means the change
is visible, WARN that it is on its way (leaders still leaving a store, a learner not yet promoted) or
could not be read, FAIL that PD shows the old state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from actions.checks.base import Outcome, fail, ok, stores_text, warn
from actions.config_keys import config_key
from actions.errors import ClusterError, InvalidRequest
from actions.models import ActionRequest, ActionType, CheckResult, OperatorOutcome
from actions.params import Params, float_param, int_param, number_text, str_param
from actions.ports import Cluster

Verifier = Callable[[Params, Mapping[str, Any], Cluster], Awaitable[Outcome]]


def _fact(facts: Mapping[str, Any], *path: str) -> Any:
    value: Any = facts
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


async def _leader_moved(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id, target = int_param(params, "region_id"), int_param(params, "to_store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return fail(f"region {region_id} no longer exists", region_id=region_id)
    data = {"region_id": region_id, "leader_store_id": region.leader_store_id}
    if region.leader_store_id == target:
        return ok(f"the leader of region {region_id} is on store {target}", **data)
    return fail(
        f"the leader of region {region_id} is on store {region.leader_store_id}, not store {target}", **data
    )


async def _peer_added(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id, store_id = int_param(params, "region_id"), int_param(params, "store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return fail(f"region {region_id} no longer exists", region_id=region_id)
    peer = region.peer_on(store_id)
    data = {"region_id": region_id, "peers": {str(p.store_id): p.role for p in region.peers}}
    if peer is None:
        return fail(f"region {region_id} has no peer on store {store_id}", **data)
    if not peer.is_voter:
        return warn(f"region {region_id}'s peer on store {store_id} is still a {peer.role}", **data)
    return ok(f"region {region_id} has a voter on store {store_id}", **data)


async def _peer_removed(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id, store_id = int_param(params, "region_id"), int_param(params, "store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return fail(f"region {region_id} no longer exists", region_id=region_id)
    data = {"region_id": region_id, "peers": {str(p.store_id): p.role for p in region.peers}}
    if region.peer_on(store_id) is not None:
        return fail(f"region {region_id} still has a peer on store {store_id}", **data)
    return ok(f"region {region_id} has no peer on store {store_id} any more", **data)


async def _peer_moved(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id = int_param(params, "region_id")
    source, target = int_param(params, "from_store_id"), int_param(params, "to_store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return fail(f"region {region_id} no longer exists", region_id=region_id)
    data = {"region_id": region_id, "peers": {str(p.store_id): p.role for p in region.peers}}
    on_target, on_source = region.peer_on(target), region.peer_on(source)
    if on_target is None:
        return fail(f"region {region_id} has no peer on store {target}", **data)
    if on_source is not None:
        return warn(
            f"region {region_id} has peers on both store {source} and store {target}; still moving", **data
        )
    return ok(f"region {region_id}'s peer moved from store {source} to store {target}", **data)


async def _split(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id = int_param(params, "region_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return fail(f"region {region_id} no longer exists", region_id=region_id)
    before_version = _fact(facts, "region", "version")
    before_range = (_fact(facts, "region", "start_key"), _fact(facts, "region", "end_key"))
    data = {
        "region_id": region_id,
        "version": [before_version, region.version],
        "range_before": list(before_range),
        "range_now": [region.start_key, region.end_key],
    }
    if not isinstance(before_version, int):
        return warn(
            f"region {region_id} is at version {region.version}; the version before is unknown", **data
        )
    if region.version > before_version and (region.start_key, region.end_key) != before_range:
        return ok(
            f"region {region_id} split: version {before_version} → {region.version}, range narrowed", **data
        )
    return fail(f"region {region_id} did not split: its version and key range are unchanged", **data)


async def _merged(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    source_id, target_id = int_param(params, "source_region_id"), int_param(params, "target_region_id")
    source = await cluster.get_region(source_id)
    if source is not None:
        return fail(f"region {source_id} still exists; it was not merged", source_region_id=source_id)
    target = await cluster.get_region(target_id)
    if target is None:
        return warn(
            f"region {source_id} is gone, but region {target_id} is gone too", target_region_id=target_id
        )
    return ok(
        f"region {source_id} merged into region {target_id}, which now covers "
        f"[{target.start_key or '-∞'}, {target.end_key or '+∞'})",
        target_region_id=target_id,
        range_now=[target.start_key, target.end_key],
    )


async def _scattered(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id = int_param(params, "region_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return fail(f"region {region_id} no longer exists", region_id=region_id)
    peers = {str(p.store_id): p.role for p in region.peers}
    data = {"region_id": region_id, "peers": peers, "leader_store_id": region.leader_store_id}
    if peers == _fact(facts, "region", "peers") and region.leader_store_id == _fact(
        facts, "region", "leader_store_id"
    ):
        return warn(
            f"region {region_id}'s peers and leader did not move; PD found nothing to scatter", **data
        )
    return ok(
        f"region {region_id} now has peers on {stores_text({p.store_id for p in region.peers})}", **data
    )


async def _cancelled(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    region_id = int_param(params, "region_id")
    operator = await cluster.get_operator(region_id)
    if operator is not None and operator.outcome is OperatorOutcome.RUNNING:
        return fail(
            f"region {region_id} still runs {operator.desc}", region_id=region_id, operator=operator.desc
        )
    ended = operator.outcome.value if operator is not None else "gone"
    return ok(f"no operator runs on region {region_id} (the last one: {ended})", region_id=region_id)


async def _evicting(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    store_id = int_param(params, "store_id")
    evicting = await cluster.get_evict_leader_store_ids()
    if store_id not in evicting:
        return fail(
            f"store {store_id} is not evicting leaders (no evict-leader on it)", evicting=sorted(evicting)
        )
    store = await cluster.get_store(store_id)
    leaders = store.leader_count if store is not None else 0
    data = {"store_id": store_id, "leader_count": leaders, "evicting": sorted(evicting)}
    if leaders:
        return warn(f"store {store_id} is evicting leaders; {leaders} still to move", **data)
    return ok(f"store {store_id} is evicting leaders and holds none", **data)


async def _not_evicting(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    store_id = int_param(params, "store_id")
    evicting = await cluster.get_evict_leader_store_ids()
    if store_id in evicting:
        return fail(f"store {store_id} is still evicting leaders", evicting=sorted(evicting))
    return ok(f"store {store_id} may hold leaders again", evicting=sorted(evicting))


async def _paused(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    name = str_param(params, "scheduler")
    paused = await cluster.get_paused_schedulers()
    if name in paused:
        return ok(f"{name} is paused", paused=sorted(paused))
    return fail(f"{name} is not paused", paused=sorted(paused))


async def _resumed(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    name = str_param(params, "scheduler")
    paused = await cluster.get_paused_schedulers()
    if name in paused:
        return fail(f"{name} is still paused", paused=sorted(paused))
    return ok(f"{name} is running again", paused=sorted(paused))


async def _config_set(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    key = config_key(str_param(params, "key"))
    wanted = params.get("value")
    current = (await cluster.get_config()).get(key.name)
    data = {"key": key.name, "wanted": wanted, "current": current}
    if isinstance(wanted, int | float | str) and key.same(current, wanted):
        return ok(f"{key.name} is now {current}", **data)
    return fail(f"{key.name} is {current}, not {wanted}", **data)


async def _limit_set(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    store_id, rate = int_param(params, "store_id"), float_param(params, "rate")
    limit_type = params.get("limit_type")
    types = [limit_type] if isinstance(limit_type, str) and limit_type else ["add-peer", "remove-peer"]
    limits = (await cluster.get_store_limits()).get(store_id, {})
    data = {"store_id": store_id, "limits": limits, "wanted": rate}
    wrong = [t for t in types if limits.get(t) != rate]
    if wrong:
        return fail(
            f"store {store_id}'s {' and '.join(wrong)} limit is "
            + ", ".join(str(limits.get(t)) for t in wrong)
            + f", not {number_text(rate)}",
            **data,
        )
    return ok(f"store {store_id}'s {' and '.join(types)} limit is {number_text(rate)}", **data)


async def _store_state(params: Params, cluster: Cluster, wanted: tuple[str, ...]) -> Outcome:
    store_id = int_param(params, "store_id")
    store = await cluster.get_store(store_id)
    if store is None:
        return fail(f"store {store_id} no longer exists", store_id=store_id)
    data = {"store_id": store_id, "state": store.state_name}
    if store.state_name in wanted:
        return ok(f"store {store_id} is {store.state_name}", **data)
    return fail(f"store {store_id} is {store.state_name}, not {' or '.join(wanted)}", **data)


async def _offline(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    # A drain is finished when PD buries the store (Tombstone); while it is Offline it is under way.
    store_id = int_param(params, "store_id")
    store = await cluster.get_store(store_id)
    if store is None:
        return ok(f"store {store_id} is gone from PD: drained and removed", store_id=store_id)
    data = {"store_id": store_id, "state": store.state_name, "region_count": store.region_count}
    if store.state_name == "Tombstone":
        return ok(f"store {store_id} is Tombstone: every region moved off it", **data)
    if store.state_name == "Offline":
        return fail(
            f"store {store_id} is still Offline: {store.region_count} regions left to move off it", **data
        )
    return fail(f"store {store_id} is {store.state_name}, not draining", **data)


async def _back_up(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Outcome:
    # PD shows Down or Disconnected for an Up store that misses heartbeats; its state is still Up.
    return await _store_state(params, cluster, ("Up", "Down", "Disconnected"))


VERIFIERS: Mapping[ActionType, Verifier] = {
    ActionType.TRANSFER_LEADER: _leader_moved,
    ActionType.TRANSFER_PEER: _peer_moved,
    ActionType.ADD_PEER: _peer_added,
    ActionType.REMOVE_PEER: _peer_removed,
    ActionType.SPLIT_REGION: _split,
    ActionType.MERGE_REGION: _merged,
    ActionType.SCATTER_REGION: _scattered,
    ActionType.CANCEL_OPERATOR: _cancelled,
    ActionType.EVICT_LEADER: _evicting,
    ActionType.REMOVE_EVICT_LEADER: _not_evicting,
    ActionType.PAUSE_SCHEDULER: _paused,
    ActionType.RESUME_SCHEDULER: _resumed,
    ActionType.SET_CONFIG: _config_set,
    ActionType.SET_STORE_LIMIT: _limit_set,
    ActionType.OFFLINE_STORE: _offline,
    ActionType.CANCEL_OFFLINE: _back_up,
}


async def verify(request: ActionRequest, facts: Mapping[str, Any], cluster: Cluster) -> CheckResult:
    """Whether PD now shows the change ``request`` asked for; PD errors become a WARN, never an exception."""
    name = f"verify {request.action.value}"
    try:
        outcome = await VERIFIERS[request.action](request.params, facts, cluster)
    except ClusterError as exc:
        outcome = warn(f"could not verify: PD unreachable: {exc}")
    except (InvalidRequest, ValueError) as exc:
        outcome = warn(f"could not verify: {exc}")
    return CheckResult(name=name, status=outcome.status, message=outcome.message, data=outcome.data)
