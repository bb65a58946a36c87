"""Schedulers and checkers: PD's list, pause/resume, evict/grant-leader store sets, and the
background work that makes them visible on the cluster.

The balance and hot-region schedulers are listed but passive, so a topology a test builds
(a leader imbalance, a hot store) stays put until someone acts on it. What does act, on each
``tick``:

* ``evict-leader-scheduler`` moves leaders off its stores, ``batch`` regions per store per tick;
* ``grant-leader-scheduler`` moves leaders onto its stores;
* the rule checker replaces the peers of Offline stores (``replace-rule-offline-peer``), after
  which the empty store becomes Tombstone.

Each of these creates a real operator, visible in ``GET /operators`` and subject to the same
step timing as admin operators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pd.simulator.builder import OP_LEADER, OP_REPLICA, Builder
from pd.simulator.errors import PDFailure, failure
from pd.simulator.operators import PRIORITY_HIGH, PRIORITY_URGENT, Operator
from pd.simulator.topology import OFFLINE, UP, Region

if TYPE_CHECKING:
    from pd.simulator.model import ClusterModel

# types.StringToSchedulerType: the names POST /schedulers accepts -> persisted short type.
SCHEDULER_TYPES = {
    "balance-leader-scheduler": "balance-leader",
    "balance-region-scheduler": "balance-region",
    "balance-witness-scheduler": "balance-witness",
    "balance-hot-region-scheduler": "hot-region",
    "balance-range-scheduler": "balance-range",
    "evict-leader-scheduler": "evict-leader",
    "evict-slow-store-scheduler": "evict-slow-store",
    "evict-slow-trend-scheduler": "evict-slow-trend",
    "evict-stopping-store-scheduler": "evict-stopping-store",
    "grant-leader-scheduler": "grant-leader",
    "grant-hot-region-scheduler": "grant-hot-region",
    "random-merge-scheduler": "random-merge",
    "scatter-range-scheduler": "scatter-range",
    "scatter-range": "scatter-range",
    "shuffle-hot-region-scheduler": "shuffle-hot-region",
    "shuffle-leader-scheduler": "shuffle-leader",
    "shuffle-region-scheduler": "shuffle-region",
    "transfer-witness-leader-scheduler": "transfer-witness-leader",
    "label-scheduler": "label",
}
DEFAULT_SCHEDULERS = (
    "balance-leader-scheduler",
    "balance-region-scheduler",
    "balance-hot-region-scheduler",
    "evict-slow-store-scheduler",
    "evict-stopping-store-scheduler",
)
CHECKERS = ("learner", "replica", "rule", "split", "merge", "joint-state", "affinity")
EVICT_LEADER = "evict-leader-scheduler"
GRANT_LEADER = "grant-leader-scheduler"
WHOLE_RANGE = [{"end-key": "", "start-key": ""}]
OFFLINE_OPS_PER_TICK = 16


@dataclass(slots=True)
class Scheduler:
    """One scheduler instance."""

    name: str
    type: str
    paused_at: int = 0  # Unix seconds, as PD keeps them
    resume_at: int = 0
    stores: dict[int, list[dict[str, str]]] = field(default_factory=dict)  # evict/grant-leader
    batch: int = 3
    args: list[str] = field(default_factory=list)

    def paused(self, now: float) -> bool:
        """PD's ``IsPaused``: the pause ends at ``resume_at``."""
        return self.resume_at > int(now)


class SchedulerController:
    """The schedulers PD runs, their pause state, and checker pauses."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self._drain_credit = 0.0  # replacements the drain pace allows now (model.drain_per_minute)
        self._drain_checked_at: float | None = None
        self.schedulers: dict[str, Scheduler] = {}
        for name in DEFAULT_SCHEDULERS:
            self.schedulers[name] = Scheduler(name, SCHEDULER_TYPES[name], batch=4 if "leader" in name else 3)

    # -- queries ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Enabled schedulers (``GET /schedulers``)."""
        return list(self.schedulers)

    def paused(self) -> list[Scheduler]:
        """Schedulers whose pause has not ended."""
        now = self.model.now()
        return [s for s in self.schedulers.values() if s.paused(now)]

    def get(self, name: str) -> Scheduler | None:
        """A scheduler by name."""
        return self.schedulers.get(name)

    def leader_in_paused(self, store_id: int) -> bool:
        """True while evict-leader holds the store (PD pauses leader transfer into it)."""
        evict = self.schedulers.get(EVICT_LEADER)
        return evict is not None and store_id in evict.stores

    def leader_out_paused(self, store_id: int) -> bool:
        """True while grant-leader holds the store (leaders may not leave it)."""
        grant = self.schedulers.get(GRANT_LEADER)
        return grant is not None and store_id in grant.stores

    def schedulers_v2(self) -> list[dict[str, Any]]:
        """The persisted ``schedulers-v2`` list of the schedule config."""
        out: list[dict[str, Any]] = []
        for s in self.schedulers.values():
            args: list[str] | None = None
            if s.name in (EVICT_LEADER, GRANT_LEADER):
                args = [str(store_id) for store_id in s.stores]
            elif s.args:
                args = list(s.args)
            out.append({"type": s.type, "args": args, "disable": False, "args-payload": ""})
        return out

    # -- changes ---------------------------------------------------------------------------------

    def _check_store(self, store_id: int) -> None:
        if store_id not in self.model.stores:
            raise failure("ErrStoreNotFound", f"store {store_id} not found")

    def create(self, name: str, *, store_id: int | None = None, args: list[str] | None = None) -> Scheduler:
        """Add a scheduler (PDFailure ``scheduler existed`` / ``store N not found``)."""
        kind = SCHEDULER_TYPES[name]
        instance = name
        if kind == "scatter-range" and args:
            instance = f"scatter-range-scheduler-{args[-1]}"
        if instance in self.schedulers:
            raise failure("ErrSchedulerExisted", "scheduler existed")
        scheduler = Scheduler(instance, kind, args=list(args or ()))
        if name in (EVICT_LEADER, GRANT_LEADER):
            if store_id is None:
                raise PDFailure("missing store id")
            self._check_store(store_id)
            scheduler.stores[store_id] = [dict(r) for r in WHOLE_RANGE]
        self.schedulers[instance] = scheduler
        return scheduler

    def add_store(self, name: str, store_id: int) -> None:
        """Apply an existing evict/grant-leader scheduler to one more store."""
        scheduler = self.schedulers.get(name)
        if scheduler is None:
            raise failure("ErrSchedulerNotFound", "scheduler not found")
        self._check_store(store_id)
        scheduler.stores.setdefault(store_id, [dict(r) for r in WHOLE_RANGE])

    def remove_store(self, name: str, store_id: int) -> bool:
        """Drop one store from evict/grant-leader; the last one removes the scheduler.

        Returns True when the scheduler went away. PDFailure ``the config does not exist`` when
        the store is not in the scheduler."""
        scheduler = self.schedulers.get(name)
        if scheduler is None or store_id not in scheduler.stores:
            raise failure("ErrScheduleConfigNotExist", "the config does not exist")
        del scheduler.stores[store_id]
        if not scheduler.stores:
            del self.schedulers[name]
            return True
        return False

    def remove(self, name: str) -> None:
        """Remove a scheduler (PDFailure ``scheduler not found``)."""
        if name not in self.schedulers:
            raise failure("ErrSchedulerNotFound", "scheduler not found")
        del self.schedulers[name]

    def pause(self, name: str, delay: int) -> None:
        """Pause for ``delay`` seconds (``<= 0`` resumes); ``name`` may be ``all``."""
        if name == "all":
            targets = list(self.schedulers.values())
        else:
            scheduler = self.schedulers.get(name)
            if scheduler is None:
                raise failure("ErrSchedulerNotFound", "scheduler not found")
            targets = [scheduler]
        now = int(self.model.now())
        for scheduler in targets:
            if delay > 0:
                scheduler.paused_at, scheduler.resume_at = now, now + delay
            else:
                scheduler.paused_at, scheduler.resume_at = 0, 0

    def expire_pauses(self) -> None:
        """Forget pauses that have ended (the scheduler runs again)."""
        now = self.model.now()
        for scheduler in self.schedulers.values():
            if scheduler.resume_at and not scheduler.paused(now):
                scheduler.paused_at, scheduler.resume_at = 0, 0

    def checker_paused(self, name: str) -> bool:
        """Whether a checker is paused (PDFailure for an unknown checker)."""
        if name not in CHECKERS:
            raise failure("ErrCheckerNotFound", "checker not found")
        return self.model.checker_paused_until.get(name, 0.0) > self.model.now()

    def pause_checker(self, name: str, delay: int) -> None:
        """Pause a checker for ``delay`` seconds (0 resumes)."""
        if name not in CHECKERS:
            raise failure("ErrCheckerNotFound", "checker not found")
        self.model.checker_paused_until[name] = self.model.now() + delay if delay > 0 else 0.0

    # -- background work -------------------------------------------------------------------------

    def schedule(self) -> None:
        """Create this tick's scheduler and checker operators."""
        now = self.model.now()
        evict = self.schedulers.get(EVICT_LEADER)
        if evict is not None and not evict.paused(now):
            self._evict_leaders(evict)
        grant = self.schedulers.get(GRANT_LEADER)
        if grant is not None and not grant.paused(now):
            self._grant_leaders(grant)
        checker = "rule" if self.model.config.placement_rules_enabled else "replica"
        if self.model.config.get("enable-replace-offline-replica") and not self.checker_paused(checker):
            self._replace_offline_peers()

    def _leader_ops_allowed(self) -> int:
        limit = int(self.model.config.get("leader-schedule-limit"))
        busy = sum(
            1
            for op in self.model.operators.running.values()
            if op.kind & OP_LEADER and op.desc.endswith("-scheduler")
        )
        return max(0, limit - busy)

    def _evict_leaders(self, scheduler: Scheduler) -> None:
        model = self.model
        budget = self._leader_ops_allowed()
        for store_id in list(scheduler.stores):
            store = model.stores.get(store_id)
            if store is None or budget <= 0:
                continue
            made = 0
            for region_id in sorted(store.leader_ids):
                if made >= scheduler.batch or budget <= 0:
                    break
                region = model.regions[region_id]
                if region_id in model.operators.running:
                    continue
                targets = self._leader_targets(region, exclude=store_id)
                if not targets:
                    continue
                target = min(targets, key=lambda s: (model.stores[s].leader_count, s))
                if self._add_leader_op("evict-leader-scheduler", region, target, targets, PRIORITY_URGENT):
                    made += 1
                    budget -= 1

    def _grant_leaders(self, scheduler: Scheduler) -> None:
        model = self.model
        budget = self._leader_ops_allowed()
        for store_id in list(scheduler.stores):
            store = model.stores.get(store_id)
            if store is None or store.state != UP or model.is_disconnected(store):
                continue
            made = 0
            for region_id in sorted(store.region_ids - store.leader_ids):
                if made >= scheduler.batch or budget <= 0:
                    break
                region = model.regions[region_id]
                peer = region.voter_on(store_id)
                if (
                    peer is None
                    or region_id in model.operators.running
                    or peer.id in region.unhealthy_peer_ids()
                ):
                    continue
                if self._add_leader_op("grant-leader-scheduler", region, store_id, [], PRIORITY_HIGH):
                    made += 1
                    budget -= 1

    def _leader_targets(self, region: Region, exclude: int) -> list[int]:
        model = self.model
        unhealthy = region.unhealthy_peer_ids()
        return [
            p.store_id
            for p in region.peers
            if p.store_id != exclude
            and not p.is_learner
            and p.id not in unhealthy
            and model.allows_leader_in(model.stores[p.store_id])
        ]

    def _add_leader_op(
        self, desc: str, region: Region, target: int, targets: list[int], priority: int
    ) -> bool:
        try:
            plan = (
                Builder(self.model, region, skip_joint_check=True)
                .set_leader(target)
                .set_leaders(targets)
                .build(OP_LEADER)
            )
        except PDFailure:
            return False
        op = Operator(
            desc=desc,
            brief=plan.brief,
            region=region,
            kind=plan.kind,
            steps=plan.steps,
            created_at=self.model.now(),
            priority=priority,
        )
        return self.model.operators.add(op)

    def _replace_offline_peers(self) -> None:
        model = self.model
        limit = int(model.config.get("replica-schedule-limit"))
        running = sum(1 for op in model.operators.running.values() if op.desc == "replace-rule-offline-peer")
        budget = min(limit - running, OFFLINE_OPS_PER_TICK)
        pace = model.drain_per_minute
        if pace is not None:
            now = model.now()
            elapsed = 0.0 if self._drain_checked_at is None else now - self._drain_checked_at
            self._drain_checked_at = now
            # At most a few seconds' worth saved up, so a paused drain does not burst when it resumes.
            self._drain_credit = min(self._drain_credit + elapsed * pace / 60.0, max(1.0, pace / 12.0))
            budget = min(budget, int(self._drain_credit))
        for store in sorted(model.stores.values(), key=lambda s: s.id):
            if store.state != OFFLINE:
                continue
            for region_id in sorted(store.region_ids):
                if budget <= 0:
                    return
                if region_id in model.operators.running:
                    continue
                region = model.regions[region_id]
                old = region.peer_on(store.id)
                if old is None:
                    continue
                target = self._replacement_store(region)
                if target is None:
                    continue
                try:
                    plan = (
                        Builder(model, region)
                        .remove_peer(store.id)
                        .add_peer(target, old.role)
                        .build(OP_REPLICA)
                    )
                except PDFailure:
                    continue
                op = Operator(
                    desc="replace-rule-offline-peer",
                    brief=plan.brief,
                    region=region,
                    kind=plan.kind,
                    steps=plan.steps,
                    created_at=model.now(),
                    priority=PRIORITY_HIGH,
                )
                if model.operators.add(op):
                    budget -= 1
                    if pace is not None:
                        self._drain_credit -= 1

    def _replacement_store(self, region: Region) -> int | None:
        model = self.model
        present = set(region.store_ids)
        candidates = [
            s
            for s in model.stores.values()
            if s.id not in present and s.state == UP and not model.is_disconnected(s) and not s.busy
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda s: (s.region_size, s.id)).id
