"""``PDCluster``: the action core's ``Cluster`` port (``actions.ports``) over ``PDClient``.

PD's models become the domain's snapshots here, and ``PDError``s become ``actions.errors.ClusterError``s
through ``pd.calls.PDCalls`` (``pd.convert.translate``):

    PDUnavailable (connection, timeout, 5xx plumbing, 429, no leader)  -> ClusterUnavailable
        ``maybe_sent`` is kept: a write PD may have received must not be called "not sent"
    PDRequestError (PD answered and refused: 400, 404, 410, a 500 refusal) -> ClusterRejected
        with PD's own message and status; ``not_found`` for 404-like answers
    PDResponseError (a 200 this adapter cannot read)                     -> ClusterUnavailable

Reads that ask about one thing and find it missing (a region, a store, an operator) return ``None``
instead of raising, because "it is not there" is an answer preflight and verification need.
"""

from __future__ import annotations

import asyncio
from typing import Any

from actions.models import OperatorOutcome, PDRequest
from actions.ports import ClusterHealth, OperatorSnapshot, RegionSnapshot, StoreSnapshot
from pd.calls import PDCalls
from pd.client import PDClient
from pd.convert import region_snapshot, store_snapshot
from pd.errors import (
    PDError,
    PDGone,
    PDNoLeader,
    PDOperatorNotFound,
    PDRegionNotFound,
    PDStoreNotFound,
)
from pd.models import OperatorStatus, OperatorStatusKind

_OUTCOMES = {
    OperatorStatusKind.RUNNING: OperatorOutcome.RUNNING,
    # Not started yet (PD prints the out-of-range enum "5"): it will run, so it counts as running.
    OperatorStatusKind.CREATED: OperatorOutcome.RUNNING,
    OperatorStatusKind.SUCCESS: OperatorOutcome.SUCCESS,
    OperatorStatusKind.TIMEOUT: OperatorOutcome.TIMEOUT,
    OperatorStatusKind.CANCEL: OperatorOutcome.CANCEL,
    OperatorStatusKind.REPLACE: OperatorOutcome.REPLACE,
}


def operator_snapshot(region_id: int, status: OperatorStatus) -> OperatorSnapshot:
    """PD's ``GET /operators/{id}`` answer as the domain's ``OperatorSnapshot``."""
    return OperatorSnapshot(
        region_id=status.region_id or region_id,
        outcome=_OUTCOMES[status.status],
        desc=status.desc,
        brief=status.brief,
        text=status.operator,
    )


class PDCluster:
    """Live PD through ``PDClient``; implements ``actions.ports.Cluster``.

    Reads send ``read_caller_id`` as ``X-Caller-ID`` (the client's default when None); writes send the
    caller id they are given (``tikv-chatops/<proposal-id>``). Every request goes through one
    ``PDCalls`` (counted, PD's errors translated).
    """

    def __init__(self, client: PDClient, *, read_caller_id: str | None = None) -> None:
        self._client = client
        self._caller_id = read_caller_id
        self._pd = PDCalls()

    @property
    def requests_made(self) -> int:
        """PD requests made through this adapter so far (a read the client retried counts once)."""
        return self._pd.requests_made

    async def health(self) -> ClusterHealth:
        """``GET /health`` for the members, ``GET /members`` for the leader (no leader: ``leader=None``)."""
        # Each request is made inside its own task (PDCalls calls the function it is given).
        health, members = await asyncio.gather(
            self._pd.call(lambda: self._client.get_health(caller_id=self._caller_id)),
            self._pd.find(lambda: self._client.get_members(caller_id=self._caller_id), PDNoLeader),
        )
        leader = None if isinstance(members, PDError) else members.leader
        return ClusterHealth(
            leader=leader.name if leader is not None and leader.name else None,
            members=len(health),
            healthy_members=sum(m.health for m in health),
        )

    async def get_stores(self) -> list[StoreSnapshot]:
        info = await self._pd.call(lambda: self._client.get_stores(caller_id=self._caller_id))
        return [store_snapshot(s) for s in info.stores]

    async def get_store(self, store_id: int) -> StoreSnapshot | None:
        """The store, a Tombstone snapshot when PD answers 410 Gone, ``None`` when PD does not know it."""
        info = await self._pd.find(
            lambda: self._client.get_store(store_id, caller_id=self._caller_id), PDStoreNotFound, PDGone
        )
        if isinstance(info, PDGone):
            return StoreSnapshot(id=store_id, address="", state_name="Tombstone")
        return None if isinstance(info, PDError) else store_snapshot(info)

    async def get_region(self, region_id: int) -> RegionSnapshot | None:
        info = await self._pd.find(
            lambda: self._client.get_region_by_id(region_id, caller_id=self._caller_id), PDRegionNotFound
        )
        return None if isinstance(info, PDError) else region_snapshot(info)

    async def get_operator(self, region_id: int) -> OperatorSnapshot | None:
        """The running operator, or the last one that finished in the past ten minutes; else ``None``."""
        status = await self._pd.find(
            lambda: self._client.get_operator_status(region_id, caller_id=self._caller_id), PDOperatorNotFound
        )
        return None if isinstance(status, PDError) else operator_snapshot(region_id, status)

    async def get_schedulers(self) -> list[str]:
        return await self._pd.call(lambda: self._client.get_schedulers(caller_id=self._caller_id))

    async def get_paused_schedulers(self) -> list[str]:
        return await self._pd.call(lambda: self._client.get_schedulers("paused", caller_id=self._caller_id))

    async def get_evict_leader_store_ids(self) -> list[int]:
        config = await self._pd.call(lambda: self._client.get_evict_leader_stores(caller_id=self._caller_id))
        return list(config.store_ids)

    async def get_config(self) -> dict[str, Any]:
        """``schedule`` merged with ``replication`` from one ``GET /config``, values as PD sent them."""
        config = await self._pd.call(lambda: self._client.get_config(caller_id=self._caller_id))
        merged: dict[str, Any] = {}
        for section in ("schedule", "replication"):
            values = config.get(section)
            if isinstance(values, dict):
                merged.update(values)
        return merged

    async def get_reject_leader_labels(self) -> set[tuple[str, str]]:
        """The (key, value) store labels PD's ``label-property`` marks ``reject-leader``."""
        config = await self._pd.call(
            lambda: self._client.get_label_property_config(caller_id=self._caller_id)
        )
        rules = config.get("reject-leader")
        return {
            (str(r.get("key", "")), str(r.get("value", "")))
            for r in (rules if isinstance(rules, list) else [])
            if isinstance(r, dict)
        }

    async def get_store_limits(self) -> dict[int, dict[str, float]]:
        limits = await self._pd.call(lambda: self._client.get_stores_limit(caller_id=self._caller_id))
        return {
            store_id: {"add-peer": limit.add_peer, "remove-peer": limit.remove_peer}
            for store_id, limit in limits.items()
        }

    async def get_hot_region_ids(self) -> set[int]:
        """Every region id in PD's hot write and hot read peer statistics."""
        write, read = await asyncio.gather(
            self._pd.call(lambda: self._client.get_hot_write_regions(caller_id=self._caller_id)),
            self._pd.call(lambda: self._client.get_hot_read_regions(caller_id=self._caller_id)),
        )
        return {
            stat.region_id
            for infos in (write, read)
            for by_store in (infos.as_peer, infos.as_leader)
            for peers in by_store.values()
            for stat in peers.statistics
        }

    async def get_degraded_region_ids(self) -> set[int]:
        """Regions in PD's ``down-peer`` or ``miss-peer`` check lists."""
        down, missing = await asyncio.gather(
            self._pd.call(lambda: self._client.get_regions_check("down-peer", caller_id=self._caller_id)),
            self._pd.call(lambda: self._client.get_regions_check("miss-peer", caller_id=self._caller_id)),
        )
        return {r.id for r in down.regions} | {r.id for r in missing.regions}

    async def send(self, request: PDRequest, *, caller_id: str) -> Any:
        """Send one catalog-built write exactly once (the client never resends a write PD may have seen)."""
        return await self._pd.call(lambda: self._client.send(request, caller_id=caller_id))
