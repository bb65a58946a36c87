"""PD's response shapes, built from the model: ``StoreInfo``, ``RegionInfo``, members, hot stats.

Field order and ``omitempty`` rules follow PD's Go structs (``pkg/response/store.go``,
``pkg/response/region.go``, kvproto's ``metapb``), so bodies compare byte-for-byte in shape
with the fixtures. Region bodies are built as compact strings directly: ``GET /regions`` on
200,000 regions must not build 200,000 dicts first.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from pd.simulator.gofmt import bytes_size, go_duration, rfc3339, seconds_to_ns
from pd.simulator.model import PD_GIT_HASH, PD_VERSION, ClusterModel
from pd.simulator.topology import LEARNER, REGION_HEARTBEAT_INTERVAL, UP, Member, Peer, Region, Store

GIB = 1024**3
HOT_PEERS_PER_STORE = 60  # statistics.TopNN


# -- stores ------------------------------------------------------------------------------------


def _leader_score(model: ClusterModel, store: Store) -> float:
    weight = store.leader_weight if store.leader_weight > 0 else 1e-6
    if model.config.schedule["leader-schedule-policy"] == "size":
        return store.leader_size / weight
    return store.leader_count / weight


def _region_score(model: ClusterModel, store: Store) -> float:
    weight = store.region_weight if store.region_weight > 0 else 1e-6
    size = float(store.region_size)
    if model.config.schedule["region-score-formula-version"] != "v2":
        return size / weight
    available = model.available(store) / GIB
    capacity = store.capacity / GIB
    k, m, b = 1.0, 256.0, 1e7
    f = max(50.0, capacity * (1 - float(model.config.schedule["low-space-ratio"])))
    if available >= capacity or capacity < 1:
        score = size
    elif available > f:
        score = (
            k + m * (math.log(capacity) - math.log(available - f + 1)) / (capacity - available + f - 1)
        ) * size
    else:
        score = (k + m * math.log(capacity) / capacity) * size + b * (f - available) / f
    return score / weight


def store_info(model: ClusterModel, store: Store) -> dict[str, Any]:
    """``response.StoreInfo`` (``{"store": MetaStore, "status": StoreStatus}``)."""
    last_heartbeat = model.last_heartbeat(store)
    meta: dict[str, Any] = {"id": store.id, "address": store.address}
    if store.state != UP:
        meta["state"] = store.state
    if store.labels:
        meta["labels"] = [{"key": k, "value": v} for k, v in store.labels]
    meta.update(
        {
            "version": store.version,
            "peer_address": store.peer_address,
            "status_address": store.status_address,
            "git_hash": store.git_hash,
            "start_timestamp": int(store.start_timestamp),
            "deploy_path": store.deploy_path,
            "last_heartbeat": seconds_to_ns(last_heartbeat),
        }
    )
    if store.physically_destroyed:
        meta["physically_destroyed"] = True
    meta["node_state"] = store.node_state
    meta["state_name"] = model.state_name(store)

    status: dict[str, Any] = {
        "capacity": bytes_size(store.capacity),
        "available": bytes_size(model.available(store)),
        "used_size": bytes_size(model.used_size(store)),
        "leader_count": store.leader_count,
        "leader_weight": float(store.leader_weight),
        "leader_score": _leader_score(model, store),
        "leader_size": store.leader_size,
        "region_count": store.region_count,
        "region_weight": float(store.region_weight),
        "region_score": _region_score(model, store),
        "region_size": store.region_size,
    }
    if store.learner_count:
        status["learner_count"] = store.learner_count
    if store.pending_peer_count:
        status["pending_peer_count"] = store.pending_peer_count
    if store.slow_score:
        status["slow_score"] = store.slow_score
    if store.busy:
        status["is_busy"] = True
    status["start_ts"] = rfc3339(seconds_to_ns(store.start_timestamp))
    status["last_heartbeat_ts"] = rfc3339(seconds_to_ns(last_heartbeat))
    uptime = seconds_to_ns(last_heartbeat) - seconds_to_ns(store.start_timestamp)
    if uptime > 0:
        status["uptime"] = go_duration(uptime)
    if model.schedulers.leader_in_paused(store.id):
        status["pause_leader_transfer_in"] = True
    if model.schedulers.leader_out_paused(store.id):
        status["pause_leader_transfer_out"] = True
    return {"store": meta, "status": status}


def stores_info(model: ClusterModel, stores: list[Store]) -> dict[str, Any]:
    """``response.StoresInfo``."""
    return {"count": len(stores), "stores": [store_info(model, s) for s in stores]}


# -- regions -----------------------------------------------------------------------------------

_ROLE_JSON = (
    '{{"role_name":"Voter","id":{},"store_id":{}}}',
    '{{"role_name":"Learner","is_learner":true,"id":{},"store_id":{},"role":1}}',
    '{{"role_name":"IncomingVoter","id":{},"store_id":{},"role":2}}',
    '{{"role_name":"DemotingVoter","id":{},"store_id":{},"role":3}}',
)
EMPTY_LEADER = '{"role_name":""}'


def _peer_json(peer: Peer) -> str:
    text = _ROLE_JSON[peer.role].format(peer.id, peer.store_id)
    return text[:-1] + ',"is_witness":true}' if peer.is_witness else text


def region_json(model: ClusterModel, region: Region, now: float | None = None) -> str:
    """``RegionInfo`` as easyjson writes it: compact, in struct order."""
    parts = [f'{{"id":{region.id},"start_key":"{region.start_key}","end_key":"{region.end_key}","epoch":{{']
    epoch = []
    if region.conf_ver:
        epoch.append(f'"conf_ver":{region.conf_ver}')
    if region.version:
        epoch.append(f'"version":{region.version}')
    parts.append(",".join(epoch))
    parts.append("}")
    if region.peers:
        parts.append(',"peers":[' + ",".join(_peer_json(p) for p in region.peers) + "]")
    parts.append(',"leader":' + (_peer_json(region.leader) if region.leader is not None else EMPTY_LEADER))
    if region.down_peers:
        when = model.now() if now is None else now
        downs = []
        for peer in region.peers:
            since = region.down_peers.get(peer.id)
            if since is None:
                continue
            seconds = int(when - since)
            tail = f',"down_seconds":{seconds}' if seconds else ""
            downs.append(f'{{"peer":{_peer_json(peer)}{tail}}}')
        parts.append(',"down_peers":[' + ",".join(downs) + "]")
    if region.pending_peers:
        pending = [_peer_json(p) for p in region.peers if p.id in region.pending_peers]
        parts.append(',"pending_peers":[' + ",".join(pending) + "]")
    parts.append(
        f',"cpu_usage":{region.cpu_usage},"written_bytes":{region.written_bytes},'
        f'"read_bytes":{region.read_bytes},"written_keys":{region.written_keys},'
        f'"read_keys":{region.read_keys},"approximate_size":{region.approximate_size},'
        f'"approximate_keys":{region.approximate_keys},"approximate_kv_size":{region.approximate_kv_size},'
        f'"approximate_columnar_kv_size":0}}'
    )
    return "".join(parts)


ZERO_REGION = (
    '{"id":0,"start_key":"","end_key":"","leader":{"role_name":""},"cpu_usage":0,"written_bytes":0,'
    '"read_bytes":0,"written_keys":0,"read_keys":0,"approximate_size":0,"approximate_keys":0,'
    '"approximate_kv_size":0,"approximate_columnar_kv_size":0}'
)


def regions_json(model: ClusterModel, regions: list[Region]) -> str:
    """``RegionsInfo``: ``{"count":N,"regions":[...]}`` compact."""
    now = model.now()
    return (
        f'{{"count":{len(regions)},"regions":[' + ",".join(region_json(model, r, now) for r in regions) + "]}"
    )


def siblings_json(model: ClusterModel, left: Region | None, right: Region | None) -> str:
    """``/regions/sibling``: always two entries, as PD marshals ``[left, right]``.

    PD reuses one ``RegionInfo`` while marshalling and skips nil regions, so a missing left
    sibling prints as an all-zero region and a missing right one repeats the previous entry.
    """
    first = region_json(model, left) if left is not None else ZERO_REGION
    second = region_json(model, right) if right is not None else first
    return f'{{"count":2,"regions":[{first},{second}]}}'


# -- members -----------------------------------------------------------------------------------


def member_json(member: Member, *, full: bool = True) -> dict[str, Any]:
    """``pdpb.Member`` (``full=False``: the ``/leader`` shape without version fields)."""
    out: dict[str, Any] = {
        "name": member.name,
        "member_id": member.member_id,
        "peer_urls": list(member.peer_urls),
        "client_urls": list(member.client_urls),
    }
    if member.leader_priority:
        out["leader_priority"] = member.leader_priority
    if full:
        out["deploy_path"] = member.deploy_path
        out["binary_version"] = member.binary_version
        out["git_hash"] = member.git_hash
    return out


def members_json(model: ClusterModel) -> dict[str, Any]:
    """``GET /members``."""
    leader = model.leader_member
    out: dict[str, Any] = {
        "header": {"cluster_id": model.cluster_id},
        "members": [member_json(m) for m in model.members],
    }
    if leader is not None:
        out["leader"] = member_json(leader)
        out["etcd_leader"] = member_json(leader)
    return out


def health_json(model: ClusterModel) -> list[dict[str, Any]]:
    """``GET /health``: one entry per member, healthy when its ``/ping`` answers."""
    return [
        {"name": m.name, "member_id": m.member_id, "client_urls": list(m.client_urls), "health": m.alive}
        for m in model.members
    ]


def status_json(model: ClusterModel) -> dict[str, Any]:
    """``GET /status``."""
    return {
        "build_ts": "2026-08-21 01:23:45",
        "version": PD_VERSION,
        "git_hash": PD_GIT_HASH,
        "start_timestamp": int(model.created_at - model.monotonic_offset),
        "kernel_type": "Classic",
    }


def cluster_status_json(model: ClusterModel) -> dict[str, Any]:
    """``GET /cluster/status``."""
    out: dict[str, Any] = {}
    if model.bootstrapped:
        out["raft_bootstrap_time"] = rfc3339(seconds_to_ns(model.bootstrap_time))
    initialized = len(model.regions) > 1 or any(model.is_replicated(r) for r in model.regions.values())
    out["is_initialized"] = initialized
    out["replication_status"] = ""
    return out


# -- hot regions -------------------------------------------------------------------------------


def _rate(value: int) -> float:
    return value / REGION_HEARTBEAT_INTERVAL


def hot_regions_json(model: ClusterModel, kind: str, store_ids: list[int] | None) -> dict[str, Any]:
    """``StoreHotPeersInfos`` for ``/hotspot/regions/write`` or ``/read``."""
    write = kind == "write"
    hot_ids = model.hot_write_regions if write else model.hot_read_regions
    stores = [s for s in sorted(model.stores.values(), key=lambda s: str(s.id)) if s.state != 2]
    if store_ids:
        wanted = set(store_ids)
        stores = [s for s in stores if s.id in wanted]
    updated = rfc3339(seconds_to_ns(float(int(model.now()))))
    threshold = int(model.config.schedule["hot-region-cache-hits-threshold"])

    def flow(region: Region) -> int:
        return region.written_bytes if write else region.read_bytes

    def stat(region: Region, peer: Peer) -> dict[str, Any]:
        byte_count = region.written_bytes if write else region.read_bytes
        key_count = region.written_keys if write else region.read_keys
        query = region.write_query if write else region.read_query
        return {
            "store_id": peer.store_id,
            "stores": region.store_ids,
            "is_leader": region.leader is peer,
            "is_learner": peer.role == LEARNER,
            "region_id": region.id,
            "hot_degree": threshold + region.id % 20,
            "flow_bytes": _rate(byte_count),
            "flow_keys": _rate(key_count),
            "flow_query": _rate(query),
            "flow_cpu": float(region.cpu_usage if not write else 0),
            "anti_count": 2,
            "last_update_time": updated,
        }

    as_peer: dict[str, Any] = {}
    as_leader: dict[str, Any] = {}
    for store in stores:
        peer_stats: list[dict[str, Any]] = []
        leader_stats: list[dict[str, Any]] = []
        # PD's hot peer cache keeps the hottest TopNN (60) peers of each store.
        candidates = hot_ids & (store.region_ids if write else store.leader_ids)
        hottest = heapq.nlargest(HOT_PEERS_PER_STORE, candidates, key=lambda rid: flow(model.regions[rid]))
        for region_id in sorted(hottest):
            region = model.regions[region_id]
            peer = region.peer_on(store.id)
            if peer is None:
                continue
            item = stat(region, peer)
            if write:
                peer_stats.append(item)
            if region.leader is peer:
                leader_stats.append(item)
        if not write:
            peer_stats = list(leader_stats)
        store_bytes = _rate(store.write_bytes if write else store.read_bytes)
        store_keys = _rate(store.write_keys if write else store.read_keys)
        store_query = _rate(store.write_query if write else store.read_query)
        store_cpu = 0.0 if write else float(store.read_cpu)
        for target, items in ((as_peer, peer_stats), (as_leader, leader_stats)):
            target[str(store.id)] = {
                "store_bytes": store_bytes,
                "store_keys": store_keys,
                "store_query": store_query,
                "store_cpu": store_cpu,
                "total_flow_bytes": sum(i["flow_bytes"] for i in items),
                "total_flow_keys": sum(i["flow_keys"] for i in items),
                "total_flow_query": sum(i["flow_query"] for i in items),
                "total_flow_cpu": sum(i["flow_cpu"] for i in items),
                "regions_count": len(items),
                "statistics": items,
            }
    return {"as_peer": as_peer, "as_leader": as_leader}


def hot_stores_json(model: ClusterModel) -> dict[str, Any]:
    """``GET /hotspot/stores``: per-store rates (maps keyed by store id, sorted as strings)."""
    stores = [s for s in sorted(model.stores.values(), key=lambda s: str(s.id)) if s.state != 2]
    return {
        "bytes-write-rate": {str(s.id): _rate(s.write_bytes) for s in stores},
        "bytes-read-rate": {str(s.id): _rate(s.read_bytes) for s in stores},
        "keys-write-rate": {str(s.id): _rate(s.write_keys) for s in stores},
        "keys-read-rate": {str(s.id): _rate(s.read_keys) for s in stores},
        "query-write-rate": {str(s.id): _rate(s.write_query) for s in stores},
        "query-read-rate": {str(s.id): _rate(s.read_query) for s in stores},
        "cpu-read-rate": {str(s.id): float(s.read_cpu) for s in stores},
    }
