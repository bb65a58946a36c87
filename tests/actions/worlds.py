"""One cluster shape, two backends: the hand-written ``FakeCluster``, or the PD simulator over real HTTP.

Preflight tests describe a cluster with ``World`` verbs (a store goes Down, a region gets a pending peer,
store 4 evicts leaders…). ``FakeWorld`` applies them to dicts; ``SimulatorWorld`` applies them to the
simulator's ``ClusterModel`` and reads it back through ``PDClient`` and ``PDCluster``, so the checks see
PD's real answers: JSON shapes, status codes, error texts.

Both start from the same cluster: five Up stores of 1000 GiB with 600 GiB free; regions 12 and 13 are
neighbours with voters on stores 1-3 (leaders on 1 and 2), region 14 lies elsewhere on stores 2-4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import httpx
from cluster_fake import GIB, FakeCluster, standard_cluster

from actions.models import OperatorOutcome
from actions.ports import Cluster, ClusterHealth
from pd.client import PDClient
from pd.cluster import PDCluster
from pd.simulator import ClusterModel, ManualClock, SimulatorServer
from pd.simulator.operators import OpStatus
from pd.simulator.topology import ROLE_NAMES, Peer, Region

REGIONS = {
    12: ("7480000000000000FF0A", "7480000000000000FF14", [1, 2, 3], 1),
    13: ("7480000000000000FF14", "7480000000000000FF1E", [1, 2, 3], 2),
    14: ("7480000000000000FF50", "7480000000000000FF5A", [2, 3, 4], 4),
}


class World(Protocol):
    """A cluster a test can shape, and the ``Cluster`` port that reads it."""

    cluster: Cluster

    def store_state(self, store_id: int, state: str) -> None:
        """Up, Offline, Tombstone, Down (no heartbeat for an hour) or Disconnected (30 s)."""

    def store_space(self, store_id: int, available_gib: float) -> None: ...

    def region(
        self,
        region_id: int,
        peers: Sequence[int],
        *,
        leader: int | None = None,
        down: Sequence[int] = (),
        pending: Sequence[int] = (),
    ) -> None:
        """Voters on ``peers``; ``leader`` 0 means no leader, None keeps it (or takes the first peer)."""

    def role(self, region_id: int, store_id: int, role: str) -> None: ...

    def operator(self, region_id: int, outcome: OperatorOutcome) -> None:
        """An admin operator on the region, RUNNING or finished with SUCCESS."""

    def evict(self, *store_ids: int) -> None: ...

    def pause(self, scheduler: str) -> None: ...

    def store_limit(self, store_id: int, add_peer: float, remove_peer: float) -> None: ...

    def no_pd_leader(self) -> None: ...

    def pd_members_down(self, count: int) -> None: ...

    def unreachable(self) -> None: ...


class FakeWorld:
    """``World`` over ``FakeCluster``."""

    def __init__(self) -> None:
        self.fake: FakeCluster = standard_cluster()
        self.cluster: Cluster = self.fake

    def store_state(self, store_id: int, state: str) -> None:
        self.fake.set_store(store_id, state_name=state)

    def store_space(self, store_id: int, available_gib: float) -> None:
        self.fake.set_store(store_id, available_bytes=int(available_gib * GIB))

    def region(
        self,
        region_id: int,
        peers: Sequence[int],
        *,
        leader: int | None = None,
        down: Sequence[int] = (),
        pending: Sequence[int] = (),
    ) -> None:
        old = self.fake.regions[region_id]
        if leader is None and old.leader_store_id in peers:
            leader = old.leader_store_id
        self.fake.put_region(
            region_id, old.start_key, old.end_key, peers, leader=leader, down=down, pending=pending
        )

    def role(self, region_id: int, store_id: int, role: str) -> None:
        self.fake.set_role(region_id, store_id, role)

    def operator(self, region_id: int, outcome: OperatorOutcome) -> None:
        self.fake.put_operator(region_id, outcome, "admin-transfer-leader")

    def evict(self, *store_ids: int) -> None:
        self.fake.evicting = list(store_ids)

    def pause(self, scheduler: str) -> None:
        self.fake.paused.append(scheduler)

    def store_limit(self, store_id: int, add_peer: float, remove_peer: float) -> None:
        self.fake.limits[store_id] = {"add-peer": add_peer, "remove-peer": remove_peer}

    def no_pd_leader(self) -> None:
        self.fake.pd_health = ClusterHealth(leader=None, members=3, healthy_members=3)

    def pd_members_down(self, count: int) -> None:
        self.fake.pd_health = ClusterHealth(leader="pd-1", members=3, healthy_members=3 - count)

    def unreachable(self) -> None:
        self.fake.fail.update({"health", "get_store", "get_stores", "get_region", "get_operator"})


async def _no_sleep(seconds: float) -> None:
    return None


class SimulatorWorld:
    """``World`` over the PD simulator, read through ``PDClient`` and ``PDCluster`` over HTTP."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.model = ClusterModel(clock=self.clock, step_delay=0.5)
        for store_id in range(1, 6):
            self.model.add_store(store_id=store_id, capacity=1000 * GIB)
            self.model.set_store_capacity(store_id, capacity=1000 * GIB, available=600 * GIB)
        for region_id, (start, end, stores, leader) in REGIONS.items():
            peers = [Peer(region_id * 100 + i, store_id) for i, store_id in enumerate(stores)]
            region = Region(region_id, start, end, conf_ver=3, version=5, peers=peers)
            region.leader = next(p for p in peers if p.store_id == leader)
            self.model.insert_region(region)
            self.model.set_region_size(region_id, size_mib=96)
        self.server = SimulatorServer(self.model, tick_interval=None)
        self.http = httpx.AsyncClient()

    cluster: Cluster

    async def start(self) -> SimulatorWorld:
        await self.server.start()
        self.cluster = PDCluster(PDClient(self.http, [self.server.url], sleep=_no_sleep))
        return self

    async def close(self) -> None:
        await self.http.aclose()
        await self.server.close()

    def store_state(self, store_id: int, state: str) -> None:
        if state == "Down":
            self.model.fail_store(store_id)
        elif state == "Disconnected":
            self.model.set_store_heartbeat_age(store_id, 30)
        else:
            self.model.set_store_state(store_id, state)

    def store_space(self, store_id: int, available_gib: float) -> None:
        self.model.set_store_capacity(store_id, capacity=1000 * GIB, available=int(available_gib * GIB))

    def region(
        self,
        region_id: int,
        peers: Sequence[int],
        *,
        leader: int | None = None,
        down: Sequence[int] = (),
        pending: Sequence[int] = (),
    ) -> None:
        model = self.model
        region = model.region(region_id)
        model.clear_unhealthy_peers(region_id)
        for store_id in peers:
            if region.peer_on(store_id) is None:
                model.add_peer(region_id, store_id)
        current = region.leader.store_id if region.leader is not None else None
        wanted = leader if leader is not None else (current if current in peers else peers[0])
        if wanted:
            model.set_leader(region_id, wanted)
        for peer in list(region.peers):
            if peer.store_id not in peers:
                model.remove_peer(region_id, peer.store_id)
        if leader == 0:
            with model.changing(region):
                region.leader = None
        for store_id in down:
            model.add_down_peer(region_id, store_id)
        for store_id in pending:
            model.add_pending_peer(region_id, store_id)

    def role(self, region_id: int, store_id: int, role: str) -> None:
        self.model.set_peer_role(region_id, store_id, ROLE_NAMES.index(role))

    def operator(self, region_id: int, outcome: OperatorOutcome) -> None:
        region = self.model.region(region_id)
        target = next(p.store_id for p in region.peers if p is not region.leader and not p.is_learner)
        op = self.model.operators.transfer_leader(region_id, target)
        if outcome is OperatorOutcome.SUCCESS:
            while op.status is not OpStatus.SUCCESS:
                self.clock.advance(1.0)
                self.model.advance()

    def evict(self, *store_ids: int) -> None:
        first, *rest = store_ids
        self.model.schedulers.create("evict-leader-scheduler", store_id=first)
        for store_id in rest:
            self.model.schedulers.add_store("evict-leader-scheduler", store_id)

    def pause(self, scheduler: str) -> None:
        self.model.schedulers.pause(scheduler, 600)

    def store_limit(self, store_id: int, add_peer: float, remove_peer: float) -> None:
        self.model.config.set_store_limit(store_id, "add-peer", add_peer)
        self.model.config.set_store_limit(store_id, "remove-peer", remove_peer)

    def no_pd_leader(self) -> None:
        self.server.faults.no_leader = True

    def pd_members_down(self, count: int) -> None:
        for member in self.model.members[-count:]:
            self.model.set_member_alive(member.name, False)

    def unreachable(self) -> None:
        for member in self.model.members:
            self.server.faults.member_down(member.name)
