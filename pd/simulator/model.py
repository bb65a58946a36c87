"""The in-memory cluster PD describes: stores, regions, members, config, operators, schedulers.

``ClusterModel`` owns every record and keeps the derived state consistent on each change:
per-store counters (leader/region counts and sizes, learners, pending peers, flows), the
per-store sets of region ids, the sorted start-key index used for key lookups, and the sets
of regions with down or pending peers and of hot regions. Endpoints therefore answer from
counters and indexes; only endpoints that by nature list regions walk them.

Tests build topologies with the mutators below (all raise ``TopologyError`` for unknown ids)
and drive time with an injected clock; ``tick()`` runs PD's background behaviour.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pd.simulator.clock import Clock, ManualClock, SystemClock
from pd.simulator.config import UNLIMITED_RATE, PDConfig
from pd.simulator.errors import TopologyError
from pd.simulator.gofmt import seconds_to_ns
from pd.simulator.keys import end_before, is_hex_key, middle_key
from pd.simulator.topology import (
    DISCONNECT_AFTER,
    HEARTBEAT_INTERVAL,
    LEARNER,
    OFFLINE,
    REGION_HEARTBEAT_INTERVAL,
    STATE_NAMES,
    TOMBSTONE,
    UNHEALTHY_AFTER,
    UP,
    VOTER,
    Member,
    Peer,
    Region,
    Store,
)

if TYPE_CHECKING:
    from pd.simulator.operators import OperatorController
    from pd.simulator.schedulers import SchedulerController

PD_VERSION = "v9.0.0-beta.2"
PD_GIT_HASH = "a186e0cc61def1408fc57ae7b3d1044a572c8ae3"
TIKV_VERSION = "8.5.2"
TIKV_GIT_HASH = "d1b7a3f0c8e94b1f2a6c5e3d7b9f0a1c2e4d6f80"
MIB = 1024 * 1024
GIB = 1024 * MIB
TIB = 1024 * GIB

# PD's minimum hot thresholds (statistics.MinHotThresholds), per second.
HOT_BYTES_PER_SECOND = 8 * 1024
HOT_KEYS_PER_SECOND = 128
HOT_QUERY_PER_SECOND = 128
_COUNTERS = (
    "leader_count",
    "region_count",
    "leader_size",
    "region_size",
    "learner_count",
    "pending_peer_count",
)


def _is_hot(byte_count: int, key_count: int, query_count: int) -> bool:
    interval = REGION_HEARTBEAT_INTERVAL
    return (
        byte_count / interval >= HOT_BYTES_PER_SECOND
        or key_count / interval >= HOT_KEYS_PER_SECOND
        or query_count / interval >= HOT_QUERY_PER_SECOND
    )


class ClusterModel:
    """An in-memory TiKV cluster as PD sees it; the one source of truth behind the simulator."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 1,
        step_delay: float = 0.5,
        members: int = 3,
        location_labels: Iterable[str] = ("zone", "host"),
    ) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.seed = seed
        self.rng = random.Random(seed)
        self.step_delay = step_delay
        # How many peers of Offline stores the rule checker starts replacing per minute (PD's store
        # limit paces a real drain); None: as many as replica-schedule-limit allows, at once.
        self.drain_per_minute: float | None = None
        self.config = PDConfig(location_labels=location_labels)
        self.cluster_id = 7_000_000_000_000_000_000 + self.rng.randrange(10**17, 10**18)
        self.created_at = self.clock.now()
        # PD prints a monotonic-clock suffix on times; pretend the process has run for a day.
        self.monotonic_offset = 86_400.0
        self.bootstrap_time = self.created_at - 31 * 3600
        self.stores: dict[int, Store] = {}
        self.regions: dict[int, Region] = {}
        self._starts: list[str] = []
        self._start_ids: dict[str, int] = {}
        self.down_peer_regions: set[int] = set()
        self.pending_peer_regions: set[int] = set()
        self.hot_write_regions: set[int] = set()
        self.hot_read_regions: set[int] = set()
        self._next_id = 1
        self.members: list[Member] = []
        self.leader_name: str | None = None
        self.checker_paused_until: dict[str, float] = {}
        self._saved_remove_limits: dict[int, float] = {}  # remove-peer rate before a store went Offline
        for i in range(members):
            self._add_member(i)
        if self.members:
            self.leader_name = self.members[0].name

        from pd.simulator.operators import OperatorController
        from pd.simulator.schedulers import SchedulerController

        self.operators: OperatorController = OperatorController(self)
        self.schedulers: SchedulerController = SchedulerController(self)

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        stores: int = 5,
        regions: int = 1000,
        seed: int = 1,
        *,
        clock: Clock | None = None,
        step_delay: float = 0.5,
        members: int = 3,
        replicas: int = 3,
        zones: int = 3,
        hot_fraction: float = 0.01,
        first_id: int = 0,
    ) -> ClusterModel:
        """Build a bootstrapped cluster, identical for identical arguments (and the same clock start);
        ``first_id`` moves where region and peer ids start."""
        from pd.simulator.generate import populate

        model = cls(clock=clock, seed=seed, step_delay=step_delay, members=members)
        populate(
            model,
            stores=stores,
            regions=regions,
            replicas=replicas,
            zones=zones,
            hot_fraction=hot_fraction,
            first_id=first_id,
        )
        return model

    @classmethod
    def manual(
        cls, stores: int = 5, regions: int = 100, seed: int = 1, *, step_delay: float = 0.02, members: int = 3
    ) -> ClusterModel:
        """``generate`` on a ``ManualClock`` with a short step delay: the usual unit-test setup."""
        return cls.generate(
            stores, regions, seed, clock=ManualClock(), step_delay=step_delay, members=members
        )

    def _add_member(self, index: int) -> None:
        name = f"pd-{index + 1}"
        member_id = self.rng.randrange(2**60, 2**64)
        port = 2379 + 2 * index
        self.members.append(
            Member(
                name=name,
                member_id=member_id,
                client_urls=[f"http://127.0.0.1:{port}"],
                peer_urls=[f"http://127.0.0.1:{port + 1}"],
                deploy_path="/tidb-deploy/pd-2379/bin",
                binary_version=PD_VERSION,
                git_hash=PD_GIT_HASH,
            )
        )

    def alloc_id(self) -> int:
        """Allocate the next id from the one allocator PD uses for stores, regions and peers."""
        value = self._next_id
        self._next_id += 1
        return value

    def reserve_ids(self, up_to: int) -> None:
        """Make sure the allocator never hands out an id ``<= up_to``."""
        self._next_id = max(self._next_id, up_to + 1)

    # -- time ------------------------------------------------------------------------------------------

    def now(self) -> float:
        """The model's clock, in Unix seconds."""
        return self.clock.now()

    def monotonic_ns(self, when: float) -> int:
        """PD's monotonic clock reading at wall time ``when``, in ns (for the ``m=+…`` suffix)."""
        return seconds_to_ns(when) - seconds_to_ns(self.created_at) + seconds_to_ns(self.monotonic_offset)

    @property
    def bootstrapped(self) -> bool:
        """PD's cluster exists once a TiKV store has joined."""
        return bool(self.stores)

    # -- members ---------------------------------------------------------------------------------

    def member(self, name: str) -> Member:
        """The PD member called ``name``."""
        for member in self.members:
            if member.name == name:
                return member
        raise TopologyError(f"no PD member named {name!r}")

    @property
    def leader_member(self) -> Member | None:
        """The PD leader, or None while there is none."""
        return None if self.leader_name is None else self.member(self.leader_name)

    def set_pd_leader(self, name: str | None) -> None:
        """Make ``name`` the PD leader (None: no leader, as during an election)."""
        if name is not None and not self.member(name).alive:
            raise TopologyError(f"PD member {name} is down and cannot lead")
        self.leader_name = name

    def set_member_alive(self, name: str, alive: bool) -> None:
        """Mark a PD member up or down; a dead leader is replaced by the first live member."""
        self.member(name).alive = alive
        if not alive and self.leader_name == name:
            self.leader_name = next((m.name for m in self.members if m.alive), None)
        elif alive and self.leader_name is None:
            self.leader_name = name

    # -- stores ----------------------------------------------------------------------------------------

    def store(self, store_id: int) -> Store:
        """The store with id ``store_id``."""
        store = self.stores.get(store_id)
        if store is None:
            raise TopologyError(f"no store {store_id}")
        return store

    def add_store(
        self,
        *,
        store_id: int | None = None,
        labels: dict[str, str] | None = None,
        capacity: int = TIB,
        address: str | None = None,
        version: str = TIKV_VERSION,
        started_ago: float = 31 * 3600.0,
    ) -> Store:
        """Add an Up, heartbeating store with no regions; returns it."""
        if store_id is None:
            store_id = self.alloc_id()
        elif store_id in self.stores:
            raise TopologyError(f"store {store_id} already exists")
        self.reserve_ids(store_id)
        host = f"10.0.{2 + store_id // 250}.{store_id % 250 or 250}"
        address = address if address is not None else f"{host}:20160"
        store_labels = (
            labels
            if labels is not None
            else {"zone": f"z{(store_id - 1) % 3 + 1}", "host": f"tikv-{store_id}"}
        )
        now = self.now()
        store = Store(
            id=store_id,
            address=address,
            labels=list(store_labels.items()),
            version=version,
            peer_address=address,
            status_address=address.rsplit(":", 1)[0] + ":20180",
            git_hash=TIKV_GIT_HASH,
            start_timestamp=math.floor(now - started_ago),
            deploy_path="/tidb-deploy/tikv-20160/bin",
            capacity=capacity,
            reserved_bytes=int(capacity * 0.02),
            heartbeat_phase=(store_id * 1.7) % HEARTBEAT_INTERVAL,
        )
        self.stores[store_id] = store
        self.config.add_store_limit(store_id)
        return store

    def last_heartbeat(self, store: Store) -> float:
        """When the store last heartbeated: every 10 s while alive, frozen once it stopped."""
        if store.heartbeat_stopped_at is not None:
            return store.heartbeat_stopped_at
        now = self.now()
        return now - ((now - store.heartbeat_phase) % HEARTBEAT_INTERVAL)

    def down_time(self, store: Store) -> float:
        """Seconds since the last heartbeat (PD's ``DownTime``)."""
        return max(0.0, self.now() - self.last_heartbeat(store))

    def state_name(self, store: Store) -> str:
        """PD's ``state_name``: Up/Offline/Tombstone, or Down/Disconnected for a silent Up store."""
        if store.state != UP:
            return STATE_NAMES[store.state]
        down = self.down_time(store)
        if down > self.config.max_store_down_time:
            return "Down"
        if down > DISCONNECT_AFTER:
            return "Disconnected"
        return "Up"

    def is_disconnected(self, store: Store) -> bool:
        """No heartbeat for more than 20 s."""
        return self.down_time(store) > DISCONNECT_AFTER

    def is_down(self, store: Store) -> bool:
        """No heartbeat for more than ``max-store-down-time``."""
        return self.down_time(store) > self.config.max_store_down_time

    def is_unhealthy(self, store: Store) -> bool:
        """No heartbeat for more than 10 minutes (PD's ``IsUnhealthy``)."""
        return self.down_time(store) > UNHEALTHY_AFTER

    def allows_leader_in(self, store: Store) -> bool:
        """PD's leader-target store filter: Up, connected, not busy, not evicted, not label-rejected."""
        return (
            store.state == UP
            and not self.is_disconnected(store)
            and not store.busy
            and not self.schedulers.leader_in_paused(store.id)
            and not self.config.label_property_matches("reject-leader", store.labels)
        )

    def used_size(self, store: Store) -> int:
        """Bytes used: the replicas it holds plus a fixed overhead."""
        return store.region_size * MIB + store.reserved_bytes

    def available(self, store: Store) -> int:
        """Bytes available (an override set by a test wins)."""
        if store.available_override is not None:
            return store.available_override
        return max(0, store.capacity - self.used_size(store))

    def up_store_count(self) -> int:
        """Stores in state Up (Down and Disconnected ones included, as in PD's check)."""
        return sum(1 for s in self.stores.values() if s.state == UP and not s.physically_destroyed)

    def set_store_heartbeat_age(self, store_id: int, seconds: float) -> None:
        """Stop the store's heartbeats as of ``seconds`` ago (>20 s Disconnected, >30 min Down)."""
        self.store(store_id).heartbeat_stopped_at = self.now() - seconds

    def resume_store_heartbeat(self, store_id: int) -> None:
        """The store heartbeats again."""
        self.store(store_id).heartbeat_stopped_at = None

    def fail_store(self, store_id: int, *, down_for: float = 3600.0) -> int:
        """Crash a store ``down_for`` seconds ago: heartbeats stop, its peers are reported down,
        and its leaders move to a healthy voter (Raft re-election). Returns leaders moved."""
        store = self.store(store_id)
        since = self.now() - down_for
        store.heartbeat_stopped_at = since
        moved = 0
        for region_id in sorted(store.region_ids):
            region = self.regions[region_id]
            peer = region.peer_on(store_id)
            if peer is None:
                continue
            with self.changing(region):
                if region.down_peers is None:
                    region.down_peers = {}
                region.down_peers[peer.id] = since
                if region.leader is peer:
                    successor = self._healthy_successor(region, exclude=store_id)
                    region.leader = successor
                    moved += successor is not None
        return moved

    def recover_store(self, store_id: int) -> None:
        """Undo ``fail_store``: heartbeats resume and the store's peers are no longer down."""
        store = self.store(store_id)
        store.heartbeat_stopped_at = None
        for region_id in sorted(store.region_ids):
            region = self.regions[region_id]
            peer = region.peer_on(store_id)
            if peer is None or not region.down_peers or peer.id not in region.down_peers:
                continue
            with self.changing(region):
                del region.down_peers[peer.id]
                if region.leader is None:
                    region.leader = self._healthy_successor(region, exclude=0)

    def _healthy_successor(self, region: Region, exclude: int) -> Peer | None:
        unhealthy = region.unhealthy_peer_ids()
        candidates = [
            p
            for p in region.peers
            if p.store_id != exclude
            and p.role == VOTER
            and p.id not in unhealthy
            and not self.is_disconnected(self.stores[p.store_id])
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda p: (self.stores[p.store_id].leader_count, p.store_id))

    def set_store_state(self, store_id: int, state: str) -> None:
        """Set ``Up``, ``Offline`` or ``Tombstone`` directly, without PD's checks."""
        store = self.store(store_id)
        if state not in STATE_NAMES:
            raise TopologyError(f"unknown store state {state!r}")
        new = STATE_NAMES.index(state)
        if new == OFFLINE and store.state != OFFLINE:
            store.removing_start_size = max(store.region_size, 1)
            store.removing_started_at = self.now()
        if new == TOMBSTONE and store.heartbeat_stopped_at is None:
            store.heartbeat_stopped_at = self.last_heartbeat(store)
        store.state = new

    def set_store_labels(self, store_id: int, labels: dict[str, str]) -> None:
        """Replace the store's labels."""
        self.store(store_id).labels = list(labels.items())

    def set_store_capacity(self, store_id: int, *, capacity: int, available: int | None = None) -> None:
        """Set capacity in bytes and, optionally, a fixed available byte count."""
        store = self.store(store_id)
        store.capacity = capacity
        store.available_override = available

    def set_store_weight(self, store_id: int, *, leader: float = 1.0, region: float = 1.0) -> None:
        """Set the store's leader and region weights."""
        store = self.store(store_id)
        store.leader_weight = leader
        store.region_weight = region

    def set_witness(self, region_id: int, store_id: int, witness: bool = True) -> None:
        """Make the region's peer on ``store_id`` a witness (or a full copy again)."""
        peer = self.region(region_id).peer_on(store_id)
        if peer is None:
            raise TopologyError(f"region {region_id} has no peer on store {store_id}")
        peer.is_witness = witness

    def set_store_busy(self, store_id: int, busy: bool = True) -> None:
        """Mark the store busy (it refuses leaders while busy)."""
        self.store(store_id).busy = busy

    def set_store_slow_score(self, store_id: int, score: int) -> None:
        """Set the slow score TiKV reports (1 = healthy, 100 = very slow)."""
        self.store(store_id).slow_score = score

    def remove_tombstones(self) -> list[int]:
        """``DELETE /stores/remove-tombstone``: forget tombstone stores that hold no peers."""
        gone = [s.id for s in self.stores.values() if s.state == TOMBSTONE and not s.region_ids]
        for store_id in gone:
            del self.stores[store_id]
            self.config.store_limits.pop(store_id, None)
        return gone

    # -- PD store state changes (the checks PD makes) ----------------------------------------

    def offline_store(self, store_id: int, *, physically_destroyed: bool = False) -> None:
        """``RemoveStore``: set Offline, after PD's checks (PDFailure on refusal)."""
        from pd.simulator.errors import failure

        store = self.stores.get(store_id)
        if store is None:
            raise failure("ErrStoreNotFound", f"store {store_id} not found")
        if store.state == OFFLINE and store.physically_destroyed == physically_destroyed:
            return
        if store.state == TOMBSTONE:
            raise failure("ErrStoreRemoved", f"store {store_id} has been removed")
        if store.physically_destroyed:
            raise failure("ErrStoreDestroyed", f"store {store_id} has been physically destroyed")
        if store.state == UP and not physically_destroyed:
            up = self.up_store_count()
            need = self.config.max_replicas
            if up - 1 < need:
                raise failure(
                    "ErrStoresNotEnough",
                    f"can not remove store {store_id} since the number of up stores would be {up - 1} "
                    f"while need {need}",
                )
        self.set_store_state(store_id, "Offline")
        store.physically_destroyed = physically_destroyed
        self.config.add_store_limit(store_id)
        self._saved_remove_limits[store_id] = self.config.store_limits[store_id]["remove-peer"]
        self.config.set_store_limit(store_id, "remove-peer", UNLIMITED_RATE)

    def up_store(self, store_id: int) -> None:
        """``UpStore``: cancel Offline (PDFailure for unknown/removed/destroyed stores)."""
        from pd.simulator.errors import failure

        store = self.stores.get(store_id)
        if store is None:
            raise failure("ErrStoreNotFound", f"store {store_id} not found")
        if store.state == TOMBSTONE:
            raise failure("ErrStoreRemoved", f"store {store_id} has been removed")
        if store.physically_destroyed:
            raise failure("ErrStoreDestroyed", f"store {store_id} has been physically destroyed")
        if store.state == UP:
            return
        store.state = UP
        previous = self._saved_remove_limits.pop(
            store_id, self.config.schedule["default-store-limit"]["remove-peer"]
        )
        self.config.set_store_limit(store_id, "remove-peer", previous)

    # -- regions: lookup ------------------------------------------------------------------------

    def region(self, region_id: int) -> Region:
        """The region with id ``region_id``."""
        region = self.regions.get(region_id)
        if region is None:
            raise TopologyError(f"no region {region_id}")
        return region

    def region_by_key(self, key: str) -> Region | None:
        """The region containing hex ``key``."""
        i = bisect_right(self._starts, key) - 1
        if i < 0:
            return None
        region = self.regions[self._start_ids[self._starts[i]]]
        return region if end_before(key, region.end_key) else None

    def regions_in_order(self) -> Iterator[Region]:
        """All regions by start key."""
        for start in self._starts:
            yield self.regions[self._start_ids[start]]

    def scan_regions(self, start: str, end: str, limit: int) -> list[Region]:
        """Regions overlapping ``[start, end)`` in key order (``limit <= 0``: no limit)."""
        i = max(bisect_right(self._starts, start) - 1, 0)
        out: list[Region] = []
        while i < len(self._starts):
            region = self.regions[self._start_ids[self._starts[i]]]
            if end and region.start_key >= end:
                break
            if end_before(start, region.end_key):
                out.append(region)
                if 0 < limit <= len(out):
                    break
            i += 1
        return out

    def neighbours(self, region: Region) -> tuple[Region | None, Region | None]:
        """The regions just before and just after ``region`` in key order."""
        i = bisect_left(self._starts, region.start_key)
        left = self.regions[self._start_ids[self._starts[i - 1]]] if i > 0 else None
        right = self.regions[self._start_ids[self._starts[i + 1]]] if i + 1 < len(self._starts) else None
        return left, right

    # -- regions: bookkeeping -----------------------------------------------------------------

    def _account(self, region: Region, sign: int) -> None:
        size = region.approximate_size
        pending = region.pending_peers or ()
        stores = self.stores
        for peer in region.peers:
            store = stores.get(peer.store_id)
            if store is None:
                continue
            store.region_count += sign
            store.region_size += sign * size
            store.write_bytes += sign * region.written_bytes
            store.write_keys += sign * region.written_keys
            store.write_query += sign * region.write_query
            if peer.role == LEARNER:
                store.learner_count += sign
            if peer.id in pending:
                store.pending_peer_count += sign
            if sign > 0:
                store.region_ids.add(region.id)
            else:
                store.region_ids.discard(region.id)
        leader = region.leader
        if leader is not None:
            store = stores.get(leader.store_id)
            if store is not None:
                store.leader_count += sign
                store.leader_size += sign * size
                store.read_bytes += sign * region.read_bytes
                store.read_keys += sign * region.read_keys
                store.read_query += sign * region.read_query
                store.read_cpu += sign * region.cpu_usage
                if sign > 0:
                    store.leader_ids.add(region.id)
                else:
                    store.leader_ids.discard(region.id)
        rid = region.id
        if sign > 0:
            if region.down_peers:
                self.down_peer_regions.add(rid)
            if region.pending_peers:
                self.pending_peer_regions.add(rid)
            if _is_hot(region.written_bytes, region.written_keys, region.write_query):
                self.hot_write_regions.add(rid)
            if _is_hot(region.read_bytes, region.read_keys, region.read_query):
                self.hot_read_regions.add(rid)
        else:
            self.down_peer_regions.discard(rid)
            self.pending_peer_regions.discard(rid)
            self.hot_write_regions.discard(rid)
            self.hot_read_regions.discard(rid)

    def changing(self, region: Region) -> _Change:
        """``with model.changing(region): …`` keeps counters right around a change of ``region``."""
        return _Change(self, region)

    def insert_region(self, region: Region) -> None:
        """Add a region whose range does not overlap any other (used by generation and splits)."""
        if region.id in self.regions:
            raise TopologyError(f"region {region.id} already exists")
        self.regions[region.id] = region
        insort(self._starts, region.start_key)
        self._start_ids[region.start_key] = region.id
        self.reserve_ids(max([region.id, *(p.id for p in region.peers)]))
        self._account(region, +1)

    def append_region_sorted(self, region: Region) -> None:
        """Fast path for generation: regions arrive in key order."""
        self.regions[region.id] = region
        self._starts.append(region.start_key)
        self._start_ids[region.start_key] = region.id
        self._account(region, +1)

    def _drop_region(self, region: Region) -> None:
        self._account(region, -1)
        del self.regions[region.id]
        i = bisect_left(self._starts, region.start_key)
        del self._starts[i]
        del self._start_ids[region.start_key]

    def _rekey(self, region: Region, start_key: str) -> None:
        """Change a region's start key in the index."""
        i = bisect_left(self._starts, region.start_key)
        del self._starts[i]
        del self._start_ids[region.start_key]
        region.start_key = start_key
        insort(self._starts, start_key)
        self._start_ids[start_key] = region.id

    # -- regions: mutators (public API; operators use the same ones) ---------------------

    def _store_peer(self, region: Region, store_id: int) -> Peer:
        peer = region.peer_on(store_id)
        if peer is None:
            raise TopologyError(f"region {region.id} has no peer on store {store_id}")
        return peer

    def set_leader(self, region_id: int, store_id: int) -> None:
        """Make the peer on ``store_id`` the leader (it must be a voter)."""
        region = self.region(region_id)
        peer = self._store_peer(region, store_id)
        if peer.is_learner:
            raise TopologyError(f"the peer of region {region_id} on store {store_id} is a learner")
        with self.changing(region):
            region.leader = peer

    def add_peer(
        self, region_id: int, store_id: int, *, learner: bool = False, peer_id: int | None = None
    ) -> Peer:
        """Add a voter (or learner) on ``store_id``; conf_ver grows by one."""
        region = self.region(region_id)
        self.store(store_id)
        if region.peer_on(store_id) is not None:
            raise TopologyError(f"region {region_id} already has a peer on store {store_id}")
        peer = Peer(
            peer_id if peer_id is not None else self.alloc_id(), store_id, LEARNER if learner else VOTER
        )
        self.reserve_ids(peer.id)
        with self.changing(region):
            region.peers.append(peer)
            region.conf_ver += 1
        return peer

    def set_peer_role(self, region_id: int, store_id: int, role: int, *, conf_ver_delta: int = 1) -> None:
        """Change the role of the peer on ``store_id``."""
        region = self.region(region_id)
        peer = self._store_peer(region, store_id)
        with self.changing(region):
            peer.role = role
            region.conf_ver += conf_ver_delta

    def remove_peer(self, region_id: int, store_id: int) -> None:
        """Remove the peer on ``store_id`` (not the leader's); conf_ver grows by one."""
        region = self.region(region_id)
        peer = self._store_peer(region, store_id)
        if region.leader is peer:
            raise TopologyError(f"cannot remove the leader peer of region {region_id}")
        with self.changing(region):
            region.peers.remove(peer)
            region.conf_ver += 1
            if region.down_peers:
                region.down_peers.pop(peer.id, None)
            if region.pending_peers:
                region.pending_peers.discard(peer.id)

    def add_down_peer(self, region_id: int, store_id: int, *, down_seconds: float = 600.0) -> None:
        """Report the peer on ``store_id`` as down for ``down_seconds`` (it keeps counting up)."""
        region = self.region(region_id)
        peer = self._store_peer(region, store_id)
        with self.changing(region):
            if region.down_peers is None:
                region.down_peers = {}
            region.down_peers[peer.id] = self.now() - down_seconds

    def add_pending_peer(self, region_id: int, store_id: int) -> None:
        """Report the peer on ``store_id`` as pending (lagging behind the leader's log)."""
        region = self.region(region_id)
        peer = self._store_peer(region, store_id)
        with self.changing(region):
            if region.pending_peers is None:
                region.pending_peers = set()
            region.pending_peers.add(peer.id)

    def clear_unhealthy_peers(self, region_id: int) -> None:
        """Forget the region's down and pending peers."""
        region = self.region(region_id)
        with self.changing(region):
            region.down_peers = None
            region.pending_peers = None

    def set_region_size(self, region_id: int, *, size_mib: int, keys: int | None = None) -> None:
        """Set approximate size (MiB) and keys (default: 10,000 per MiB)."""
        region = self.region(region_id)
        with self.changing(region):
            region.approximate_size = size_mib
            region.approximate_keys = size_mib * 10_000 if keys is None else keys
            region.approximate_kv_size = int(size_mib * 0.9)

    def set_region_flow(
        self,
        region_id: int,
        *,
        written_bytes: int | None = None,
        read_bytes: int | None = None,
        written_keys: int | None = None,
        read_keys: int | None = None,
        write_query: int | None = None,
        read_query: int | None = None,
        cpu_usage: int | None = None,
    ) -> None:
        """Set the flows of the last region heartbeat (bytes/keys per 60 s); None keeps a value."""
        region = self.region(region_id)
        with self.changing(region):
            if written_bytes is not None:
                region.written_bytes = written_bytes
            if read_bytes is not None:
                region.read_bytes = read_bytes
            if written_keys is not None:
                region.written_keys = written_keys
            if read_keys is not None:
                region.read_keys = read_keys
            if write_query is not None:
                region.write_query = write_query
            if read_query is not None:
                region.read_query = read_query
            if cpu_usage is not None:
                region.cpu_usage = cpu_usage

    def split_region(self, region_id: int, keys: list[str] | None = None) -> list[Region]:
        """Split at hex ``keys`` (default: the middle); returns the pieces left to right.

        As in TiKV (``right-derive-when-split``), the original id keeps the rightmost piece and
        the new regions take new ids; every piece's version becomes ``version + number of new
        regions``. Keys outside the region are ignored.
        """
        region = self.region(region_id)
        if keys is None:
            keys = [middle_key(region.start_key, region.end_key)]
        for key in keys:
            if not is_hex_key(key) or not key:
                raise TopologyError(f"split key {key!r} is not a hex key")
        inside = sorted(
            {
                k.upper()
                for k in keys
                if k.upper() > region.start_key and end_before(k.upper(), region.end_key)
            }
        )
        if not inside:
            return [region]
        bounds = [region.start_key, *inside, region.end_key]
        pieces = len(bounds) - 1
        new_version = region.version + pieces - 1
        total_size, total_keys = region.approximate_size, region.approximate_keys
        flows = (
            region.written_bytes,
            region.read_bytes,
            region.written_keys,
            region.read_keys,
            region.write_query,
            region.read_query,
            region.cpu_usage,
        )
        leader_store = region.leader.store_id if region.leader is not None else None
        unhealthy_stores = {p.store_id for p in region.peers if p.id in region.unhealthy_peer_ids()}
        created: list[Region] = []
        with self.changing(region):
            for i in range(pieces - 1):
                peers = [Peer(self.alloc_id(), p.store_id, p.role) for p in region.peers]
                piece = Region(
                    id=self.alloc_id(),
                    start_key=bounds[i],
                    end_key=bounds[i + 1],
                    conf_ver=region.conf_ver,
                    version=new_version,
                    peers=peers,
                    leader=next((p for p in peers if p.store_id == leader_store), None),
                )
                created.append(piece)
            region.version = new_version
            self._rekey(region, bounds[-2])
            for piece in [*created, region]:
                piece.approximate_size = max(total_size // pieces, 1) if total_size else 0
                piece.approximate_keys = total_keys // pieces
                piece.approximate_kv_size = int(piece.approximate_size * 0.9)
                (
                    piece.written_bytes,
                    piece.read_bytes,
                    piece.written_keys,
                    piece.read_keys,
                    piece.write_query,
                    piece.read_query,
                    piece.cpu_usage,
                ) = (v // pieces for v in flows)
        for piece in created:
            if unhealthy_stores:
                piece.pending_peers = {p.id for p in piece.peers if p.store_id in unhealthy_stores}
            self.regions[piece.id] = piece
            insort(self._starts, piece.start_key)
            self._start_ids[piece.start_key] = piece.id
            self._account(piece, +1)
        return [*created, region]

    def merge_regions(self, source_id: int, target_id: int) -> Region:
        """Merge adjacent ``source`` into ``target`` (which keeps its id); returns the target.

        The target's version becomes ``max(source, target) + 1``; the source disappears.
        """
        source = self.region(source_id)
        target = self.region(target_id)
        if source.end_key == target.start_key and source.end_key:
            new_start, new_end = source.start_key, target.end_key
        elif target.end_key == source.start_key and target.end_key:
            new_start, new_end = target.start_key, source.end_key
        else:
            raise TopologyError(f"regions {source_id} and {target_id} are not adjacent")
        size, keys = source.approximate_size, source.approximate_keys
        self._drop_region(source)
        with self.changing(target):
            target.version = max(source.version, target.version) + 1
            target.approximate_size += size
            target.approximate_keys += keys
            target.approximate_kv_size = int(target.approximate_size * 0.9)
            target.end_key = new_end
            if new_start != target.start_key:
                self._rekey(target, new_start)
        return target

    def make_leader_imbalance(self, store_id: int, *, share: float = 0.5) -> int:
        """Move leaders onto ``store_id`` until it leads ``share`` of all regions (as far as it
        holds voters); returns how many leaders moved."""
        store = self.store(store_id)
        wanted = int(len(self.regions) * share)
        moved = 0
        for region_id in sorted(store.region_ids):
            if store.leader_count >= wanted:
                break
            region = self.regions[region_id]
            peer = region.voter_on(store_id)
            if peer is None or region.leader is peer:
                continue
            with self.changing(region):
                region.leader = peer
            moved += 1
        return moved

    def regions_on_store(self, store_id: int) -> list[Region]:
        """Regions with a peer on ``store_id``, by id."""
        return [self.regions[r] for r in sorted(self.store(store_id).region_ids)]

    def leaders_on_store(self, store_id: int) -> list[Region]:
        """Regions led from ``store_id``, by id."""
        return [self.regions[r] for r in sorted(self.store(store_id).leader_ids)]

    def is_replicated(self, region: Region) -> bool:
        """PD's ``IsRegionReplicated`` with the default rule: exactly max-replicas voters, no learners,
        and no witnesses (the default rule asks for full copies; a witness fits no rule of it)."""
        voters = sum(1 for p in region.peers if p.role == VOTER and not p.is_witness)
        return voters == self.config.max_replicas and len(region.peers) == voters

    def verify(self) -> None:
        """Recompute every derived counter and index from the regions; TopologyError on drift.

        Walks every region: for tests, not for request paths."""
        expected: dict[int, dict[str, int]] = {s: dict.fromkeys(_COUNTERS, 0) for s in self.stores}
        region_ids: dict[int, set[int]] = {s: set() for s in self.stores}
        leader_ids: dict[int, set[int]] = {s: set() for s in self.stores}
        previous_end: str | None = None
        for region in self.regions_in_order():
            if previous_end is not None and region.start_key != previous_end:
                raise TopologyError(f"key range gap or overlap before region {region.id}")
            previous_end = region.end_key
            stores = [p.store_id for p in region.peers]
            if len(set(stores)) != len(stores):
                raise TopologyError(f"region {region.id} has two peers on one store")
            if region.leader is not None and region.leader not in region.peers:
                raise TopologyError(f"region {region.id} is led by a peer it does not have")
            pending = region.pending_peers or set()
            for peer in region.peers:
                counters = expected[peer.store_id]
                counters["region_count"] += 1
                counters["region_size"] += region.approximate_size
                counters["learner_count"] += peer.role == LEARNER
                counters["pending_peer_count"] += peer.id in pending
                region_ids[peer.store_id].add(region.id)
            if region.leader is not None:
                counters = expected[region.leader.store_id]
                counters["leader_count"] += 1
                counters["leader_size"] += region.approximate_size
                leader_ids[region.leader.store_id].add(region.id)
        if self.regions and (next(self.regions_in_order()).start_key != "" or previous_end != ""):
            raise TopologyError("regions do not cover the whole key space")
        if len(self._starts) != len(self.regions) or set(self._start_ids.values()) != set(self.regions):
            raise TopologyError("the start-key index is out of date")
        for store_id, counters in expected.items():
            store = self.stores[store_id]
            for name, value in counters.items():
                actual = getattr(store, name)
                if actual != value:
                    raise TopologyError(f"store {store_id} {name} is {actual}, expected {value}")
            if store.region_ids != region_ids[store_id] or store.leader_ids != leader_ids[store_id]:
                raise TopologyError(f"store {store_id} region sets are out of date")
        down = {r.id for r in self.regions.values() if r.down_peers}
        pending_regions = {r.id for r in self.regions.values() if r.pending_peers}
        if down != self.down_peer_regions or pending_regions != self.pending_peer_regions:
            raise TopologyError("down/pending peer indexes are out of date")

    # -- background behaviour ----------------------------------------------------------------

    def advance(self) -> None:
        """Bring time-driven state up to date: operator steps and expired scheduler pauses."""
        self.operators.advance()
        self.schedulers.expire_pauses()

    def tick(self) -> None:
        """One round of PD's background work: advance operators, let schedulers and checkers
        create their operators (evict-leader draining, offline stores), bury empty Offline stores."""
        self.advance()
        self.schedulers.schedule()
        self.advance()
        for store in self.stores.values():
            if store.state == OFFLINE and not store.region_ids:
                self.set_store_state(store.id, "Tombstone")


class _Change:
    """Context manager that un-counts a region before a change and counts it again after."""

    __slots__ = ("model", "region")

    def __init__(self, model: ClusterModel, region: Region) -> None:
        self.model = model
        self.region = region

    def __enter__(self) -> Region:
        self.model._account(self.region, -1)
        return self.region

    def __exit__(self, *exc: object) -> None:
        self.model._account(self.region, +1)
