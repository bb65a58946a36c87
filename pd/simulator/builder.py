"""PD's operator builder (``pkg/schedule/operator/builder.go``), reduced to what admin and
scheduler operators need: from a region's current peers and a target peer set it derives the
steps (learner first, joint consensus for multi-peer changes, leader moved off a removed
store first), the operator kind bits and the brief (``mv peer: store [1] to [6]``).

Errors carry PD's texts (``cannot create operator: target leader is not allowed``, ``no
operator step is built``…) as ``PDFailure`` without an RFC prefix, as PD's plain
``errors.Errorf`` values print.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pd.simulator.errors import PDFailure
from pd.simulator.steps import (
    AddLearner,
    ChangePeerV2Enter,
    ChangePeerV2Leave,
    PromoteLearner,
    RemovePeer,
    Step,
    TransferLeader,
)
from pd.simulator.topology import DEMOTING_VOTER, LEARNER, UP, VOTER, Region

if TYPE_CHECKING:
    from pd.simulator.model import ClusterModel

# OpKind bits (kind.go); the text lists set bits in this order.
OP_ADMIN = 1 << 0
OP_AFFINITY = 1 << 1
OP_MERGE = 1 << 2
OP_RANGE = 1 << 3
OP_REPLICA = 1 << 4
OP_SPLIT = 1 << 5
OP_HOT_REGION = 1 << 6
OP_REGION = 1 << 7
OP_LEADER = 1 << 8
OP_WITNESS_LEADER = 1 << 9
OP_WITNESS = 1 << 10
OP_SPLIT_SCATTER = 1 << 11
_KIND_NAMES = (
    "admin", "affinity", "merge", "range", "replica", "split", "hot-region", "region", "leader",
    "witness-leader", "witness", "split-scatter",
)  # fmt: skip


def kind_text(kind: int) -> str:
    """``OpKind.String()``: the names of the set bits, comma-joined, or ``unknown``."""
    names = [name for i, name in enumerate(_KIND_NAMES) if kind & (1 << i)]
    return ",".join(names) if names else "unknown"


def store_list(store_ids: list[int] | set[int]) -> str:
    """Go's ``%v`` of a ``[]uint64``: ``[1 6]`` (sorted here; PD iterates a map)."""
    return "[" + " ".join(str(s) for s in sorted(store_ids)) + "]"


@dataclass(slots=True)
class TargetPeer:
    """A peer in a builder's plan; ``id == 0`` means "allocate one"."""

    id: int
    store_id: int
    role: int
    witness: bool = False

    @property
    def is_learner(self) -> bool:
        return self.role == LEARNER


@dataclass(frozen=True, slots=True)
class Plan:
    """What the builder produced."""

    steps: list[Step]
    kind: int
    brief: str


class Builder:
    """Builds the steps that turn a region's peers into a target peer set."""

    def __init__(self, model: ClusterModel, region: Region, *, skip_joint_check: bool = False) -> None:
        self.model = model
        self.region = region
        self.err: str | None = None
        self.origin = {p.store_id: TargetPeer(p.id, p.store_id, p.role, p.is_witness) for p in region.peers}
        unhealthy = region.unhealthy_peer_ids()
        self.unhealthy = {p.store_id for p in region.peers if p.id in unhealthy}
        self.origin_leader = region.leader.store_id if region.leader is not None else 0
        if self.origin_leader not in self.origin:
            self.err = "cannot build operator for region with no leader"
        elif not skip_joint_check and region.in_joint_state:
            self.err = "cannot build operator for region which is in joint state"
        self.target = {k: TargetPeer(v.id, v.store_id, v.role, v.witness) for k, v in self.origin.items()}
        self.target_leader = 0
        self.target_leaders: list[int] = []
        self.expected_roles: dict[int, str] = {}
        self.use_joint = model.config.joint_consensus_enabled
        self.light_weight = False
        self.force_leader = False
        self.steps: list[Step] = []
        self.current: dict[int, TargetPeer] = {}
        self.current_leader = 0
        self.to_add: dict[int, TargetPeer] = {}
        self.to_remove: dict[int, TargetPeer] = {}
        self.to_promote: dict[int, TargetPeer] = {}
        self.to_demote: dict[int, TargetPeer] = {}
        self.peer_add_step: dict[int, int] = {}

    # -- recording the wanted change -----------------------------------------------------------

    def add_peer(self, store_id: int, role: int = VOTER, peer_id: int = 0) -> Builder:
        if self.err is None:
            if store_id in self.target:
                self.err = f"cannot add peer {store_id}: already have peer {self.target[store_id].id}"
            else:
                self.target[store_id] = TargetPeer(peer_id, store_id, role)
        return self

    def remove_peer(self, store_id: int) -> Builder:
        if self.err is None:
            if store_id not in self.target:
                self.err = f"cannot remove peer from {store_id}: not found"
            elif self.target_leader == store_id:
                self.err = f"cannot remove peer from {store_id}: is target leader"
            else:
                del self.target[store_id]
        return self

    def set_leader(self, store_id: int) -> Builder:
        if self.err is None:
            peer = self.target.get(store_id)
            if peer is None:
                self.err = f"cannot transfer leader to {store_id}: not found"
            elif peer.is_learner:
                self.err = f"cannot transfer leader to {store_id}: not voter"
            elif store_id in self.unhealthy:
                self.err = f"cannot transfer leader to {store_id}: unhealthy"
            else:
                self.target_leader = store_id
        return self

    def set_leaders(self, store_ids: list[int]) -> Builder:
        if self.err is None:
            for store_id in sorted(store_ids):
                peer = self.target.get(store_id)
                if peer is None or peer.is_learner or store_id in self.unhealthy:
                    continue
                self.target_leaders.append(store_id)
        return self

    def set_peers(self, peers: dict[int, int]) -> Builder:
        """Replace the target with ``store id -> role``; existing peers keep their ids."""
        if self.err is None:
            if self.target_leader not in peers:
                self.target_leader = 0
            self.target = {s: TargetPeer(0, s, role) for s, role in peers.items()}
        return self

    def set_expected_roles(self, roles: dict[int, str]) -> Builder:
        if self.err is None:
            leaders = [s for s, r in roles.items() if r == "leader"]
            voters = [s for s, r in roles.items() if r == "voter"]
            if len(leaders) > 1:
                self.err = "region cannot have multiple leaders"
                return self
            if leaders:
                self.target_leader = leaders[0]
            for store_id, role in roles.items():
                if role in ("follower", "learner") and self.target_leader == store_id:
                    self.target_leader = 0
            if not leaders and not voters:
                self.err = "region need at least 1 voter or leader"
                return self
            self.expected_roles = dict(roles)
        return self

    def enable_light_weight(self) -> Builder:
        self.light_weight = True
        return self

    def enable_force_leader(self) -> Builder:
        self.force_leader = True
        return self

    # -- building ------------------------------------------------------------------------------

    def build(self, kind: int) -> Plan:
        """Derive the plan, or raise ``PDFailure`` with PD's message."""
        if self.err is not None:
            raise PDFailure(self.err)
        brief = self._prepare()
        kind = self._build_joint(kind) if self.use_joint else self._build_plain(kind)
        return Plan(self.steps, kind, brief)

    def _prepare(self) -> str:
        if not any(not p.is_learner for p in self.target.values()):
            raise PDFailure("cannot create operator: target peers have no voter")
        for store_id, o in self.origin.items():
            wanted = self.target.get(store_id)
            if wanted is None:
                self.to_remove[store_id] = o
                continue
            n = TargetPeer(o.id, store_id, wanted.role, wanted.witness)
            self.target[store_id] = n
            if o.is_learner and not n.is_learner:
                self.to_promote[store_id] = n
            elif not o.is_learner and n.is_learner:
                if self.use_joint:
                    self.to_demote[store_id] = n
                else:
                    self.to_remove[store_id] = o
        for store_id, n in list(self.target.items()):
            existing = self.origin.get(store_id)
            if existing is None or (not self.use_joint and not existing.is_learner and n.is_learner):
                if n.id == 0 or existing is not None:
                    n = TargetPeer(self.model.alloc_id(), store_id, n.role)
                    self.target[store_id] = n
                self.to_add[store_id] = n
        leader = self.target.get(self.target_leader)
        if leader is None or leader.is_learner:
            self.target_leader = 0
        self.current = {k: TargetPeer(v.id, v.store_id, v.role, v.witness) for k, v in self.origin.items()}
        self.current_leader = self.origin_leader
        if self.target_leader and not self._allow_leader(self.target[self.target_leader], self.force_leader):
            raise PDFailure("cannot create operator: target leader is not allowed")
        changes = len(self.to_add) + len(self.to_remove) + len(self.to_promote)
        if changes <= 1 and not self.to_demote and not (len(self.to_remove) == 1 and len(self.target) == 1):
            self.use_joint = False
        return self._brief()

    def _brief(self) -> str:
        if self.to_add and self.to_remove:
            op = "mv light peer" if self.light_weight else "mv peer"
            return f"{op}: store {store_list(set(self.to_remove))} to {store_list(set(self.to_add))}"
        if self.to_add:
            return f"add peer: store {store_list(set(self.to_add))}"
        if self.to_remove:
            return f"rm peer: store {store_list(set(self.to_remove))}"
        if self.to_promote:
            return f"promote peer: store {store_list(set(self.to_promote))}"
        if self.to_demote:
            return f"demote peer: store {store_list(set(self.to_demote))}"
        if self.target_leaders:
            leaders = "[" + " ".join(str(s) for s in self.target_leaders) + "]"
            return (
                f"evict leader: from store {self.origin_leader} to one in {leaders}, "
                f"or to {self.target_leader} (for compatibility)"
            )
        if self.origin_leader != self.target_leader:
            return f"transfer leader: store {self.origin_leader} to {self.target_leader}"
        return ""

    def _allow_leader(self, peer: TargetPeer, ignore_cluster_limit: bool) -> bool:
        if peer.role in (LEARNER, DEMOTING_VOTER):
            return False
        if peer.witness:
            return False
        if peer.store_id == self.current_leader:
            return True
        store = self.model.stores.get(peer.store_id)
        if store is None:
            return False
        if ignore_cluster_limit:
            return True
        return self.model.allows_leader_in(store)

    def _set_target_leader_if_not_exist(self) -> None:
        if self.target_leader:
            return
        for store_id in sorted(self.target):
            peer = self.target[store_id]
            if not self._allow_leader(peer, self.force_leader):
                continue
            if self.expected_roles.get(store_id) == "follower":
                continue
            if not self.target_leader:
                self.target_leader = store_id
                continue
            for prefer in (
                self._prefer_leader_role,
                self._prefer_up_store,
                self._prefer_current_leader,
                self._prefer_keep_voter,
                self._prefer_old_peer,
            ):
                best, candidate = prefer(self.target_leader), prefer(store_id)
                if best < candidate:
                    self.target_leader = store_id
                    break
                if best > candidate:
                    break

    def _prefer_leader_role(self, store_id: int) -> int:
        return int(self.expected_roles.get(store_id) == "leader")

    def _prefer_up_store(self, store_id: int) -> int:
        store = self.model.stores.get(store_id)
        return int(store is not None and store.state == UP)

    def _prefer_current_leader(self, store_id: int) -> int:
        return int(store_id == self.current_leader)

    def _prefer_keep_voter(self, store_id: int) -> int:
        return int(store_id not in self.to_promote)

    def _prefer_old_peer(self, store_id: int) -> int:
        return -self.peer_add_step.get(store_id, 0)

    def _exec_transfer_leader(self, store_id: int) -> None:
        self.steps.append(TransferLeader(self.current_leader, store_id, list(self.target_leaders)))
        self.current_leader = store_id

    def _exec_add_peer(self, peer: TargetPeer) -> None:
        self.steps.append(AddLearner(peer.store_id, peer.id))
        if not peer.is_learner:
            self.steps.append(PromoteLearner(peer.store_id, peer.id))
        self.current[peer.store_id] = peer
        self.peer_add_step[peer.store_id] = len(self.steps)
        self.to_add.pop(peer.store_id, None)

    def _exec_remove_peer(self, peer: TargetPeer) -> None:
        self.steps.append(RemovePeer(peer.store_id, peer.id))
        self.current.pop(peer.store_id, None)
        self.to_remove.pop(peer.store_id, None)

    def _exec_change_peer_v2(self, need_enter: bool, need_transfer_leader: bool) -> None:
        if not self.to_promote and not self.to_demote:
            if need_transfer_leader and self.origin_leader != self.target_leader:
                self._exec_transfer_leader(self.target_leader)
            return
        promotes = [(s, self.to_promote[s].id) for s in sorted(self.to_promote)]
        demotes = [(s, self.to_demote[s].id) for s in sorted(self.to_demote)]
        for s in self.to_promote:
            self.current[s] = self.to_promote[s]
        for s in self.to_demote:
            self.current[s] = self.to_demote[s]
        self.to_promote, self.to_demote = {}, {}
        if need_enter:
            self.steps.append(ChangePeerV2Enter(promotes, demotes))
        if need_transfer_leader and self.origin_leader != self.target_leader:
            self._exec_transfer_leader(self.target_leader)
        if not (need_enter and len(promotes) + len(demotes) == 1):
            self.steps.append(ChangePeerV2Leave(list(promotes), list(demotes)))

    def _build_joint(self, kind: int) -> int:
        for store_id in sorted(self.to_add):
            peer = self.to_add[store_id]
            if not peer.is_learner:
                self._exec_add_peer(TargetPeer(peer.id, store_id, LEARNER))
                self.to_promote[store_id] = peer
            else:
                self._exec_add_peer(peer)
            kind |= OP_REGION
        self._set_target_leader_if_not_exist()
        if not self.target_leader:
            raise PDFailure("no valid leader")
        for store_id in sorted(self.to_remove):
            peer = self.to_remove[store_id]
            if not peer.is_learner:
                self.to_demote[store_id] = TargetPeer(peer.id, store_id, LEARNER)
        before = self.origin.get(self.target_leader)
        after = self.target.get(self.origin_leader)
        if before is not None and not before.is_learner:
            if self.origin_leader != self.target_leader:
                self._exec_transfer_leader(self.target_leader)
                kind |= OP_LEADER
            self._exec_change_peer_v2(True, False)
        elif self.origin_leader == 0 or (after is not None and not after.is_learner):
            self._exec_change_peer_v2(True, False)
            if self.origin_leader != self.target_leader:
                self._exec_transfer_leader(self.target_leader)
                kind |= OP_LEADER
        else:
            self._exec_change_peer_v2(True, True)
            kind |= OP_LEADER
        for store_id in sorted(self.to_remove):
            self._exec_remove_peer(self.to_remove[store_id])
            kind |= OP_REGION
        return kind

    def _build_plain(self, kind: int) -> int:
        # Without joint consensus one change happens at a time; a store that is replaced
        # (voter demoted to learner) is emptied before its new peer is added.
        for store_id in sorted(s for s in self.to_remove if s in self.to_add):
            kind = self._plain_remove(store_id, kind)
        for store_id in sorted(self.to_add):
            self._exec_add_peer(self.to_add[store_id])
            kind |= OP_REGION
        for store_id in sorted(self.to_promote):
            peer = self.to_promote.pop(store_id)
            self.steps.append(PromoteLearner(store_id, peer.id))
            self.current[store_id] = peer
        for store_id in sorted(self.to_remove):
            kind = self._plain_remove(store_id, kind)
        self._set_target_leader_if_not_exist()
        if (
            self.target_leader
            and self.current_leader != self.target_leader
            and self.target_leader in self.current
        ):
            self._exec_transfer_leader(self.target_leader)
            kind |= OP_LEADER
        if not self.steps:
            raise PDFailure("no operator step is built")
        return kind

    def _plain_remove(self, store_id: int, kind: int) -> int:
        if store_id == self.current_leader:
            self._set_target_leader_if_not_exist()
            target = self.target_leader
            if not target or target == store_id or target not in self.current:
                raise PDFailure("fail to build operator: plan is empty, maybe no valid leader")
            self._exec_transfer_leader(target)
            kind |= OP_LEADER
        self._exec_remove_peer(self.to_remove[store_id])
        return kind | OP_REGION
