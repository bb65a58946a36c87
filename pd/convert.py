"""PD's answers and errors in the domain's terms: one place for the whole ``pd`` package.

``PDCluster`` (the action core's port) and ``PDObserver`` (the agent's) both convert through here,
so a store, a region or a PD failure means the same thing to every caller.
"""

from __future__ import annotations

from actions.errors import ClusterError, ClusterRejected, ClusterUnavailable
from actions.ports import PeerSnapshot, RegionSnapshot, StoreSnapshot
from pd.errors import PDError, PDNotFound, PDRequestError, PDUnavailable
from pd.models import RegionInfo, StoreInfo


def translate(exc: PDError) -> ClusterError:
    """The domain error for a PD failure. Refusals carry PD's own message and its typed reason (decided in
    ``pd.errors``); outages say what failed."""
    if isinstance(exc, PDUnavailable):
        return ClusterUnavailable(str(exc), status=exc.status, maybe_sent=exc.maybe_sent)
    if isinstance(exc, PDRequestError):
        return ClusterRejected(
            exc.message or str(exc),
            status=exc.status,
            not_found=isinstance(exc, PDNotFound),
            refusal=exc.refusal,
        )
    return ClusterUnavailable(f"PD's answer could not be read: {exc}", status=exc.status)


def store_snapshot(info: StoreInfo) -> StoreSnapshot:
    """PD's ``StoreInfo`` as the domain's ``StoreSnapshot``."""
    status = info.status
    return StoreSnapshot(
        id=info.store.id,
        address=info.store.address,
        state_name=info.store.state_name,
        labels=info.store.label_map,
        capacity_bytes=status.capacity_bytes,
        available_bytes=status.available_bytes,
        leader_count=status.leader_count,
        region_count=status.region_count,
        region_size_mib=status.region_size,
        leader_weight=status.leader_weight,
        region_weight=status.region_weight,
        pending_peer_count=status.pending_peer_count,
        last_heartbeat=status.last_heartbeat_ts,
    )


def region_snapshot(info: RegionInfo) -> RegionSnapshot:
    """PD's ``RegionInfo`` as the domain's ``RegionSnapshot``."""
    return RegionSnapshot(
        id=info.id,
        start_key=info.start_key,
        end_key=info.end_key,
        conf_ver=info.epoch.conf_ver,
        version=info.epoch.version,
        peers=tuple(
            PeerSnapshot(id=p.id, store_id=p.store_id, role=p.role_name or "Voter", is_witness=p.is_witness)
            for p in info.peers
        ),
        leader_store_id=info.leader_store_id,
        down_peer_store_ids=tuple(d.peer.store_id for d in info.down_peers),
        pending_peer_store_ids=tuple(p.store_id for p in info.pending_peers),
        approximate_size_mib=info.approximate_size,
        approximate_keys=info.approximate_keys,
        written_bytes=info.written_bytes,
        read_bytes=info.read_bytes,
    )
