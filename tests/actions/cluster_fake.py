"""A small in-memory ``Cluster`` for preflight and verification tests: state a test can shape in one line.

It answers reads from plain dicts, records every read (so tests can bound them), and can be told to fail
a method with ``ClusterUnavailable`` the way an unreachable PD would. Writes are only recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from actions.errors import ClusterUnavailable
from actions.models import OperatorOutcome, PDRequest
from actions.ports import ClusterHealth, OperatorSnapshot, PeerSnapshot, RegionSnapshot, StoreSnapshot

GIB = 1 << 30
DEFAULT_SCHEDULERS = [
    "balance-leader-scheduler",
    "balance-region-scheduler",
    "balance-hot-region-scheduler",
    "evict-slow-store-scheduler",
]


class FakeCluster:
    """PD as a few dicts. ``fail`` names methods that raise ``ClusterUnavailable``."""

    def __init__(self) -> None:
        self.stores: dict[int, StoreSnapshot] = {}
        self.regions: dict[int, RegionSnapshot] = {}
        self.operators: dict[int, OperatorSnapshot] = {}
        self.schedulers: list[str] = list(DEFAULT_SCHEDULERS)
        self.paused: list[str] = []
        self.evicting: list[int] = []
        self.config: dict[str, Any] = {
            "max-replicas": 3,
            "low-space-ratio": 0.8,
            "high-space-ratio": 0.7,
            "leader-schedule-limit": 4,
            "region-schedule-limit": 2048,
            "max-store-down-time": "30m0s",
            "enable-tikv-split-region": "true",
        }
        self.limits: dict[int, dict[str, float]] = {}
        self.hot: set[int] = set()
        self.reject_leader: set[tuple[str, str]] = set()  # PD's label-property reject-leader labels
        self.pd_health = ClusterHealth(leader="pd-1", members=3, healthy_members=3)
        self.fail: set[str] = set()
        self.reads: list[tuple[str, Any]] = []
        self.sent: list[tuple[PDRequest, str]] = []

    # --- shaping the cluster ------------------------------------------------------------------------

    def put_store(
        self,
        store_id: int,
        state: str = "Up",
        *,
        capacity_gib: int = 1000,
        available_gib: float = 600,
        leaders: int = 10,
        regions: int = 30,
    ) -> StoreSnapshot:
        store = StoreSnapshot(
            id=store_id,
            address=f"tikv-{store_id}:20160",
            state_name=state,
            capacity_bytes=capacity_gib * GIB,
            available_bytes=int(available_gib * GIB),
            leader_count=leaders,
            region_count=regions,
        )
        self.stores[store_id] = store
        self.limits[store_id] = {"add-peer": 15.0, "remove-peer": 15.0}
        return store

    def set_store(self, store_id: int, **changes: Any) -> None:
        self.stores[store_id] = dataclasses.replace(self.stores[store_id], **changes)

    def put_region(
        self,
        region_id: int,
        start_key: str,
        end_key: str,
        peers: Iterable[int | tuple[int, str]],
        *,
        leader: int | None = None,
        down: Iterable[int] = (),
        pending: Iterable[int] = (),
        version: int = 5,
        conf_ver: int = 3,
        size_mib: int = 96,
    ) -> RegionSnapshot:
        snapshots = []
        for index, peer in enumerate(peers):
            store_id, role = peer if isinstance(peer, tuple) else (peer, "Voter")
            snapshots.append(PeerSnapshot(id=region_id * 100 + index, store_id=store_id, role=role))
        region = RegionSnapshot(
            id=region_id,
            start_key=start_key,
            end_key=end_key,
            conf_ver=conf_ver,
            version=version,
            peers=tuple(snapshots),
            leader_store_id=(leader or None)
            if leader is not None
            else (snapshots[0].store_id if snapshots else None),
            down_peer_store_ids=tuple(down),
            pending_peer_store_ids=tuple(pending),
            approximate_size_mib=size_mib,
        )
        self.regions[region_id] = region
        return region

    def set_region(self, region_id: int, **changes: Any) -> None:
        self.regions[region_id] = dataclasses.replace(self.regions[region_id], **changes)

    def set_role(self, region_id: int, store_id: int, role: str) -> None:
        region = self.regions[region_id]
        peers = tuple(
            dataclasses.replace(p, role=role) if p.store_id == store_id else p for p in region.peers
        )
        self.set_region(region_id, peers=peers)

    def put_operator(self, region_id: int, outcome: OperatorOutcome, desc: str = "admin-add-peer") -> None:
        self.operators[region_id] = OperatorSnapshot(
            region_id=region_id, outcome=outcome, desc=desc, brief="add peer: store [4]"
        )

    # --- the Cluster port ---------------------------------------------------------------------------

    def _read(self, method: str, arg: Any = None) -> None:
        self.reads.append((method, arg))
        if method in self.fail:
            raise ClusterUnavailable(f"could not connect to http://pd-1:2379 ({method})")

    async def health(self) -> ClusterHealth:
        self._read("health")
        return self.pd_health

    async def get_stores(self) -> list[StoreSnapshot]:
        self._read("get_stores")
        return [s for s in self.stores.values() if s.state_name != "Tombstone"]

    async def get_store(self, store_id: int) -> StoreSnapshot | None:
        self._read("get_store", store_id)
        return self.stores.get(store_id)

    async def get_region(self, region_id: int) -> RegionSnapshot | None:
        self._read("get_region", region_id)
        return self.regions.get(region_id)

    async def get_operator(self, region_id: int) -> OperatorSnapshot | None:
        self._read("get_operator", region_id)
        return self.operators.get(region_id)

    async def get_schedulers(self) -> list[str]:
        self._read("get_schedulers")
        names = list(self.schedulers)
        if self.evicting and "evict-leader-scheduler" not in names:
            names.append("evict-leader-scheduler")
        return names

    async def get_paused_schedulers(self) -> list[str]:
        self._read("get_paused_schedulers")
        return list(self.paused)

    async def get_evict_leader_store_ids(self) -> list[int]:
        self._read("get_evict_leader_store_ids")
        return sorted(self.evicting)

    async def get_config(self) -> dict[str, Any]:
        self._read("get_config")
        return dict(self.config)

    async def get_store_limits(self) -> dict[int, dict[str, float]]:
        self._read("get_store_limits")
        return {k: dict(v) for k, v in self.limits.items()}

    async def get_reject_leader_labels(self) -> set[tuple[str, str]]:
        self._read("get_reject_leader_labels")
        return set(self.reject_leader)

    async def get_hot_region_ids(self) -> set[int]:
        self._read("get_hot_region_ids")
        return set(self.hot)

    async def get_degraded_region_ids(self) -> set[int]:
        self._read("get_degraded_region_ids")
        replicas = int(self.config.get("max-replicas", 3))
        return {
            r.id
            for r in self.regions.values()
            if r.down_peer_store_ids or sum(1 for p in r.peers if p.is_voter) < replicas
        }

    async def send(self, request: PDRequest, *, caller_id: str) -> Any:
        self.sent.append((request, caller_id))
        return "The operator is created."


def standard_cluster() -> FakeCluster:
    """Five Up stores; regions 12 and 13 are neighbours on stores 1-3, region 14 lies elsewhere."""
    cluster = FakeCluster()
    for store_id in range(1, 6):
        cluster.put_store(store_id)
    cluster.put_region(12, "7480000000000000FF0A", "7480000000000000FF14", [1, 2, 3], leader=1)
    cluster.put_region(13, "7480000000000000FF14", "7480000000000000FF1E", [1, 2, 3], leader=2)
    cluster.put_region(14, "7480000000000000FF50", "7480000000000000FF5A", [2, 3, 4], leader=4)
    return cluster
