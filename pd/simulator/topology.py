"""The records the model is made of: stores, regions, peers and PD members.

They are plain ``__slots__`` dataclasses so that 200,000 regions fit in memory; all the
bookkeeping that keeps them consistent (per-store counters, the key index) lives in
``ClusterModel``, which is the only thing that should change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VOTER, LEARNER, INCOMING_VOTER, DEMOTING_VOTER = 0, 1, 2, 3
ROLE_NAMES = ("Voter", "Learner", "IncomingVoter", "DemotingVoter")

UP, OFFLINE, TOMBSTONE = 0, 1, 2
STATE_NAMES = ("Up", "Offline", "Tombstone")
NODE_SERVING, NODE_REMOVING, NODE_REMOVED = 1, 2, 3

HEARTBEAT_INTERVAL = 10.0  # TiKV's store heartbeat interval
DISCONNECT_AFTER = 20.0  # storeDisconnectDuration
UNHEALTHY_AFTER = 600.0  # storeUnhealthyDuration
REGION_HEARTBEAT_INTERVAL = 60.0  # flows in region heartbeats cover this many seconds


@dataclass(slots=True, eq=False)
class Peer:
    """One replica of a region on one store."""

    id: int
    store_id: int
    role: int = VOTER
    is_witness: bool = False  # holds the Raft log but no data; PD never lets it lead

    @property
    def is_learner(self) -> bool:
        """True for a learner (not an IncomingVoter or DemotingVoter)."""
        return self.role == LEARNER

    @property
    def role_name(self) -> str:
        """``Voter``, ``Learner``, ``IncomingVoter`` or ``DemotingVoter``."""
        return ROLE_NAMES[self.role]


@dataclass(slots=True, eq=False)
class Region:
    """A key range ``[start_key, end_key)`` in upper-case hex, with its replicas and load."""

    id: int
    start_key: str
    end_key: str
    conf_ver: int = 1
    version: int = 1
    peers: list[Peer] = field(default_factory=list)
    leader: Peer | None = None
    down_peers: dict[int, float] | None = None  # peer id -> clock time the peer went down
    pending_peers: set[int] | None = None  # peer ids
    approximate_size: int = 0  # MiB
    approximate_keys: int = 0
    approximate_kv_size: int = 0
    written_bytes: int = 0
    read_bytes: int = 0
    written_keys: int = 0
    read_keys: int = 0
    write_query: int = 0
    read_query: int = 0
    cpu_usage: int = 0

    def peer_on(self, store_id: int) -> Peer | None:
        """The peer on ``store_id``, if any."""
        for peer in self.peers:
            if peer.store_id == store_id:
                return peer
        return None

    def voter_on(self, store_id: int) -> Peer | None:
        """The non-learner peer on ``store_id``, if any (PD's ``GetStoreVoter``)."""
        peer = self.peer_on(store_id)
        return None if peer is None or peer.is_learner else peer

    def peer_by_id(self, peer_id: int) -> Peer | None:
        """The peer with id ``peer_id``, if any."""
        for peer in self.peers:
            if peer.id == peer_id:
                return peer
        return None

    @property
    def store_ids(self) -> list[int]:
        """Store ids of all peers, in peer order."""
        return [p.store_id for p in self.peers]

    @property
    def in_joint_state(self) -> bool:
        """True while any peer is an IncomingVoter or DemotingVoter."""
        return any(p.role in (INCOMING_VOTER, DEMOTING_VOTER) for p in self.peers)

    @property
    def is_healthy(self) -> bool:
        """PD's ``IsRegionHealthy``: no down peers and no pending peers."""
        return not self.down_peers and not self.pending_peers

    def unhealthy_peer_ids(self) -> set[int]:
        """Ids of down or pending peers."""
        ids: set[int] = set()
        if self.down_peers:
            ids.update(self.down_peers)
        if self.pending_peers:
            ids.update(self.pending_peers)
        return ids


@dataclass(slots=True, eq=False)
class Store:
    """A TiKV store: its metadata, its state and the counters PD reports for it."""

    id: int
    address: str
    labels: list[tuple[str, str]]
    version: str
    peer_address: str
    status_address: str
    git_hash: str
    start_timestamp: float
    deploy_path: str
    capacity: int
    reserved_bytes: int
    state: int = UP
    physically_destroyed: bool = False
    heartbeat_stopped_at: float | None = None  # None: heartbeating every HEARTBEAT_INTERVAL
    heartbeat_phase: float = 0.0
    available_override: int | None = None
    leader_weight: float = 1.0
    region_weight: float = 1.0
    slow_score: int = 1
    busy: bool = False
    leader_count: int = 0
    region_count: int = 0
    leader_size: int = 0
    region_size: int = 0
    learner_count: int = 0
    pending_peer_count: int = 0
    write_bytes: int = 0
    read_bytes: int = 0
    write_keys: int = 0
    read_keys: int = 0
    write_query: int = 0
    read_query: int = 0
    read_cpu: int = 0
    region_ids: set[int] = field(default_factory=set)
    leader_ids: set[int] = field(default_factory=set)
    removing_start_size: int = 0  # region size when it went Offline, for /stores/progress
    removing_started_at: float = 0.0

    @property
    def label_map(self) -> dict[str, str]:
        """Labels as a dict."""
        return dict(self.labels)

    @property
    def node_state(self) -> int:
        """``metapb.NodeState``: Serving, Removing or Removed."""
        return (NODE_SERVING, NODE_REMOVING, NODE_REMOVED)[self.state]


@dataclass(slots=True, eq=False)
class Member:
    """A PD member."""

    name: str
    member_id: int
    client_urls: list[str]
    peer_urls: list[str]
    deploy_path: str
    binary_version: str
    git_hash: str
    alive: bool = True
    leader_priority: int = 0
