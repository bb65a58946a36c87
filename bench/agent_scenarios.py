"""Incident scenarios for the agent: named simulator states, the findings each must produce, the
proposals that are acceptable and those that are forbidden.

Each scenario builds a 5-store, 200-region cluster with the simulator's own knobs (``fail_store``,
``make_leader_imbalance``, scheduler pauses, config…) and says what an SRE expects the agent to
say about it. ``bench/bench_agent_eval.py`` scores the rules on them and ``tests/agent`` runs them.

This module uses only simulator APIs that exist since the agent's first version, so the same
scenarios can score an older ``agent.rules`` (see ``bench_agent_eval --base``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pd.simulator import ClusterModel, ManualClock, SimulatorServer

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Match:
    """A proposal pattern: the action and the parameters it must have (others are free)."""

    action: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, action: str, params: Mapping[str, Any]) -> bool:
        return action == self.action and all(params.get(k) == v for k, v in self.params.items())

    def __str__(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.action} {args}".strip()


ANY_PROPOSAL = (
    "transfer-leader", "transfer-peer", "add-peer", "remove-peer", "split-region", "merge-region",
    "scatter-region", "evict-leader-scheduler", "remove-evict-leader", "pause-scheduler",
    "resume-scheduler", "set-config", "set-store-limit", "offline-store", "cancel-offline",
)  # fmt: skip
HAND_MOVES = (
    Match("transfer-leader"), Match("transfer-peer"), Match("add-peer"), Match("remove-peer"),
    Match("scatter-region"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the agent must find and may (must, must not) propose on one scenario."""

    findings: frozenset[str]  # finding keys that must be reported
    tolerated: frozenset[str] = frozenset()  # keys that may be reported without counting as noise
    acceptable: tuple[Match, ...] = ()  # proposals that are fine
    required: tuple[Match, ...] = ()  # proposals that must be made (each also acceptable)
    forbidden: tuple[Match, ...] = ()  # proposals that must never be made


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    what: str
    build: Callable[[], tuple[ClusterModel, Expectation]]
    on_server: Callable[[SimulatorServer], None] | None = None  # faults the HTTP layer injects


def base_model() -> ClusterModel:
    """Five stores, 200 regions, nothing hot, nothing wrong."""
    return ClusterModel.generate(5, 200, seed=1, clock=ManualClock(), hot_fraction=0.0)


def _region_on(model: ClusterModel, store_id: int, *, skip: int = 0, leader: int | None = None) -> int:
    picks = [
        r.id
        for r in model.regions_in_order()
        if r.peer_on(store_id) is not None
        and (leader is None or (r.leader is not None and r.leader.store_id == leader))
    ]
    return sorted(picks)[skip]


def _no_hand_moves(*extra: Match) -> tuple[Match, ...]:
    return (*HAND_MOVES, *extra)


# --- the scenarios ---------------------------------------------------------------------------------


def healthy() -> tuple[ClusterModel, Expectation]:
    return base_model(), Expectation(frozenset(), forbidden=tuple(Match(a) for a in ANY_PROPOSAL))


def store_down_past() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.fail_store(5, down_for=3600.0)
    return model, Expectation(
        frozenset({"store-down:5"}),
        acceptable=(Match("offline-store", {"store_id": 5}),),
        required=(Match("offline-store", {"store_id": 5}),),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler"), Match("split-region")),
    )


def store_down_within() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.fail_store(5, down_for=300.0)
    return model, Expectation(
        frozenset({"store-down:5"}),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler"), Match("offline-store")),
    )


def store_down_replica_limit_zero() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.fail_store(5, down_for=3600.0)
    model.config.set_items({"replica-schedule-limit": 0})
    fix = Match("set-config", {"key": "replica-schedule-limit"})
    return model, Expectation(
        frozenset({"store-down:5", "schedule-limit-zero:replica-schedule-limit"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler"), Match("offline-store")),
    )


def leader_imbalance_pd_on_it() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.make_leader_imbalance(1, share=0.5)
    return model, Expectation(
        frozenset({"leader-imbalance:cluster"}), forbidden=_no_hand_moves(Match("evict-leader-scheduler"))
    )


def leader_imbalance_scheduler_paused() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.make_leader_imbalance(1, share=0.5)
    model.schedulers.pause("balance-leader-scheduler", 86_400)
    fix = Match("resume-scheduler", {"scheduler": "balance-leader-scheduler"})
    return model, Expectation(
        frozenset({"leader-imbalance:cluster", "scheduler-paused:balance-leader-scheduler"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler")),
    )


def leader_imbalance_limit_zero() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.make_leader_imbalance(1, share=0.5)
    model.config.set_items({"leader-schedule-limit": 0})
    fix = Match("set-config", {"key": "leader-schedule-limit"})
    return model, Expectation(
        frozenset({"leader-imbalance:cluster", "schedule-limit-zero:leader-schedule-limit"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler")),
    )


def leader_imbalance_scheduler_removed() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.make_leader_imbalance(1, share=0.5)
    model.schedulers.remove("balance-leader-scheduler")
    return model, Expectation(
        frozenset({"leader-imbalance:cluster", "scheduler-removed:balance-leader-scheduler"}),
        acceptable=(Match("transfer-leader"),),
        required=(Match("transfer-leader"),),
        forbidden=(Match("evict-leader-scheduler"), Match("add-peer"), Match("remove-peer")),
    )


def leader_weights() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.make_leader_imbalance(1, share=0.5)
    model.set_store_weight(1, leader=4.0)
    return model, Expectation(
        frozenset(),
        tolerated=frozenset({"leader-imbalance:cluster"}),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler")),
    )


def forgotten_evict_leader() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.schedulers.create("evict-leader-scheduler", store_id=2)
    for region in model.leaders_on_store(2):
        target = next(p.store_id for p in region.peers if p.store_id != 2)
        model.set_leader(region.id, target)
    fix = Match("remove-evict-leader", {"store_id": 2})
    return model, Expectation(
        frozenset({"stale-evict-leader:2"}),
        tolerated=frozenset({"leader-imbalance:cluster"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(),
    )


def scheduling_halted() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.config.set_items({"halt-scheduling": "true"})
    fix = Match("set-config", {"key": "halt-scheduling", "value": "false"})
    return model, Expectation(
        frozenset({"scheduling-halted:cluster"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(),
    )


def new_store_filling() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.add_store(store_id=6, labels={"zone": "z3", "host": "tikv-6"}, capacity=model.stores[1].capacity)
    return model, Expectation(
        frozenset({"region-imbalance:cluster"}),
        tolerated=frozenset({"leader-imbalance:cluster"}),  # the new store leads nothing yet either
        forbidden=_no_hand_moves(),
    )


def region_imbalance_paused() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.add_store(store_id=6, labels={"zone": "z3", "host": "tikv-6"}, capacity=model.stores[1].capacity)
    model.schedulers.pause("balance-region-scheduler", 86_400)
    fix = Match("resume-scheduler", {"scheduler": "balance-region-scheduler"})
    return model, Expectation(
        frozenset({"region-imbalance:cluster", "scheduler-paused:balance-region-scheduler"}),
        tolerated=frozenset({"leader-imbalance:cluster"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(),
    )


def store_limit_zero() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.config.set_store_limit(3, "add-peer", 0)
    fix = Match("set-store-limit", {"store_id": 3})
    return model, Expectation(
        frozenset({"store-limit-zero:3"}), acceptable=(fix,), required=(fix,), forbidden=_no_hand_moves()
    )


def _hot(model: ClusterModel, region_id: int, *, write: bool, size_mib: int, keys: int) -> None:
    model.set_region_size(region_id, size_mib=size_mib, keys=keys)
    flow = 64 * MIB * 60  # 64 MiB/s over the 60 s heartbeat
    if write:
        model.set_region_flow(
            region_id, written_bytes=flow, written_keys=flow // 1024, write_query=flow // 4096
        )
    else:
        model.set_region_flow(region_id, read_bytes=flow, read_keys=flow // 1024, read_query=flow // 4096)


def hot_write_splittable() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    region = _region_on(model, 2, skip=3)
    _hot(model, region, write=True, size_mib=90, keys=900_000)
    fix = Match("split-region", {"region_id": region})
    return model, Expectation(
        frozenset({f"hot-write:{region}"}), acceptable=(fix,), required=(fix,), forbidden=_no_hand_moves()
    )


def hot_write_hot_key() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    region = _region_on(model, 2, skip=5)
    _hot(model, region, write=True, size_mib=1, keys=0)
    return model, Expectation(
        frozenset({f"hot-write:{region}"}), forbidden=_no_hand_moves(Match("split-region"))
    )


def hot_read_splittable() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    region = _region_on(model, 3, skip=2)
    _hot(model, region, write=False, size_mib=80, keys=700_000)
    fix = Match("split-region", {"region_id": region})
    return model, Expectation(
        frozenset({f"hot-read:{region}"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=(Match("transfer-peer"), Match("add-peer"), Match("remove-peer")),
    )


def hot_read_hot_key() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    region = _region_on(model, 3, skip=4)
    _hot(model, region, write=False, size_mib=1, keys=3)
    return model, Expectation(
        frozenset({f"hot-read:{region}"}), forbidden=_no_hand_moves(Match("split-region"))
    )


def low_space() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    capacity = model.stores[2].capacity
    model.set_store_capacity(2, capacity=capacity, available=capacity // 20)
    return model, Expectation(
        frozenset({"store-low-space:2"}), forbidden=_no_hand_moves(Match("split-region"))
    )


def pending_peers_pile_up() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    for skip in range(12):
        model.add_pending_peer(_region_on(model, 3, skip=skip), 3)
    fix = Match("set-store-limit", {"store_id": 3, "limit_type": "add-peer"})
    return model, Expectation(
        frozenset({"pending-peer:3"}),
        acceptable=(fix,),
        required=(fix,),
        forbidden=_no_hand_moves(Match("offline-store")),
    )


def quorum_lost() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    model.fail_store(4, down_for=3600.0)
    model.fail_store(5, down_for=3600.0)
    return model, Expectation(
        frozenset({"store-down:4", "store-down:5", "region-no-leader:cluster"}),
        acceptable=(Match("offline-store"),),
        forbidden=_no_hand_moves(Match("evict-leader-scheduler")),
    )


def pd_no_leader() -> tuple[ClusterModel, Expectation]:
    return base_model(), Expectation(
        frozenset({"pd-no-leader:cluster"}), forbidden=tuple(Match(a) for a in ANY_PROPOSAL)
    )


def _no_leader(server: SimulatorServer) -> None:
    server.faults.no_leader = True


def oversized_with_down_peer() -> tuple[ClusterModel, Expectation]:
    model = base_model()
    region = _region_on(model, 2, skip=7, leader=1)
    model.set_region_size(region, size_mib=400)
    model.add_down_peer(region, 2, down_seconds=600.0)
    return model, Expectation(
        frozenset({f"oversized-region:{region}", f"down-peer:{region}"}),
        acceptable=(Match("split-region", {"region_id": region}), Match("add-peer", {"region_id": region})),
        forbidden=(Match("evict-leader-scheduler"), Match("transfer-leader")),
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthy", "nothing wrong", healthy),
    Scenario("store-down-past", "store 5 down 60m, past max-store-down-time", store_down_past),
    Scenario("store-down-within", "store 5 unreachable 5m", store_down_within),
    Scenario("store-down-replica-limit-0", "store 5 down 60m, replica-schedule-limit 0",
             store_down_replica_limit_zero),
    Scenario("leader-imbalance", "store 1 leads half, PD balancing", leader_imbalance_pd_on_it),
    Scenario("leader-imbalance-paused", "… and balance-leader paused", leader_imbalance_scheduler_paused),
    Scenario("leader-imbalance-limit-0", "… and leader-schedule-limit 0", leader_imbalance_limit_zero),
    Scenario("leader-imbalance-removed", "… and balance-leader removed", leader_imbalance_scheduler_removed),
    Scenario("leader-weights", "store 1 leads 4x with leader-weight 4", leader_weights),
    Scenario("forgotten-evict-leader", "evict-leader left on Up store 2", forgotten_evict_leader),
    Scenario("scheduling-halted", "halt-scheduling on", scheduling_halted),
    Scenario("new-store", "empty store 6 joined, PD balancing", new_store_filling),
    Scenario("region-imbalance-paused", "empty store 6, balance-region paused", region_imbalance_paused),
    Scenario("store-limit-0", "store 3 add-peer limit 0", store_limit_zero),
    Scenario("hot-write-split", "90 MiB region takes 64 MiB/s writes", hot_write_splittable),
    Scenario("hot-write-key", "1 MiB region, 0 keys, 64 MiB/s writes", hot_write_hot_key),
    Scenario("hot-read-split", "80 MiB region serves 64 MiB/s reads", hot_read_splittable),
    Scenario("hot-read-key", "1 MiB region, 3 keys, 64 MiB/s reads", hot_read_hot_key),
    Scenario("low-space", "store 2 at 95% used", low_space),
    Scenario("pending-pile-up", "12 pending replicas on store 3", pending_peers_pile_up),
    Scenario("quorum-lost", "stores 4 and 5 down", quorum_lost),
    Scenario("pd-no-leader", "PD has no leader", pd_no_leader, on_server=_no_leader),
    Scenario("oversized-down-peer", "400 MiB region with a down replica", oversized_with_down_peer),
)  # fmt: skip


def by_name(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)
