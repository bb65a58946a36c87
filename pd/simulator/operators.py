"""Operators: PD's admin operator creation (with all its checks) and an operator controller
that really runs them against the model.

Admin operators start RUNNING at once (priority Urgent); every ``step_delay`` seconds the
next step is applied to the model, and the operator ends SUCCESS when the last step is done,
CANCEL when cancelled or when its region disappears or changes under it, TIMEOUT when a step
cannot happen within PD's timeout. Finished operators are remembered per region for ten
minutes (``GET /operators/{id}`` and ``/operators/records``), as in PD.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from pd.simulator.builder import (
    OP_ADMIN,
    OP_LEADER,
    OP_MERGE,
    OP_REGION,
    OP_SPLIT,
    Builder,
    Plan,
    kind_text,
)
from pd.simulator.errors import PDFailure, failure
from pd.simulator.gofmt import GO_ZERO_TIME, go_duration, go_time, seconds_to_ns
from pd.simulator.keys import is_hex_key
from pd.simulator.steps import MergeRegion, Outcome, SplitRegion, Step
from pd.simulator.topology import LEARNER, TOMBSTONE, UP, VOTER, Region

if TYPE_CHECKING:
    from pd.simulator.model import ClusterModel

RECORD_TTL = 600.0  # operatorStatusRemainTime
PRIORITY_LOW, PRIORITY_MEDIUM, PRIORITY_HIGH, PRIORITY_URGENT = 0, 1, 2, 3
SPLIT_POLICIES = ("SCAN", "APPROXIMATE", "USEKEY")


class OpStatus(enum.IntEnum):
    """PD's internal ``OpStatus`` (the number in ``?object`` output)."""

    CREATED = 0
    STARTED = 1
    SUCCESS = 2
    CANCELED = 3
    REPLACED = 4
    EXPIRED = 5
    TIMEOUT = 6


# pdpb.OperatorStatus names used in "status: X, operator: …" (OpStatusToPDPB).
_PDPB_NAMES = {
    OpStatus.CREATED: "5",
    OpStatus.STARTED: "RUNNING",
    OpStatus.SUCCESS: "SUCCESS",
    OpStatus.CANCELED: "CANCEL",
    OpStatus.REPLACED: "REPLACE",
    OpStatus.EXPIRED: "TIMEOUT",
    OpStatus.TIMEOUT: "TIMEOUT",
}


class Operator:
    """One operator on one region."""

    __slots__ = (
        "blocked",
        "brief",
        "cancel_reason",
        "conf_ver",
        "create_time",
        "current_step",
        "desc",
        "dispatched",
        "expected_epoch",
        "finish_time",
        "kind",
        "next_step_at",
        "priority",
        "region_id",
        "related",
        "size",
        "start_time",
        "status",
        "step_times",
        "steps",
        "timeout",
        "version",
    )

    def __init__(
        self,
        *,
        desc: str,
        brief: str,
        region: Region,
        kind: int,
        steps: list[Step],
        created_at: float,
        priority: int | None = None,
    ) -> None:
        self.desc = desc
        self.brief = brief
        self.region_id = region.id
        self.version = region.version
        self.conf_ver = region.conf_ver
        self.kind = kind
        self.steps = steps
        self.size = region.approximate_size
        self.timeout = sum(step.timeout(self.size) for step in steps)
        self.priority = (
            priority if priority is not None else (PRIORITY_URGENT if kind & OP_ADMIN else PRIORITY_MEDIUM)
        )
        self.status = OpStatus.CREATED
        self.create_time = created_at
        self.start_time: float | None = None
        self.finish_time: float | None = None
        self.current_step = 0
        self.step_times: list[float | None] = [None] * len(steps)
        self.next_step_at = created_at
        self.cancel_reason = ""
        self.related: Operator | None = None
        self.expected_epoch = (region.version, region.conf_ver)
        self.dispatched = False
        self.blocked = False

    @property
    def running(self) -> bool:
        """True while the operator is STARTED."""
        return self.status == OpStatus.STARTED

    @property
    def status_name(self) -> str:
        """The pdpb status name PD prints (RUNNING, SUCCESS, CANCEL, REPLACE, TIMEOUT)."""
        return _PDPB_NAMES[self.status]

    def text(self, model: ClusterModel) -> str:
        """``Operator.String()``."""
        steps = ", ".join(f"{i}:{{{step.text()}}}" for i, step in enumerate(self.steps))
        start = GO_ZERO_TIME if self.start_time is None else _go_time(model, self.start_time)
        text = (
            f"{self.desc} {{{self.brief}}} (kind:{kind_text(self.kind)}, "
            f"region:{self.region_id}({self.version}, {self.conf_ver}), "
            f"createAt:{_go_time(model, self.create_time)}, startAt:{start}, "
            f"currentStep:{self.current_step}, size:{self.size}, steps:[{steps}], "
            f"timeout:[{go_duration(self.timeout * 10**9)}])"
        )
        if self.status == OpStatus.SUCCESS:
            text += " finished"
        if self.status == OpStatus.TIMEOUT:
            text += " timeout"
        return text

    def status_text(self, model: ClusterModel) -> str:
        """``OpWithStatus`` as ``GET /operators/{id}`` prints it."""
        return f"status: {self.status_name}, operator: {self.text(model)}"

    def record_text(self, model: ClusterModel) -> str:
        """``OpRecord.String()``: the operator plus when it finished and how long it ran."""
        finish = self.finish_time if self.finish_time is not None else model.now()
        start = self.start_time if self.start_time is not None else self.create_time
        if self.status != OpStatus.SUCCESS and self.current_step > 0:
            last = self.step_times[self.current_step - 1]
            start = last if last is not None else start
        duration = go_duration(seconds_to_ns(finish) - seconds_to_ns(start))
        return f"{self.text(model)} (finishAt:{_go_time(model, finish)}, duration:{duration})"

    def to_object(self) -> dict[str, Any]:
        """``OpObject`` for ``GET /operators?object``."""
        return {
            "desc": self.desc,
            "brief": self.brief,
            "region_id": self.region_id,
            "region_epoch": _epoch(self.conf_ver, self.version),
            "kind": self.kind,
            "timeout": go_duration(self.timeout * 10**9),
            "status": int(self.status),
        }


def _epoch(conf_ver: int, version: int) -> dict[str, int]:
    out: dict[str, int] = {}
    if conf_ver:
        out["conf_ver"] = conf_ver
    if version:
        out["version"] = version
    return out


def _go_time(model: ClusterModel, when: float) -> str:
    return go_time(seconds_to_ns(when), model.monotonic_ns(when))


ADD_OPERATOR_FAILED = "ErrAddOperator"


class OperatorController:
    """Running operators, finished-operator records, and PD's admin operator creation."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.running: dict[int, Operator] = {}
        self.records: dict[int, Operator] = {}

    # -- queries ---------------------------------------------------------------------------------

    def get(self, region_id: int) -> Operator | None:
        """The running operator of a region."""
        return self.running.get(region_id)

    def status_of(self, region_id: int) -> Operator | None:
        """The running operator, else the one that finished in the last ten minutes."""
        op = self.running.get(region_id)
        if op is not None:
            return op
        record = self.records.get(region_id)
        if record is not None and record.finish_time is not None:
            if self.model.now() - record.finish_time <= RECORD_TTL:
                return record
        return None

    def select(self, kinds: list[str] | None = None) -> list[Operator]:
        """Running operators; with ``kinds`` (admin/leader/region/waiting) PD's per-kind lists, joined."""
        ops = sorted(self.running.values(), key=lambda o: (o.create_time, o.region_id))
        if kinds is None:
            return ops
        bits = {"admin": OP_ADMIN, "leader": OP_LEADER, "region": OP_REGION}
        out: list[Operator] = []
        for kind in kinds:
            if kind in bits:
                out.extend(op for op in ops if op.kind & bits[kind])
        return out

    def finished_since(self, since: float) -> list[Operator]:
        """Records (last finished operator per region, ten-minute memory) finished at or after ``since``."""
        now = self.model.now()
        out = [
            op
            for op in self.records.values()
            if op.finish_time is not None and now - op.finish_time <= RECORD_TTL and op.finish_time >= since
        ]
        return sorted(out, key=lambda o: (o.finish_time or 0.0, o.region_id))

    # -- adding, finishing ---------------------------------------------------------------------

    def add(self, *ops: Operator) -> bool:
        """PD's ``AddOperator``: all or nothing; replaces lower-priority operators on the regions."""
        for op in ops:
            region = self.model.regions.get(op.region_id)
            if region is None or (region.version, region.conf_ver) != (op.version, op.conf_ver):
                return False
            old = self.running.get(op.region_id)
            if old is not None and op.priority <= old.priority:
                return False
        now = self.model.now()
        for op in ops:
            old = self.running.get(op.region_id)
            if old is not None:
                self._finish(old, OpStatus.REPLACED, now)
            op.status = OpStatus.STARTED
            op.start_time = now
            op.next_step_at = now + self.model.step_delay
            self.running[op.region_id] = op
        return True

    def _add_or_fail(self, *ops: Operator) -> None:
        if not self.add(*ops):
            raise failure(ADD_OPERATOR_FAILED, "failed to add operator, maybe already have one")

    def _finish(self, op: Operator, status: OpStatus, when: float, reason: str = "") -> None:
        if not op.running:
            return
        op.status = status
        op.finish_time = when
        op.cancel_reason = reason
        if self.running.get(op.region_id) is op:
            del self.running[op.region_id]
        self.records[op.region_id] = op
        related = op.related
        if op.kind & OP_MERGE and related is not None and related.running:
            self._finish(related, OpStatus.CANCELED, when, "related merge region")

    def cancel(self, region_id: int) -> None:
        """``DELETE /operators/{id}``: cancel the running operator (PDFailure when none)."""
        op = self.running.get(region_id)
        if op is None:
            raise failure("ErrOperatorNotFound", "operator not found")
        self._finish(op, OpStatus.CANCELED, self.model.now(), "admin stop")

    def cancel_all(self) -> None:
        """``DELETE /operators``: cancel every running operator."""
        now = self.model.now()
        for op in list(self.running.values()):
            self._finish(op, OpStatus.CANCELED, now, "admin stop")

    # -- running ---------------------------------------------------------------------------------

    def advance(self) -> None:
        """Apply every step whose time has come; finish, cancel or time out operators."""
        if not self.running:
            return
        now = self.model.now()
        for op in sorted(self.running.values(), key=lambda o: (o.create_time, o.region_id)):
            if op.running and op.region_id in self.model.regions:
                self._advance(op, now)
        for op in sorted(self.running.values(), key=lambda o: (o.create_time, o.region_id)):
            if op.running and op.region_id not in self.model.regions:
                self._finish(op, OpStatus.CANCELED, min(now, op.next_step_at), "region not found")

    def _advance(self, op: Operator, now: float) -> None:
        model = self.model
        while op.running:
            region = model.regions.get(op.region_id)
            if region is None:
                return
            if op.dispatched:
                return
            step = op.steps[op.current_step]
            if isinstance(step, MergeRegion) and step.passive:
                if step.execute(model, region) is Outcome.DONE:
                    self._step_done(op, min(now, op.next_step_at), region)
                    continue
            elif (region.version, region.conf_ver) != op.expected_epoch:
                self._finish(op, OpStatus.CANCELED, now, "epoch not match")
                return
            if now < op.next_step_at or (isinstance(step, MergeRegion) and step.passive):
                break
            outcome = step.execute(model, region)
            if outcome is Outcome.BLOCKED:
                op.blocked = True
                break
            due = now if op.blocked else op.next_step_at
            op.blocked = False
            if outcome is Outcome.DISPATCHED:
                op.dispatched = True
                op.next_step_at = due
                return
            self._step_done(op, due, model.regions.get(op.region_id))
        if op.running and op.start_time is not None and now - op.start_time > op.timeout:
            self._finish(op, OpStatus.TIMEOUT, now, "timeout")

    def _step_done(self, op: Operator, when: float, region: Region | None) -> None:
        op.step_times[op.current_step] = when
        op.current_step += 1
        op.next_step_at = when + self.model.step_delay
        if region is not None:
            op.expected_epoch = (region.version, region.conf_ver)
        if op.current_step >= len(op.steps):
            self._finish(op, OpStatus.SUCCESS, when)

    # -- PD's admin operator creation (pkg/schedule/handler/handler.go) ------------------------

    def _region(self, region_id: int) -> Region:
        region = self.model.regions.get(region_id)
        if region is None:
            raise failure("ErrRegionNotFound", f"region {region_id} not found")
        return region

    def check_store_state(self, store_id: int) -> None:
        """``checkStoreState``: the store exists, is not Tombstone, and heartbeated in 10 minutes."""
        store = self.model.stores.get(store_id)
        if store is None:
            raise failure("ErrStoreNotFound", f"store {store_id} not found")
        if store.state == TOMBSTONE:
            raise failure("ErrStoreRemoved", f"store {store_id} has been removed")
        if self.model.is_unhealthy(store):
            raise failure("ErrStoreUnhealthy", f"store {store_id} is unhealthy")

    def _admin_op(self, desc: str, region: Region, plan: Plan) -> Operator:
        return Operator(
            desc=desc,
            brief=plan.brief,
            region=region,
            kind=plan.kind,
            steps=plan.steps,
            created_at=self.model.now(),
        )

    def transfer_leader(self, region_id: int, store_id: int) -> Operator:
        """``AddTransferLeaderOperator``."""
        region = self._region(region_id)
        if region.voter_on(store_id) is None:
            raise PDFailure(f"region has no voter in store {store_id}")
        plan = (
            Builder(self.model, region, skip_joint_check=True)
            .set_leader(store_id)
            .set_leaders([])
            .build(OP_ADMIN)
        )
        op = self._admin_op("admin-transfer-leader", region, plan)
        self._add_or_fail(op)
        return op

    def transfer_region(self, region_id: int, roles: dict[int, str]) -> Operator:
        """``AddTransferRegionOperator``: move the region to exactly these stores with these roles."""
        region = self._region(region_id)
        if self.model.config.placement_rules_enabled and any(not role for role in roles.values()):
            raise PDFailure("transfer region without peer role is not supported when placement rules enabled")
        for store_id in roles:
            self.check_store_state(store_id)
        expected = {store_id: role or "voter" for store_id, role in roles.items()}
        peers = {store_id: LEARNER if role == "learner" else VOTER for store_id, role in expected.items()}
        plan = Builder(self.model, region).set_peers(peers).set_expected_roles(expected).build(OP_ADMIN)
        op = self._admin_op("admin-move-region", region, plan)
        self._add_or_fail(op)
        return op

    def transfer_peer(self, region_id: int, from_store: int, to_store: int) -> Operator:
        """``AddTransferPeerOperator``: replace the peer on ``from_store`` by one on ``to_store``."""
        region = self._region(region_id)
        old = region.peer_on(from_store)
        if old is None:
            raise PDFailure(f"region has no peer in store {from_store}")
        self.check_store_state(to_store)
        occupied = region.peer_on(to_store)
        if occupied is not None and to_store != from_store:
            raise PDFailure(
                f"cannot add peer store_id:{to_store} : "
                f"already have peer id:{occupied.id} store_id:{to_store}"
            )
        plan = (
            Builder(self.model, region).remove_peer(from_store).add_peer(to_store, old.role).build(OP_ADMIN)
        )
        op = self._admin_op("admin-move-peer", region, plan)
        self._add_or_fail(op)
        return op

    def _check_admin_add_peer(self, region_id: int, store_id: int) -> Region:
        region = self._region(region_id)
        if region.peer_on(store_id) is not None:
            raise PDFailure(f"region already has peer in store {store_id}")
        self.check_store_state(store_id)
        return region

    def add_peer(self, region_id: int, store_id: int) -> Operator:
        """``AddAddPeerOperator``: add learner, then promote."""
        region = self._check_admin_add_peer(region_id, store_id)
        plan = Builder(self.model, region).add_peer(store_id, VOTER).build(OP_ADMIN)
        op = self._admin_op("admin-add-peer", region, plan)
        self._add_or_fail(op)
        return op

    def add_learner(self, region_id: int, store_id: int) -> Operator:
        """``AddAddLearnerOperator``."""
        region = self._check_admin_add_peer(region_id, store_id)
        plan = Builder(self.model, region).add_peer(store_id, LEARNER).build(OP_ADMIN)
        op = self._admin_op("admin-add-learner", region, plan)
        self._add_or_fail(op)
        return op

    def remove_peer(self, region_id: int, store_id: int) -> Operator:
        """``AddRemovePeerOperator``: removing the leader's peer moves the leader first."""
        region = self._region(region_id)
        if region.peer_on(store_id) is None:
            raise PDFailure(f"region has no peer in store {store_id}")
        plan = Builder(self.model, region).remove_peer(store_id).build(OP_ADMIN)
        op = self._admin_op("admin-remove-peer", region, plan)
        self._add_or_fail(op)
        return op

    def merge_region(self, source_id: int, target_id: int) -> tuple[Operator, Operator]:
        """``AddMergeRegionOperator``: two operators, one per region."""
        source = self._region(source_id)
        target = self._region(target_id)
        for region in (source, target):
            if not region.is_healthy or not self.model.is_replicated(region):
                raise failure("ErrRegionAbnormalPeer", f"region {region.id} has abnormal peer")
        left_ok = source.start_key == target.end_key and source.start_key != ""
        right_ok = source.end_key == target.start_key and source.end_key != ""
        if not left_ok and not right_ok:
            raise failure("ErrRegionNotAdjacent", "two regions are not adjacent")
        if source.in_joint_state or target.in_joint_state:
            raise PDFailure("cannot merge regions which are in joint state")
        kind = OP_ADMIN
        steps: list[Step] = []
        if not _regions_match(source, target):
            peers = {p.store_id: p.role for p in target.peers}
            plan = Builder(self.model, source).set_peers(peers).build(kind)
            steps.extend(plan.steps)
            kind = plan.kind
        steps.append(MergeRegion(source.id, target.id, passive=False))
        brief = f"merge: region {source.id} to {target.id}"
        now = self.model.now()
        op1 = Operator(
            desc="admin-merge-region",
            brief=brief,
            region=source,
            kind=kind | OP_MERGE,
            steps=steps,
            created_at=now,
        )
        passive = MergeRegion(
            source.id, target.id, passive=True, target_start=target.start_key, target_end=target.end_key
        )
        op2 = Operator(
            desc="admin-merge-region",
            brief=brief,
            region=target,
            kind=kind | OP_MERGE,
            steps=[passive],
            created_at=now,
        )
        op2.timeout = op1.timeout
        op1.related, op2.related = op2, op1
        self._add_or_fail(op1, op2)
        return op1, op2

    def split_region(self, region_id: int, policy: str, keys: list[str]) -> Operator:
        """``AddSplitRegionOperator``; keys are hex and only used with the USEKEY policy."""
        region = self._region(region_id)
        name = policy.upper()
        if name not in SPLIT_POLICIES:
            raise PDFailure(f"check policy {policy} is not supported")
        split_keys: list[str] = []
        if name == "USEKEY":
            for key in keys:
                if not is_hex_key(key):
                    raise PDFailure(f"split key {key} is not in hex format")
                split_keys.append(key.upper())
        if region.in_joint_state:
            raise PDFailure("cannot split region which is in joint state")
        brief = f"split: region {region.id} use policy {name}"
        if split_keys:
            brief += " and keys [" + " ".join(split_keys) + "]"
        step = SplitRegion(name, split_keys, region.start_key, region.end_key)
        op = Operator(
            desc="admin-split-region",
            brief=brief,
            region=region,
            kind=OP_ADMIN | OP_SPLIT,
            steps=[step],
            created_at=self.model.now(),
        )
        self._add_or_fail(op)
        return op

    def is_hot(self, region: Region) -> bool:
        """PD's ``IsRegionHot``: the region is in the write or read hot cache."""
        return region.id in self.model.hot_write_regions or region.id in self.model.hot_read_regions

    def scatter_region(self, region_id: int, group: str = "") -> Operator | None:
        """``AddScatterRegionOperator``; None when the scatterer finds nothing to move."""
        region = self._region(region_id)
        if self.is_hot(region):
            raise PDFailure(f"region {region_id} is a hot region")
        op = self._scatter(region)
        if op is None:
            return None
        self._add_or_fail(op)
        return op

    def _scatter(self, region: Region) -> Operator | None:
        model = self.model
        candidates = [s for s in model.stores.values() if s.state == UP and model.allows_leader_in(s)]
        if len(candidates) < len(region.peers):
            return None
        rng = model.rng
        ranked = sorted(candidates, key=lambda s: (s.region_count + rng.random() * 2, s.id))
        chosen = [s.id for s in ranked[: len(region.peers)]]
        by_role = sorted(region.peers, key=lambda p: p.role)
        peers = {
            store_id: (LEARNER if peer.is_learner else VOTER)
            for store_id, peer in zip(chosen, by_role, strict=True)
        }
        voters = [s for s, role in peers.items() if role == VOTER]
        leader = min(voters, key=lambda s: (model.stores[s].leader_count, s))
        current_leader = region.leader.store_id if region.leader is not None else 0
        if {p.store_id: p.role for p in region.peers} == peers and leader == current_leader:
            return None  # isSameDistribution: PD answers 200 and creates nothing
        builder = Builder(model, region).set_peers(peers)
        if leader not in builder.unhealthy:
            builder.set_leader(leader)
        plan = builder.enable_light_weight().enable_force_leader().build(OP_ADMIN)
        return Operator(
            desc="scatter-region",
            brief=plan.brief,
            region=region,
            kind=plan.kind,
            steps=plan.steps,
            created_at=model.now(),
        )

    def scatter_regions(self, region_ids: list[int], start_key: str, end_key: str) -> tuple[int, str]:
        """``AddScatterRegionsOperators``: returns (processed percentage, error text)."""
        failures = 0
        regions: list[Region] = []
        if start_key and end_key:
            for key in (start_key, end_key):
                bad = next((c for c in key if c not in "0123456789abcdefABCDEF"), None)
                if bad is not None:
                    return 0, f"encoding/hex: invalid byte: U+{ord(bad):04X} {bad!r}"
                if len(key) % 2:
                    return 0, "encoding/hex: odd length hex string"
            regions = self.model.scan_regions(start_key.upper(), end_key.upper(), 0)
            if not regions:
                return 0, "empty region"
        else:
            for region_id in region_ids:
                found = self.model.regions.get(region_id)
                if found is None:
                    failures += 1
                else:
                    regions.append(found)
        ops = 0
        for region in regions:
            if self.is_hot(region):
                failures += 1
                continue
            op = self._scatter(region)
            if op is None:
                continue
            if self.add(op):
                ops += 1
            else:
                failures += 1
        if not failures:
            return 100, ""
        return 100 - 100 * failures // (ops + failures), ""


def _regions_match(a: Region, b: Region) -> bool:
    """``isRegionMatch``: the same stores, with the same learner/voter split."""
    if len(a.peers) != len(b.peers):
        return False
    for peer in a.peers:
        other = b.peer_on(peer.store_id)
        if other is None or other.is_learner != peer.is_learner:
            return False
    return True
