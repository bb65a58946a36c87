"""What each action's verification reads back from PD, and the typed verdict it returns.

Each function here is one catalog entry's ``verify_fn`` (``actions.catalog``): after PD accepted the
request (and, for operators, finished it) it reads only what the action touched and compares it with
the preflight ``facts``. The verdict is typed, so callers branch on its kind, never on its wording:

    CONFIRMED  PD shows the change (``partly``: it shows, with a caveat — still settling, e.g. leaders
               still leaving a store or a learner not yet promoted, or not all of it can be told)
    REFUTED    PD shows the old state
    UNKNOWN    PD could not be read, so nothing can be said

``check`` is what the card and the audit show: the status (PASS, WARN, FAIL), the evidence and its data.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from actions.checks.base import stores_text
from actions.config_keys import config_key
from actions.models import CheckResult, CheckStatus, OperatorOutcome
from actions.params import Params, float_param, int_param, number_text, str_param
from actions.ports import Cluster


class Verdict(enum.StrEnum):
    """What a verification concluded about the change an action asked for."""

    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verification:
    """A verdict with its evidence: ``check`` carries the status, the sentence and the data it used."""

    verdict: Verdict
    check: CheckResult

    @property
    def evidence(self) -> str:
        return self.check.message

    def named(self, name: str) -> Verification:
        """The same verification with its check named (``verify transfer-leader``)."""
        return Verification(self.verdict, self.check.model_copy(update={"name": name}))


def _verification(verdict: Verdict, status: CheckStatus, evidence: str, data: dict[str, Any]) -> Verification:
    return Verification(verdict, CheckResult(name="verify", status=status, message=evidence, data=data))


def confirmed(evidence: str, **data: Any) -> Verification:
    """PD shows the change (PASS)."""
    return _verification(Verdict.CONFIRMED, CheckStatus.PASS, evidence, data)


def partly(evidence: str, **data: Any) -> Verification:
    """PD shows the change, with a caveat the card shows as a warning (WARN)."""
    return _verification(Verdict.CONFIRMED, CheckStatus.WARN, evidence, data)


def refuted(evidence: str, **data: Any) -> Verification:
    """PD shows the old state (FAIL)."""
    return _verification(Verdict.REFUTED, CheckStatus.FAIL, evidence, data)


def unknown(evidence: str, **data: Any) -> Verification:
    """PD could not be read, so the change can be neither confirmed nor refuted (WARN)."""
    return _verification(Verdict.UNKNOWN, CheckStatus.WARN, evidence, data)


Verifier = Callable[[Params, Mapping[str, Any], Cluster], Awaitable[Verification]]
"""One action's verification: its parameters, the preflight facts it ran with, and PD to read."""


def _fact(facts: Mapping[str, Any], *path: str) -> Any:
    value: Any = facts
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


async def leader_moved(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id, target = int_param(params, "region_id"), int_param(params, "to_store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return refuted(f"region {region_id} no longer exists", region_id=region_id)
    data = {"region_id": region_id, "leader_store_id": region.leader_store_id}
    if region.leader_store_id == target:
        return confirmed(f"the leader of region {region_id} is on store {target}", **data)
    return refuted(
        f"the leader of region {region_id} is on store {region.leader_store_id}, not store {target}", **data
    )


async def peer_added(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id, store_id = int_param(params, "region_id"), int_param(params, "store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return refuted(f"region {region_id} no longer exists", region_id=region_id)
    peer = region.peer_on(store_id)
    data = {"region_id": region_id, "peers": {str(p.store_id): p.role for p in region.peers}}
    if peer is None:
        return refuted(f"region {region_id} has no peer on store {store_id}", **data)
    if not peer.is_voter:
        return partly(f"region {region_id}'s peer on store {store_id} is still a {peer.role}", **data)
    return confirmed(f"region {region_id} has a voter on store {store_id}", **data)


async def peer_removed(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id, store_id = int_param(params, "region_id"), int_param(params, "store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return refuted(f"region {region_id} no longer exists", region_id=region_id)
    data = {"region_id": region_id, "peers": {str(p.store_id): p.role for p in region.peers}}
    if region.peer_on(store_id) is not None:
        return refuted(f"region {region_id} still has a peer on store {store_id}", **data)
    return confirmed(f"region {region_id} has no peer on store {store_id} any more", **data)


async def peer_moved(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id = int_param(params, "region_id")
    source, target = int_param(params, "from_store_id"), int_param(params, "to_store_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return refuted(f"region {region_id} no longer exists", region_id=region_id)
    data = {"region_id": region_id, "peers": {str(p.store_id): p.role for p in region.peers}}
    on_target, on_source = region.peer_on(target), region.peer_on(source)
    if on_target is None:
        return refuted(f"region {region_id} has no peer on store {target}", **data)
    if on_source is not None:
        return partly(
            f"region {region_id} has peers on both store {source} and store {target}; still moving", **data
        )
    return confirmed(f"region {region_id}'s peer moved from store {source} to store {target}", **data)


async def region_split(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id = int_param(params, "region_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return refuted(f"region {region_id} no longer exists", region_id=region_id)
    before_version = _fact(facts, "region", "version")
    before_range = (_fact(facts, "region", "start_key"), _fact(facts, "region", "end_key"))
    data = {
        "region_id": region_id,
        "version": [before_version, region.version],
        "range_before": list(before_range),
        "range_now": [region.start_key, region.end_key],
    }
    if not isinstance(before_version, int):
        return partly(
            f"region {region_id} is at version {region.version}; the version before is unknown", **data
        )
    if region.version > before_version and (region.start_key, region.end_key) != before_range:
        return confirmed(
            f"region {region_id} split: version {before_version} → {region.version}, range narrowed", **data
        )
    return refuted(f"region {region_id} did not split: its version and key range are unchanged", **data)


async def regions_merged(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    source_id, target_id = int_param(params, "source_region_id"), int_param(params, "target_region_id")
    source = await cluster.get_region(source_id)
    if source is not None:
        return refuted(f"region {source_id} still exists; it was not merged", source_region_id=source_id)
    target = await cluster.get_region(target_id)
    if target is None:
        return partly(
            f"region {source_id} is gone, but region {target_id} is gone too", target_region_id=target_id
        )
    return confirmed(
        f"region {source_id} merged into region {target_id}, which now covers "
        f"[{target.start_key or '-∞'}, {target.end_key or '+∞'})",
        target_region_id=target_id,
        range_now=[target.start_key, target.end_key],
    )


async def region_scattered(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id = int_param(params, "region_id")
    region = await cluster.get_region(region_id)
    if region is None:
        return refuted(f"region {region_id} no longer exists", region_id=region_id)
    peers = {str(p.store_id): p.role for p in region.peers}
    data = {"region_id": region_id, "peers": peers, "leader_store_id": region.leader_store_id}
    if peers == _fact(facts, "region", "peers") and region.leader_store_id == _fact(
        facts, "region", "leader_store_id"
    ):
        return partly(
            f"region {region_id}'s peers and leader did not move; PD found nothing to scatter", **data
        )
    return confirmed(
        f"region {region_id} now has peers on {stores_text({p.store_id for p in region.peers})}", **data
    )


async def operator_cancelled(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    region_id = int_param(params, "region_id")
    operator = await cluster.get_operator(region_id)
    if operator is not None and operator.outcome is OperatorOutcome.RUNNING:
        return refuted(
            f"region {region_id} still runs {operator.desc}", region_id=region_id, operator=operator.desc
        )
    ended = operator.outcome.value if operator is not None else "gone"
    return confirmed(f"no operator runs on region {region_id} (the last one: {ended})", region_id=region_id)


async def evicting_leaders(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    store_id = int_param(params, "store_id")
    evicting = await cluster.get_evict_leader_store_ids()
    if store_id not in evicting:
        return refuted(
            f"store {store_id} is not evicting leaders (no evict-leader on it)", evicting=sorted(evicting)
        )
    store = await cluster.get_store(store_id)
    leaders = store.leader_count if store is not None else 0
    data = {"store_id": store_id, "leader_count": leaders, "evicting": sorted(evicting)}
    if leaders:
        return partly(f"store {store_id} is evicting leaders; {leaders} still to move", **data)
    return confirmed(f"store {store_id} is evicting leaders and holds none", **data)


async def not_evicting_leaders(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    store_id = int_param(params, "store_id")
    evicting = await cluster.get_evict_leader_store_ids()
    if store_id in evicting:
        return refuted(f"store {store_id} is still evicting leaders", evicting=sorted(evicting))
    return confirmed(f"store {store_id} may hold leaders again", evicting=sorted(evicting))


async def scheduler_paused(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    name = str_param(params, "scheduler")
    paused = await cluster.get_paused_schedulers()
    if name in paused:
        return confirmed(f"{name} is paused", paused=sorted(paused))
    return refuted(f"{name} is not paused", paused=sorted(paused))


async def scheduler_resumed(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    name = str_param(params, "scheduler")
    paused = await cluster.get_paused_schedulers()
    if name in paused:
        return refuted(f"{name} is still paused", paused=sorted(paused))
    return confirmed(f"{name} is running again", paused=sorted(paused))


async def config_set(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    key = config_key(str_param(params, "key"))
    wanted = params.get("value")
    current = (await cluster.get_config()).get(key.name)
    data = {"key": key.name, "wanted": wanted, "current": current}
    if isinstance(wanted, int | float | str) and key.same(current, wanted):
        return confirmed(f"{key.name} is now {current}", **data)
    return refuted(f"{key.name} is {current}, not {wanted}", **data)


async def limit_set(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    store_id, rate = int_param(params, "store_id"), float_param(params, "rate")
    limit_type = params.get("limit_type")
    types = [limit_type] if isinstance(limit_type, str) and limit_type else ["add-peer", "remove-peer"]
    limits = (await cluster.get_store_limits()).get(store_id, {})
    data = {"store_id": store_id, "limits": limits, "wanted": rate}
    wrong = [t for t in types if limits.get(t) != rate]
    if wrong:
        return refuted(
            f"store {store_id}'s {' and '.join(wrong)} limit is "
            + ", ".join(str(limits.get(t)) for t in wrong)
            + f", not {number_text(rate)}",
            **data,
        )
    return confirmed(f"store {store_id}'s {' and '.join(types)} limit is {number_text(rate)}", **data)


async def _store_state(params: Params, cluster: Cluster, wanted: tuple[str, ...]) -> Verification:
    store_id = int_param(params, "store_id")
    store = await cluster.get_store(store_id)
    if store is None:
        return refuted(f"store {store_id} no longer exists", store_id=store_id)
    data = {"store_id": store_id, "state": store.state_name}
    if store.state_name in wanted:
        return confirmed(f"store {store_id} is {store.state_name}", **data)
    return refuted(f"store {store_id} is {store.state_name}, not {' or '.join(wanted)}", **data)


async def store_drained(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    # A drain is finished when PD buries the store (Tombstone); while it is Offline it is under way.
    store_id = int_param(params, "store_id")
    store = await cluster.get_store(store_id)
    if store is None:
        return confirmed(f"store {store_id} is gone from PD: drained and removed", store_id=store_id)
    data = {"store_id": store_id, "state": store.state_name, "region_count": store.region_count}
    if store.state_name == "Tombstone":
        return confirmed(f"store {store_id} is Tombstone: every region moved off it", **data)
    if store.state_name == "Offline":
        return refuted(
            f"store {store_id} is still Offline: {store.region_count} regions left to move off it", **data
        )
    return refuted(f"store {store_id} is {store.state_name}, not draining", **data)


async def store_back_up(params: Params, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    # PD shows Down or Disconnected for an Up store that misses heartbeats; its state is still Up.
    return await _store_state(params, cluster, ("Up", "Down", "Disconnected"))
