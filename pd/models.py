"""PD's JSON answers as frozen pydantic models, named after PD's Go types (``client/http/types.go``).

Attributes keep PD's snake_case JSON names (``state_name``, ``leader_count``). Config models keep
PD's kebab-case keys as aliases. Every model ignores fields it does not know, because PD adds fields
between versions; fields PD leaves out (``omitempty``) take PD's zero value. JSON arrays become
tuples so a frozen model is frozen all the way down. uint64 ids stay Python ints (exact above 2^53).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# --- helpers ------------------------------------------------------------------------------------

_BINARY_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6, "z": 7, "y": 8}
_BYTE_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtpezy]?)(i?b?)\s*$", re.IGNORECASE)


def parse_byte_size(text: str) -> int:
    """Bytes in a PD size string such as ``"853.2GiB"``, ``"1TiB"`` or ``"0B"``.

    PD prints sizes with ``units.BytesSize`` and reads them with ``units.RAMInBytes``: both use
    powers of 1024, whether or not the unit has the ``i``.
    """
    match = _BYTE_SIZE.match(text)
    if match is None:
        raise ValueError(f"not a PD byte size: {text!r}")
    number, prefix, _ = match.groups()
    return round(float(number) * (1 << (10 * _BINARY_UNITS[prefix.lower()])))


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _PDModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


def _none_to_empty(value: object) -> object:
    # Go encodes a nil slice as null; PD does so for empty region and statistics lists.
    return () if value is None else value


# --- cluster and members ------------------------------------------------------------------------


class Member(_PDModel):
    """One PD member (``pdpb.Member``); ``member_id`` is a uint64, often above 2^53."""

    name: str = ""
    member_id: int = 0
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()
    leader_priority: int = 0
    deploy_path: str = ""
    binary_version: str = ""
    git_hash: str = ""


class ResponseHeader(_PDModel):
    """``pdpb.ResponseHeader``: the cluster id."""

    cluster_id: int = 0


class MembersInfo(_PDModel):
    """``GET /members``: every member, the PD leader and the etcd leader."""

    header: ResponseHeader = ResponseHeader()
    members: tuple[Member, ...] = ()
    leader: Member | None = None
    etcd_leader: Member | None = None

    _empty_lists = field_validator("members", mode="before")(_none_to_empty)


class HealthInfo(_PDModel):
    """One entry of ``GET /health``: whether the member answered PD's own ping."""

    name: str = ""
    member_id: int = 0
    client_urls: tuple[str, ...] = ()
    health: bool = False


class StatusInfo(_PDModel):
    """``GET /status``: build and version of the answering member (``kernel_type`` is master-only)."""

    build_ts: str = ""
    version: str = ""
    git_hash: str = ""
    start_timestamp: int = 0
    kernel_type: str = ""


class MetaCluster(_PDModel):
    """``GET /cluster`` (``metapb.Cluster``)."""

    id: int = 0
    max_peer_count: int = 0


class ClusterStatus(_PDModel):
    """``GET /cluster/status``."""

    raft_bootstrap_time: datetime | None = None
    is_initialized: bool = False
    replication_status: str = ""


# --- stores -------------------------------------------------------------------------------------


class StoreLabel(_PDModel):
    """One ``{"key", "value"}`` label of a store."""

    key: str
    value: str


class MetaStore(_PDModel):
    """The ``store`` half of ``StoreInfo`` (``metapb.Store`` plus ``state_name``).

    ``state`` is omitted by PD for Up (0); ``state_name`` is what people mean (Up, Offline,
    Tombstone, Down, Disconnected).
    """

    id: int
    address: str = ""
    state: int = 0
    labels: tuple[StoreLabel, ...] = ()
    version: str = ""
    peer_address: str = ""
    status_address: str = ""
    git_hash: str = ""
    start_timestamp: int = 0
    deploy_path: str = ""
    last_heartbeat: int = 0  # unix nanoseconds
    physically_destroyed: bool = False
    node_state: int = 0
    state_name: str = ""

    _empty_lists = field_validator("labels", mode="before")(_none_to_empty)

    @property
    def label_map(self) -> dict[str, str]:
        """Labels as a dict (``{"zone": "z1", "host": "tikv-1"}``)."""
        return {label.key: label.value for label in self.labels}


class SlowTrend(_PDModel):
    """``StoreStatus.slow_trend``."""

    cause_value: float = 0.0
    cause_rate: float = 0.0
    result_value: float = 0.0
    result_rate: float = 0.0


class StoreStatus(_PDModel):
    """The ``status`` half of ``StoreInfo``: sizes are PD's human strings, counts are numbers."""

    capacity: str = "0B"
    available: str = "0B"
    used_size: str = "0B"
    leader_count: int = 0
    leader_weight: float = 0.0
    leader_score: float = 0.0
    leader_size: int = 0  # MiB
    region_count: int = 0
    region_weight: float = 0.0
    region_score: float = 0.0
    region_size: int = 0  # MiB
    learner_count: int = 0
    witness_count: int = 0
    pending_peer_count: int = 0
    slow_score: float = 0.0
    network_slow_score: dict[int, float] = Field(default_factory=dict)
    slow_trend: SlowTrend | None = None
    sending_snap_count: int = 0
    receiving_snap_count: int = 0
    is_busy: bool = False
    start_ts: datetime | None = None
    last_heartbeat_ts: datetime | None = None
    uptime: str | None = None
    pause_leader_transfer_in: bool = False
    pause_leader_transfer_out: bool = False

    @property
    def capacity_bytes(self) -> int:
        """``capacity`` in bytes."""
        return parse_byte_size(self.capacity)

    @property
    def available_bytes(self) -> int:
        """``available`` in bytes."""
        return parse_byte_size(self.available)

    @property
    def used_size_bytes(self) -> int:
        """``used_size`` in bytes."""
        return parse_byte_size(self.used_size)


class StoreInfo(_PDModel):
    """One store: ``GET /store/{id}`` and each item of ``GET /stores``."""

    store: MetaStore
    status: StoreStatus = StoreStatus()


class StoresInfo(_PDModel):
    """``GET /stores`` and ``GET /stores/check``."""

    count: int = 0
    stores: tuple[StoreInfo, ...] = ()

    _empty_lists = field_validator("stores", mode="before")(_none_to_empty)


class StoreProgress(_PDModel):
    """``GET /stores/progress``: how far removing or preparing a store has come."""

    action: str = ""
    store_id: int = 0
    progress: float = 0.0
    current_speed: float = 0.0
    left_seconds: float = 0.0


class StoreLimit(_PDModel):
    """A store's operator rates per minute (``{"add-peer": 15, "remove-peer": 15}``)."""

    add_peer: float = Field(0.0, alias="add-peer")
    remove_peer: float = Field(0.0, alias="remove-peer")


# --- regions ------------------------------------------------------------------------------------


class RegionEpoch(_PDModel):
    """``{"conf_ver", "version"}``; PD leaves each out when 0."""

    conf_ver: int = 0
    version: int = 0


class MetaPeer(_PDModel):
    """A region's peer; ``role_name`` is Voter, Learner, IncomingVoter or DemotingVoter."""

    id: int = 0
    store_id: int = 0
    role: int = 0
    role_name: str = ""
    is_learner: bool = False
    is_witness: bool = False


class PDPeerStats(_PDModel):
    """One down peer and for how long it has been down."""

    peer: MetaPeer
    down_seconds: int = 0


class ReplicationStatus(_PDModel):
    """``RegionInfo.replication_status`` (DR auto-sync only)."""

    state: str = ""
    state_id: int = 0


class RegionInfo(_PDModel):
    """One region. Keys are PD's upper-case hex of the raw key; ``""`` means unbounded.

    PD v8.5 answers a missing region with 200 and this model at ``id == 0``; see ``exists``.
    """

    id: int = 0
    start_key: str = ""
    end_key: str = ""
    epoch: RegionEpoch = RegionEpoch()
    peers: tuple[MetaPeer, ...] = ()
    leader: MetaPeer = MetaPeer()
    down_peers: tuple[PDPeerStats, ...] = ()
    pending_peers: tuple[MetaPeer, ...] = ()
    cpu_usage: int = 0
    written_bytes: int = 0
    read_bytes: int = 0
    written_keys: int = 0
    read_keys: int = 0
    approximate_size: int = 0  # MiB
    approximate_keys: int = 0
    approximate_kv_size: int = 0
    approximate_columnar_kv_size: int = 0
    buckets: tuple[str, ...] = ()
    bucket_version: int = 0
    replication_status: ReplicationStatus | None = None

    _empty_lists = field_validator("peers", "down_peers", "pending_peers", "buckets", mode="before")(
        _none_to_empty
    )

    @property
    def exists(self) -> bool:
        """False for v8.5's all-zero answer to a region that does not exist."""
        return self.id != 0

    @property
    def leader_store_id(self) -> int | None:
        """The store holding the leader, or None while the region has no leader."""
        return self.leader.store_id or None


class RegionsInfo(_PDModel):
    """``{"count", "regions"}`` from every region list endpoint."""

    count: int = 0
    regions: tuple[RegionInfo, ...] = ()

    _empty_lists = field_validator("regions", mode="before")(_none_to_empty)


# --- hotspots -----------------------------------------------------------------------------------


class HotPeerStat(_PDModel):
    """One hot peer in ``HotPeersStat.statistics``."""

    store_id: int = 0
    stores: tuple[int, ...] = ()
    is_leader: bool = False
    is_learner: bool = False
    region_id: int = 0
    hot_degree: int = 0
    flow_bytes: float = 0.0
    flow_keys: float = 0.0
    flow_query: float = 0.0
    flow_cpu: float = 0.0
    anti_count: int = 0
    last_update_time: datetime | None = None

    _empty_lists = field_validator("stores", mode="before")(_none_to_empty)


class HotPeersStat(_PDModel):
    """Hot-peer totals of one store."""

    store_bytes: float = 0.0
    store_keys: float = 0.0
    store_query: float = 0.0
    store_cpu: float = 0.0
    total_flow_bytes: float = 0.0
    total_flow_keys: float = 0.0
    total_flow_query: float = 0.0
    total_flow_cpu: float = 0.0
    regions_count: int = 0
    statistics: tuple[HotPeerStat, ...] = ()

    _empty_lists = field_validator("statistics", mode="before")(_none_to_empty)


class StoreHotPeersInfos(_PDModel):
    """``GET /hotspot/regions/write|read``: hot peers per store id, as peer and as leader."""

    as_peer: dict[int, HotPeersStat] = Field(default_factory=dict)
    as_leader: dict[int, HotPeersStat] = Field(default_factory=dict)

    @field_validator("as_peer", "as_leader", mode="before")
    @classmethod
    def _null_map(cls, value: object) -> object:
        return {} if value is None else value


class HotStoreStats(_PDModel):
    """``GET /hotspot/stores``: per-store rates keyed by store id."""

    model_config = ConfigDict(alias_generator=_kebab)

    bytes_write_rate: dict[int, float] = Field(default_factory=dict)
    bytes_read_rate: dict[int, float] = Field(default_factory=dict)
    keys_write_rate: dict[int, float] = Field(default_factory=dict)
    keys_read_rate: dict[int, float] = Field(default_factory=dict)
    query_write_rate: dict[int, float] = Field(default_factory=dict)
    query_read_rate: dict[int, float] = Field(default_factory=dict)
    cpu_read_rate: dict[int, float] = Field(default_factory=dict)


# --- operators ----------------------------------------------------------------------------------


class OperatorStatusKind(enum.StrEnum):
    """The status word of ``GET /operators/{id}`` (``pdpb.OperatorStatus``)."""

    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    TIMEOUT = "TIMEOUT"  # also an expired operator
    CANCEL = "CANCEL"
    REPLACE = "REPLACE"  # a newer operator replaced it
    CREATED = "CREATED"  # not started yet; PD prints the out-of-range enum as "5"


_STATUS_LINE = re.compile(r"^status: (?P<status>\w+), operator: (?P<operator>.*)$", re.DOTALL)
_OPERATOR_HEAD = re.compile(r"^(?P<desc>\S+) \{(?P<brief>[^}]*)\}")
_OPERATOR_REGION = re.compile(r"\bregion:(?P<id>\d+)\(")


class OperatorStatus(_PDModel):
    """``GET /operators/{id}``, parsed from PD's ``"status: RUNNING, operator: <text>"`` string."""

    status: OperatorStatusKind
    operator: str
    desc: str = ""
    brief: str = ""
    region_id: int | None = None

    @property
    def finished(self) -> bool:
        """True once the operator is no longer running (or waiting to run)."""
        return self.status not in (OperatorStatusKind.RUNNING, OperatorStatusKind.CREATED)

    @classmethod
    def parse(cls, text: str) -> OperatorStatus:
        """Read PD's status string; raises ValueError when it does not have PD's shape."""
        line = _STATUS_LINE.match(text.strip())
        if line is None:
            raise ValueError(f"not an operator status line: {text[:120]!r}")
        word = line.group("status")
        if word == "5":
            status = OperatorStatusKind.CREATED
        else:
            try:
                status = OperatorStatusKind(word)
            except ValueError:
                raise ValueError(f"unknown operator status {word!r}") from None
        operator = line.group("operator")
        head = _OPERATOR_HEAD.match(operator)
        region = _OPERATOR_REGION.search(operator)
        return cls(
            status=status,
            operator=operator,
            desc=head.group("desc") if head else "",
            brief=head.group("brief") if head else "",
            region_id=int(region.group("id")) if region else None,
        )


# PD's internal OpStatus numbers, as ``GET /operators?object`` reports them.
_OP_STATUS_NAMES = ("CREATED", "STARTED", "SUCCESS", "CANCELED", "REPLACED", "EXPIRED", "TIMEOUT")


class OperatorObject(_PDModel):
    """One item of ``GET /operators?object``."""

    desc: str = ""
    brief: str = ""
    region_id: int = 0
    region_epoch: RegionEpoch = RegionEpoch()
    kind: int = 0  # bit set; bit numbering changed across versions, prefer ``desc``
    timeout: str = ""
    status: int = 0

    @property
    def status_name(self) -> str:
        """PD's name for ``status`` (CREATED, STARTED, SUCCESS, CANCELED, REPLACED, EXPIRED, TIMEOUT)."""
        if 0 <= self.status < len(_OP_STATUS_NAMES):
            return _OP_STATUS_NAMES[self.status]
        return str(self.status)


# --- schedulers ---------------------------------------------------------------------------------


class KeyRange(_PDModel):
    """A hex key range in scheduler configs; empty keys mean the whole keyspace."""

    start_key: str = Field("", alias="start-key")
    end_key: str = Field("", alias="end-key")


class EvictLeaderConfig(_PDModel):
    """``GET /scheduler-config/evict-leader-scheduler/list``: the stores whose leaders are evicted."""

    store_id_ranges: dict[int, tuple[KeyRange, ...]] = Field(default_factory=dict, alias="store-id-ranges")
    batch: int = 0

    @field_validator("store_id_ranges", mode="before")
    @classmethod
    def _null_map(cls, value: object) -> object:
        return {} if value is None else value

    @property
    def store_ids(self) -> tuple[int, ...]:
        """The evicted store ids, ascending."""
        return tuple(sorted(self.store_id_ranges))


# --- config -------------------------------------------------------------------------------------


class _RawConfig(_PDModel):
    """A config section that also keeps PD's whole answer, keys and types untouched."""

    model_config = ConfigDict(alias_generator=_kebab)

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: Any) -> Any:
        model = handler(data)
        if isinstance(data, Mapping) and isinstance(model, _RawConfig):
            model._raw = dict(data)
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """PD's answer as it came (a copy), kebab-case keys and PD's value types."""
        return dict(self._raw)

    def get(self, key: str, default: Any = None) -> Any:
        """One value by PD's key (``"leader-schedule-limit"``), as PD sent it."""
        return self._raw.get(key, default)


class SchedulerConfig(_PDModel):
    """One entry of ``schedulers-v2`` (short type names such as ``evict-leader``)."""

    model_config = ConfigDict(alias_generator=_kebab)

    type: str = ""
    args: tuple[str, ...] | None = None
    disable: bool = False
    args_payload: str = ""


class ScheduleConfig(_RawConfig):
    """``GET /config/schedule``. Missing keys take PD's defaults (master); ``raw`` has everything.

    Bool options arrive as the strings ``"true"``/``"false"`` and are read as bools here; durations
    stay Go duration strings (``"30m0s"``). Write values back with PD's types (see ``raw``).
    """

    max_snapshot_count: int = 64
    max_pending_peer_count: int = 64
    max_merge_region_size: int = 54
    max_merge_region_keys: int = 540000
    split_merge_interval: str = "1h0m0s"
    switch_witness_interval: str = "1h0m0s"
    enable_one_way_merge: bool = False
    enable_cross_table_merge: bool = True
    patrol_region_interval: str = "10ms"
    max_store_down_time: str = "30m0s"
    max_store_preparing_time: str = "48h0m0s"
    leader_schedule_limit: int = 4
    leader_schedule_policy: str = "count"
    region_schedule_limit: int = 2048
    witness_schedule_limit: int = 4
    replica_schedule_limit: int = 64
    merge_schedule_limit: int = 8
    hot_region_schedule_limit: int = 4
    affinity_schedule_limit: int = 0
    split_scatter_schedule_limit: int = 4
    hot_region_cache_hits_threshold: int = 3
    default_store_limit: StoreLimit = StoreLimit.model_validate({"add-peer": 15, "remove-peer": 15})
    store_limit: dict[int, StoreLimit] = Field(default_factory=dict)
    tolerant_size_ratio: float = 0.0
    low_space_ratio: float = 0.8
    high_space_ratio: float = 0.7
    region_score_formula_version: str = "v2"
    scheduler_max_waiting_operator: int = 5
    enable_remove_down_replica: bool = True
    enable_replace_offline_replica: bool = True
    enable_make_up_replica: bool = True
    enable_remove_extra_replica: bool = True
    enable_location_replacement: bool = True
    enable_debug_metrics: bool = False
    enable_joint_consensus: bool = True
    enable_tikv_split_region: bool = True
    enable_heartbeat_breakdown_metrics: bool = True
    enable_heartbeat_concurrent_runner: bool = True
    schedulers_v2: tuple[SchedulerConfig, ...] = ()
    hot_regions_write_interval: str = "10m0s"
    hot_regions_reserved_days: int = 7
    max_movable_hot_peer_size: int = 512
    enable_diagnostic: bool = True
    enable_witness: bool = False
    slow_store_evicting_affected_store_ratio_threshold: float = 0.3
    store_limit_version: str = "v1"
    halt_scheduling: bool = False
    patrol_region_worker_count: int = 1
    max_affinity_merge_region_size: int = 256

    @field_validator("store_limit", mode="before")
    @classmethod
    def _null_map(cls, value: object) -> object:
        return {} if value is None else value

    _empty_lists = field_validator("schedulers_v2", mode="before")(_none_to_empty)


class ReplicationConfig(_RawConfig):
    """``GET /config/replicate``; ``location-labels`` is PD's comma string, split here."""

    max_replicas: int = 3
    location_labels: tuple[str, ...] = ()
    strictly_match_label: bool = False
    enable_placement_rules: bool = True
    enable_placement_rules_cache: bool = False
    isolation_level: str = ""

    @field_validator("location_labels", mode="before")
    @classmethod
    def _split_labels(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


__all__ = [
    "ClusterStatus",
    "EvictLeaderConfig",
    "HealthInfo",
    "HotPeerStat",
    "HotPeersStat",
    "HotStoreStats",
    "KeyRange",
    "Member",
    "MembersInfo",
    "MetaCluster",
    "MetaPeer",
    "MetaStore",
    "OperatorObject",
    "OperatorStatus",
    "OperatorStatusKind",
    "PDPeerStats",
    "RegionEpoch",
    "RegionInfo",
    "RegionsInfo",
    "ReplicationConfig",
    "ReplicationStatus",
    "ResponseHeader",
    "ScheduleConfig",
    "SchedulerConfig",
    "SlowTrend",
    "StatusInfo",
    "StoreHotPeersInfos",
    "StoreInfo",
    "StoreLabel",
    "StoreLimit",
    "StoreProgress",
    "StoreStatus",
    "StoresInfo",
    "parse_byte_size",
]
