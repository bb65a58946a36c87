"""Operator steps: how PD prints them, how long PD waits for them, and what TiKV does with them.

Each step's ``text()`` is PD's ``OpStep.String()``; ``timeout()`` follows ``step.go``
(fast steps ``max(60 s, 0.6 s/MiB)``, slow steps ``max(10 min, 6 s/MiB)``); ``execute()``
applies the step to the model the way TiKV would, or reports that it cannot happen yet
(the target store is silent, the leader would be removed…), in which case the operator
waits and eventually times out, as on a real cluster.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pd.simulator.keys import end_before, middle_key
from pd.simulator.topology import DEMOTING_VOTER, INCOMING_VOTER, LEARNER, TOMBSTONE, VOTER, Region

if TYPE_CHECKING:
    from pd.simulator.model import ClusterModel

FAST_STEP_SECONDS = 60
SLOW_STEP_SECONDS = 600


def fast_step_seconds(size_mib: int) -> int:
    """``fastStepWaitDuration``: ``max(60 s, 0.6 s per MiB)``."""
    return max(FAST_STEP_SECONDS, int(0.6 * size_mib))


def slow_step_seconds(size_mib: int) -> int:
    """``slowStepWaitDuration``: ``max(10 min, 6 s per MiB)``."""
    return max(SLOW_STEP_SECONDS, 6 * size_mib)


class Outcome(enum.Enum):
    """What happened when a step was tried."""

    DONE = "done"  # the step took effect; move to the next one
    BLOCKED = "blocked"  # TiKV cannot do it yet; try again later (the operator may time out)
    DISPATCHED = "dispatched"  # sent, but PD never sees it finish (the source side of a merge)


def _store_reachable(model: ClusterModel, store_id: int) -> bool:
    store = model.stores.get(store_id)
    return store is not None and store.state != TOMBSTONE and not model.is_disconnected(store)


def _leader_reachable(model: ClusterModel, region: Region) -> bool:
    return region.leader is not None and _store_reachable(model, region.leader.store_id)


class Step:
    """One step of an operator."""

    __slots__ = ()

    def text(self) -> str:
        """PD's ``String()`` of the step."""
        raise NotImplementedError

    def timeout(self, size_mib: int) -> int:
        """Seconds PD allows for the step."""
        return fast_step_seconds(size_mib)

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        """Apply the step to ``region`` through the model's mutators."""
        raise NotImplementedError


@dataclass(slots=True)
class TransferLeader(Step):
    """Move the leader from one store to another."""

    from_store: int
    to_store: int
    to_stores: list[int] = field(default_factory=list)

    def text(self) -> str:
        return f"transfer leader from store {self.from_store} to store {self.to_store}"

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        targets = [self.to_store, *self.to_stores]
        if region.leader is not None and region.leader.store_id in targets:
            return Outcome.DONE
        if not _leader_reachable(model, region):
            return Outcome.BLOCKED
        for store_id in targets:
            peer = region.peer_on(store_id)
            if (
                peer is not None
                and peer.role in (VOTER, INCOMING_VOTER)
                and _store_reachable(model, store_id)
            ):
                model.set_leader(region.id, store_id)
                return Outcome.DONE
        return Outcome.BLOCKED


@dataclass(slots=True)
class AddLearner(Step):
    """Add a learner peer (a snapshot is sent to the store)."""

    to_store: int
    peer_id: int

    def text(self) -> str:
        return f"add learner peer {self.peer_id} on store {self.to_store}"

    def timeout(self, size_mib: int) -> int:
        return slow_step_seconds(size_mib)

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        existing = region.peer_on(self.to_store)
        if existing is not None:
            return Outcome.DONE if existing.id == self.peer_id else Outcome.BLOCKED
        if not _leader_reachable(model, region) or not _store_reachable(model, self.to_store):
            return Outcome.BLOCKED
        model.add_peer(region.id, self.to_store, learner=True, peer_id=self.peer_id)
        return Outcome.DONE


@dataclass(slots=True)
class PromoteLearner(Step):
    """Promote a learner to voter."""

    to_store: int
    peer_id: int

    def text(self) -> str:
        return f"promote learner peer {self.peer_id} on store {self.to_store} to voter"

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        peer = region.peer_on(self.to_store)
        if peer is None or peer.id != self.peer_id:
            return Outcome.BLOCKED
        if peer.role == VOTER:
            return Outcome.DONE
        if not _leader_reachable(model, region):
            return Outcome.BLOCKED
        model.set_peer_role(region.id, self.to_store, VOTER)
        return Outcome.DONE


@dataclass(slots=True)
class ChangePeerV2Enter(Step):
    """Enter joint consensus: learners become IncomingVoters, voters become DemotingVoters."""

    promotes: list[tuple[int, int]]  # (store id, peer id)
    demotes: list[tuple[int, int]]

    def text(self) -> str:
        parts = ["use joint consensus"]
        parts += [f"promote learner peer {p} on store {s} to voter" for s, p in self.promotes]
        parts += [f"demote voter peer {p} on store {s} to learner" for s, p in self.demotes]
        return ", ".join(parts)

    def timeout(self, size_mib: int) -> int:
        return fast_step_seconds(size_mib) * (len(self.promotes) + len(self.demotes) + 1)

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        if not _leader_reachable(model, region):
            return Outcome.BLOCKED
        single = len(self.promotes) + len(self.demotes) == 1
        changes = [(s, p, VOTER if single else INCOMING_VOTER) for s, p in self.promotes]
        changes += [(s, p, LEARNER if single else DEMOTING_VOTER) for s, p in self.demotes]
        for store_id, peer_id, _ in changes:
            peer = region.peer_on(store_id)
            if peer is None or peer.id != peer_id:
                return Outcome.BLOCKED
        for store_id, _, role in changes:
            model.set_peer_role(region.id, store_id, role)
        return Outcome.DONE


@dataclass(slots=True)
class ChangePeerV2Leave(Step):
    """Leave joint consensus: IncomingVoters become voters, DemotingVoters become learners."""

    promotes: list[tuple[int, int]]
    demotes: list[tuple[int, int]]

    def text(self) -> str:
        parts = ["leave joint state"]
        parts += [f"promote learner peer {p} on store {s} to voter" for s, p in self.promotes]
        parts += [f"demote voter peer {p} on store {s} to learner" for s, p in self.demotes]
        return ", ".join(parts)

    def timeout(self, size_mib: int) -> int:
        return fast_step_seconds(size_mib) * (len(self.promotes) + len(self.demotes) + 1)

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        if not _leader_reachable(model, region):
            return Outcome.BLOCKED
        if region.leader is not None and region.leader.role == DEMOTING_VOTER:
            return Outcome.BLOCKED  # TiKV refuses to demote the leader
        for store_id, _ in self.promotes:
            peer = region.peer_on(store_id)
            if peer is not None and peer.role == INCOMING_VOTER:
                model.set_peer_role(region.id, store_id, VOTER)
        for store_id, _ in self.demotes:
            peer = region.peer_on(store_id)
            if peer is not None and peer.role == DEMOTING_VOTER:
                model.set_peer_role(region.id, store_id, LEARNER)
        return Outcome.DONE


@dataclass(slots=True)
class RemovePeer(Step):
    """Remove a peer (never the leader's)."""

    from_store: int
    peer_id: int

    def text(self) -> str:
        return f"remove peer on store {self.from_store}"

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        peer = region.peer_on(self.from_store)
        if peer is None:
            return Outcome.DONE
        if region.leader is peer or not _leader_reachable(model, region):
            return Outcome.BLOCKED
        model.remove_peer(region.id, self.from_store)
        return Outcome.DONE


@dataclass(slots=True)
class MergeRegion(Step):
    """Merge the source region into the target; both operators carry this step."""

    source_id: int
    target_id: int
    passive: bool
    target_start: str = ""
    target_end: str = ""

    def text(self) -> str:
        return f"merge region {self.source_id} into region {self.target_id}"

    def timeout(self, size_mib: int) -> int:
        return fast_step_seconds(size_mib) * 10

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        if self.passive:
            changed = region.start_key != self.target_start or region.end_key != self.target_end
            return Outcome.DONE if changed else Outcome.BLOCKED
        target = model.regions.get(self.target_id)
        if target is None or not _leader_reachable(model, region) or not _leader_reachable(model, target):
            return Outcome.BLOCKED
        if sorted(region.store_ids) != sorted(target.store_ids):
            return Outcome.BLOCKED
        model.merge_regions(self.source_id, self.target_id)
        return Outcome.DISPATCHED


@dataclass(slots=True)
class SplitRegion(Step):
    """Split the region by policy (SCAN/APPROXIMATE: in the middle; USEKEY: at the given keys)."""

    policy: str
    keys: list[str]
    start_key: str
    end_key: str

    def text(self) -> str:
        return f"split region with policy {self.policy}"

    def execute(self, model: ClusterModel, region: Region) -> Outcome:
        if region.start_key != self.start_key or region.end_key != self.end_key:
            return Outcome.DONE
        if not _leader_reachable(model, region):
            return Outcome.BLOCKED
        if self.policy == "USEKEY":
            keys = [k for k in self.keys if k > region.start_key and end_before(k, region.end_key)]
            if not keys:
                return Outcome.BLOCKED  # TiKV ignores keys outside the region; PD waits, then times out
        else:
            keys = [middle_key(region.start_key, region.end_key)]
        model.split_region(region.id, keys)
        return Outcome.DONE
