"""``PDObserver``: the agent's read port (``actions.observe.ClusterObserver``) over ``PDClient``.

Each method is one PD request, counted in ``requests_made`` (``schedulers`` adds the evict-leader
scheduler's store list only when that scheduler runs). PD's models become the domain's snapshots,
and ``PDError``s become ``actions.errors.ClusterError``s (``pd.calls.PDCalls``), so the agent never sees
this package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from actions.observe import HotKind, HotRegion, RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import RegionSnapshot, StoreSnapshot
from pd import paths
from pd.calls import PDCalls
from pd.client import PDClient
from pd.convert import region_snapshot, store_snapshot
from pd.models import HotPeerStat, ReplicationConfig, ScheduleConfig, StoreHotPeersInfos

AGENT_CALLER_ID = "tikv-chatops/agent"


def hot_regions(infos: StoreHotPeersInfos) -> list[HotRegion]:
    """One entry per region, hottest first: the leader's statistics, else the busiest peer's.

    PD lists a hot region once per store holding a hot peer (``as_peer``) and once more under its
    leader's store (``as_leader``); the leader's view is the one balancing cares about.
    """
    best: dict[int, HotPeerStat] = {}

    def consider(stats: Iterable[HotPeerStat]) -> None:
        for stat in stats:
            seen = best.get(stat.region_id)
            if seen is None or (stat.is_leader, stat.flow_bytes) > (seen.is_leader, seen.flow_bytes):
                best[stat.region_id] = stat

    for peers in infos.as_leader.values():
        consider(peers.statistics)
    for peers in infos.as_peer.values():
        consider(peers.statistics)
    regions = [
        HotRegion(
            region_id=s.region_id,
            leader_store_id=s.store_id if s.is_leader else None,
            store_ids=tuple(s.stores) or (s.store_id,),
            hot_degree=s.hot_degree,
            flow_bytes=s.flow_bytes,
            flow_keys=s.flow_keys,
            flow_query=s.flow_query,
        )
        for s in best.values()
    ]
    return sorted(regions, key=lambda h: (-h.flow_bytes, h.region_id))


class PDObserver:
    """Bounded reads of PD for the agent; implements ``actions.observe.ClusterObserver``."""

    def __init__(self, client: PDClient, *, caller_id: str = AGENT_CALLER_ID) -> None:
        self._client = client
        self._caller_id = caller_id
        self._pd = PDCalls()

    @property
    def requests_made(self) -> int:
        """PD requests sent through this observer so far (a read retried by the client counts once)."""
        return self._pd.requests_made

    async def stores(self) -> list[StoreSnapshot]:
        info = await self._pd.call(lambda: self._client.get_stores(caller_id=self._caller_id))
        return [store_snapshot(s) for s in info.stores]

    async def hot_regions(self, kind: HotKind) -> list[HotRegion]:
        if kind is HotKind.WRITE:
            infos = await self._pd.call(lambda: self._client.get_hot_write_regions(caller_id=self._caller_id))
        else:
            infos = await self._pd.call(lambda: self._client.get_hot_read_regions(caller_id=self._caller_id))
        return hot_regions(infos)

    async def regions_check(self, check: RegionCheck) -> list[RegionSnapshot]:
        info = await self._pd.call(
            lambda: self._client.get_regions_check(check.value, caller_id=self._caller_id)
        )
        return [region_snapshot(r) for r in info.regions]

    async def top_regions_by_size(self, limit: int) -> list[RegionSnapshot]:
        info = await self._pd.call(
            lambda: self._client.get_top_regions("size", limit, caller_id=self._caller_id)
        )
        return [region_snapshot(r) for r in info.regions]

    async def top_regions_by_flow(self, kind: HotKind, limit: int) -> list[RegionSnapshot]:
        which = "writeflow" if kind is HotKind.WRITE else "readflow"
        info = await self._pd.call(
            lambda: self._client.get_top_regions(which, limit, caller_id=self._caller_id)
        )
        return [region_snapshot(r) for r in info.regions]

    async def schedulers(self) -> SchedulerState:
        names, paused = await asyncio.gather(
            self._pd.call(lambda: self._client.get_schedulers(caller_id=self._caller_id)),
            self._pd.call(lambda: self._client.get_schedulers("paused", caller_id=self._caller_id)),
        )
        evicted: tuple[int, ...] = ()
        if paths.EVICT_LEADER_SCHEDULER in names:
            config = await self._pd.call(
                lambda: self._client.get_evict_leader_stores(caller_id=self._caller_id)
            )
            evicted = config.store_ids
        return SchedulerState(
            names=tuple(sorted(names)), evict_leader_store_ids=evicted, paused=tuple(sorted(paused))
        )

    async def _schedule_config(self) -> ScheduleConfig:
        return await self._pd.call(lambda: self._client.get_schedule_config(caller_id=self._caller_id))

    async def _replicate_config(self) -> ReplicationConfig:
        return await self._pd.call(lambda: self._client.get_replicate_config(caller_id=self._caller_id))

    async def schedule_settings(self) -> ScheduleSettings:
        # Each request is made inside its task (see PDCluster.health).
        schedule, replication = await asyncio.gather(self._schedule_config(), self._replicate_config())
        return ScheduleSettings(
            max_replicas=replication.max_replicas,
            low_space_ratio=schedule.low_space_ratio,
            high_space_ratio=schedule.high_space_ratio,
            max_store_down_time=schedule.max_store_down_time,
            halt_scheduling=schedule.halt_scheduling,
            schedule_limits={
                "leader-schedule-limit": schedule.leader_schedule_limit,
                "region-schedule-limit": schedule.region_schedule_limit,
                "replica-schedule-limit": schedule.replica_schedule_limit,
                "hot-region-schedule-limit": schedule.hot_region_schedule_limit,
            },
            store_limits={
                store_id: {"add-peer": limit.add_peer, "remove-peer": limit.remove_peer}
                for store_id, limit in schedule.store_limit.items()
            },
            raw={**schedule.raw, **replication.raw},
        )
