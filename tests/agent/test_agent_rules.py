"""The rules, on hand-made observations: each finding, its proposals, its evidence, and what stays quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actions.models import ActionType
from actions.observe import HotKind, HotRegion, RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import PeerSnapshot, RegionSnapshot, StoreSnapshot
from agent.findings import Finding, FindingKind
from agent.observe import Observation
from agent.rules import RuleSettings, evaluate

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WATCHED = ("balance-hot-region-scheduler", "balance-leader-scheduler", "balance-region-scheduler")
GIB = 1024**3


def store(
    store_id: int,
    state: str = "Up",
    *,
    leaders: int = 100,
    regions: int = 300,
    used: float = 0.3,
    silent: timedelta = timedelta(0),
    leader_weight: float = 1.0,
) -> StoreSnapshot:
    return StoreSnapshot(
        id=store_id,
        address=f"tikv-{store_id}:20160",
        state_name=state,
        capacity_bytes=1000 * GIB,
        available_bytes=int(1000 * GIB * (1 - used)),
        leader_count=leaders,
        region_count=regions,
        leader_weight=leader_weight,
        last_heartbeat=NOW - silent,
    )


def region(
    region_id: int,
    stores: tuple[int, ...] = (1, 2, 3),
    *,
    leader: int | None = None,
    down: tuple[int, ...] = (),
    pending: tuple[int, ...] = (),
    size: int = 96,
    keys: int | None = None,
) -> RegionSnapshot:
    return RegionSnapshot(
        id=region_id,
        start_key="",
        end_key="",
        conf_ver=5,
        version=7,
        peers=tuple(PeerSnapshot(id=region_id * 10 + s, store_id=s) for s in stores),
        leader_store_id=stores[0] if leader is None else leader,
        down_peer_store_ids=down,
        pending_peer_store_ids=pending,
        approximate_size_mib=size,
        approximate_keys=size * 10_000 if keys is None else keys,
    )


def healthy(**changes: object) -> Observation:
    base: dict[str, object] = {
        "at": NOW,
        "stores": tuple(store(i) for i in (1, 2, 3, 4)),
        "hot_write": (),
        "hot_read": (),
        "checks": {c: () for c in RegionCheck},
        "top_by_size": (region(1), region(2, (2, 3, 4))),
        "top_n": 64,
        "schedulers": SchedulerState(names=WATCHED),
        "settings": ScheduleSettings(),
    }
    base.update(changes)
    return Observation(**base)  # type: ignore[arg-type]


def only(findings: tuple[Finding, ...], kind: FindingKind) -> list[Finding]:
    return [f for f in findings if f.kind is kind]


def proposed(finding: Finding) -> list[tuple[ActionType, dict[str, object]]]:
    return [(p.action, dict(p.params)) for p in finding.proposals]


def test_healthy_cluster_has_no_findings_and_every_rule_ran() -> None:
    """A balanced cluster with nothing flagged gives no finding, yet every kind counts as looked for."""
    evaluation = evaluate(healthy())
    assert evaluation.findings == ()
    assert evaluation.evaluated == frozenset(FindingKind)


def down_store_obs(silent: timedelta, state: str, **changes: object) -> Observation:
    stores = (store(1), store(2), store(3), store(4, state, leaders=0, silent=silent))
    down = tuple(region(r, (1, 2, 4), down=(4,)) for r in range(10, 134))
    checks = {c: () for c in RegionCheck} | {RegionCheck.DOWN_PEER: down}
    return healthy(stores=stores, checks=checks, **changes)


def test_store_down_past_max_store_down_time_is_taken_offline_not_evicted() -> None:
    """Store 4 silent for 66 minutes (max-store-down-time 30m), 124 regions missing a replica there:
    offline it so PD replaces them. Never evict-leader on a dead store that leads nothing."""
    [finding] = evaluate(down_store_obs(timedelta(minutes=66), "Down")).findings
    assert finding.key == "store-down:4"
    assert proposed(finding) == [(ActionType.OFFLINE_STORE, {"store_id": 4})]
    assert finding.title == "Store 4 has been down for 1h06m, past max-store-down-time (30m0s)"
    values = {e.label: (e.value, e.source) for e in finding.evidence}
    assert values["regions with a replica down on store 4"] == (
        "124",
        "GET /pd/api/v1/regions/check/down-peer",
    )
    assert values["store 4 last heartbeat"][0] == "1h06m ago"
    assert "124 region(s) are missing a replica" in finding.proposals[0].rationale
    assert "leader_store_id" not in finding.proposals[0].rationale


def test_store_unreachable_within_max_store_down_time_waits_for_pd() -> None:
    """Silent for 4 minutes: PD replaces it in 26 minutes by itself; nothing is proposed."""
    [finding] = evaluate(down_store_obs(timedelta(minutes=4), "Disconnected")).findings
    assert finding.proposals == ()
    assert "in 26m" in finding.note and "max-store-down-time 30m0s" in finding.note


def test_store_down_with_replica_repair_blocked_points_at_the_blocker() -> None:
    """replica-schedule-limit 0: the store finding proposes nothing and names the limit, whose own
    finding proposes restoring it."""
    settings = ScheduleSettings(schedule_limits={"replica-schedule-limit": 0})
    findings = evaluate(down_store_obs(timedelta(hours=2), "Down", settings=settings)).findings
    by_key = {f.key: f for f in findings}
    assert set(by_key) == {"store-down:4", "schedule-limit-zero:replica-schedule-limit"}
    assert by_key["store-down:4"].proposals == ()
    assert "replica-schedule-limit is 0" in by_key["store-down:4"].note
    assert proposed(by_key["schedule-limit-zero:replica-schedule-limit"]) == [
        (ActionType.SET_CONFIG, {"key": "replica-schedule-limit", "value": "64"})
    ]


def imbalanced(**changes: object) -> Observation:
    stores = (store(1, leaders=400), store(2, leaders=150), store(3, leaders=150), store(4, leaders=20))
    top = (region(7, (1, 2, 3)), region(8, (1, 3, 4)), region(9, (2, 1, 4), leader=2))
    return healthy(stores=stores, top_by_size=top, **changes)


def test_leader_imbalance_with_balance_leader_running_moves_nothing_by_hand() -> None:
    """PD's balance-leader runs with nothing in its way: the finding says so and proposes nothing."""
    [finding] = evaluate(imbalanced()).findings
    assert finding.key == "leader-imbalance:cluster"
    assert finding.proposals == ()
    assert "PD is balancing leaders by itself" in finding.note
    labels = {e.label: e.value for e in finding.evidence}
    assert labels["store 1 leads"] == "400 regions" and labels["store 4 leads"] == "20 regions"


def test_leader_imbalance_with_balance_leader_paused_proposes_resuming_it() -> None:
    schedulers = SchedulerState(names=WATCHED, paused=("balance-leader-scheduler",))
    findings = evaluate(imbalanced(schedulers=schedulers)).findings
    by_key = {f.key: f for f in findings}
    assert by_key["leader-imbalance:cluster"].proposals == ()
    assert "balance-leader-scheduler is paused" in by_key["leader-imbalance:cluster"].note
    assert proposed(by_key["scheduler-paused:balance-leader-scheduler"]) == [
        (ActionType.RESUME_SCHEDULER, {"scheduler": "balance-leader-scheduler"})
    ]


def test_leader_imbalance_with_balance_leader_removed_moves_one_by_hand() -> None:
    """Only when PD cannot balance leaders at all is a leader moved, from the busiest store."""
    schedulers = SchedulerState(names=("balance-region-scheduler", "balance-hot-region-scheduler"))
    findings = evaluate(imbalanced(schedulers=schedulers)).findings
    by_key = {f.key: f for f in findings}
    assert proposed(by_key["leader-imbalance:cluster"]) == [
        (ActionType.TRANSFER_LEADER, {"region_id": 8, "to_store_id": 4})
    ]
    assert by_key["scheduler-removed:balance-leader-scheduler"].proposals == ()


def test_leader_imbalance_explained_by_weights_is_said_so() -> None:
    stores = (store(1, leaders=400, leader_weight=4), store(2, leaders=100), store(3, leaders=100))
    [finding] = evaluate(healthy(stores=stores)).findings
    assert finding.proposals == () and "leader weights" in finding.note


def test_small_leader_gaps_and_evicted_stores_are_not_imbalance() -> None:
    """A gap under the thresholds is PD's job; a store under evict-leader is low on purpose."""
    small = (store(1, leaders=110), store(2, leaders=100), store(3, leaders=95), store(4, leaders=100))
    assert evaluate(healthy(stores=small)).findings == ()
    evicted = (store(1, leaders=130), store(2, leaders=130), store(3, leaders=130), store(4, leaders=0))
    schedulers = SchedulerState(names=(*WATCHED, "evict-leader-scheduler"), evict_leader_store_ids=(4,))
    assert (
        only(evaluate(healthy(stores=evicted, schedulers=schedulers)).findings, FindingKind.LEADER_IMBALANCE)
        == []
    )


def test_halted_scheduling_and_zero_limits_are_findings_with_their_fix() -> None:
    settings = ScheduleSettings(
        halt_scheduling=True, store_limits={2: {"add-peer": 0.0, "remove-peer": 15.0}}
    )
    findings = evaluate(healthy(settings=settings)).findings
    assert [(f.key, proposed(f)) for f in findings] == [
        (
            "scheduling-halted:cluster",
            [(ActionType.SET_CONFIG, {"key": "halt-scheduling", "value": "false"})],
        ),
        (
            "store-limit-zero:2",
            [(ActionType.SET_STORE_LIMIT, {"store_id": 2, "rate": 15.0, "limit_type": "add-peer"})],
        ),
    ]


def test_store_running_out_of_space_is_reported_without_moving_data() -> None:
    """A store 85% full (low-space-ratio 0.8): PD already avoids it; people add capacity."""
    stores = (store(1), store(2, used=0.85), store(3), store(4))
    [finding] = evaluate(healthy(stores=stores)).findings
    assert finding.key == "store-low-space:2"
    assert finding.proposals == ()
    assert "capacity" in finding.note
    assert {e.label: e.value for e in finding.evidence}["low-space-ratio"] == "0.8"


def hot(region_id: int, degree: int = 12, flow: float = 5e6) -> HotRegion:
    return HotRegion(
        region_id=region_id,
        leader_store_id=1,
        store_ids=(1, 2, 3),
        hot_degree=degree,
        flow_bytes=flow,
        flow_keys=5,
    )


def test_hot_region_is_split_only_when_its_size_and_keys_say_a_split_helps() -> None:
    """96 MiB / 960k keys: split. About 1 MiB with 0 keys: a hot key, no split. A spike: nothing."""
    flows = {
        HotKind.WRITE: (region(8, size=96), region(230, size=1, keys=0)),
        HotKind.READ: (region(3, size=64),),
    }
    write = (hot(8), hot(230, flow=9e6), hot(9, degree=1))
    findings = evaluate(healthy(hot_write=write, hot_read=(hot(3),), top_by_flow=flows)).findings
    assert [(f.key, proposed(f)) for f in findings] == [
        ("hot-write:230", []),
        ("hot-write:8", [(ActionType.SPLIT_REGION, {"region_id": 8, "policy": "approximate"})]),
        ("hot-read:3", [(ActionType.SPLIT_REGION, {"region_id": 3, "policy": "approximate"})]),
    ]
    assert findings[0].title.startswith("Hot key: region 230")
    assert findings[1].evidence[0].source == "GET /pd/api/v1/hotspot/regions/write"


def test_hot_region_of_unknown_size_is_not_split() -> None:
    [finding] = evaluate(healthy(hot_write=(hot(8),))).findings
    assert finding.proposals == () and "cannot tell" in finding.note


def test_hot_findings_are_capped_hottest_first() -> None:
    """Only the ``max_hot_findings`` hottest regions are reported per direction."""
    write = tuple(hot(i, degree=5, flow=i * 1e5) for i in range(1, 11))
    findings = evaluate(healthy(hot_write=write), RuleSettings(max_hot_findings=2)).findings
    assert [f.key for f in findings] == ["hot-write:10", "hot-write:9"]


def test_down_peer_on_a_live_store_adds_a_replica_first_then_removes_the_down_one() -> None:
    """One step at a time: add-peer on the emptiest free Up store; once back at 3 healthy, remove-peer."""
    stores = (store(1), store(2), store(3), store(4, regions=310), store(5, regions=290), store(6, used=0.9))
    checks = {c: () for c in RegionCheck} | {RegionCheck.DOWN_PEER: (region(5, (1, 2, 3), down=(3,)),)}
    findings = evaluate(healthy(stores=stores, checks=checks)).findings
    assert [f.key for f in findings] == ["down-peer:5", "store-low-space:6"]
    assert proposed(findings[0]) == [(ActionType.ADD_PEER, {"region_id": 5, "store_id": 5})]
    checks[RegionCheck.DOWN_PEER] = (region(5, (1, 2, 3, 5), down=(3,)),)
    findings = evaluate(healthy(stores=stores, checks=checks)).findings
    assert proposed(findings[0]) == [(ActionType.REMOVE_PEER, {"region_id": 5, "store_id": 3})]


def test_down_peers_on_a_dead_store_are_grouped_under_the_store() -> None:
    """A Down store's many down-peer regions are one store finding with their count, not one ticket each."""
    stores = (store(1), store(2), store(3, "Down", leaders=0), store(4))
    down = tuple(region(r, (1, 2, 3), down=(3,)) for r in range(10, 40))
    pending = (region(50, (1, 3, 4), pending=(3,)),)
    checks = {c: () for c in RegionCheck} | {RegionCheck.DOWN_PEER: down, RegionCheck.PENDING_PEER: pending}
    [finding] = evaluate(healthy(stores=stores, checks=checks)).findings
    assert finding.key == "store-down:3"
    assert {e.label: e.value for e in finding.evidence}["regions with a replica down on store 3"] == "30"
    assert "max-store-down-time (30m0s)" in finding.title


def test_pending_peers_piling_up_on_one_store_slow_what_pd_sends_it() -> None:
    """Twelve pending replicas on store 2: lower its add-peer limit; one pending replica is no finding."""
    checks = {c: () for c in RegionCheck} | {
        RegionCheck.PENDING_PEER: (
            *(region(r, (1, 2, 3), pending=(2,)) for r in range(20, 32)),
            region(40, (1, 3, 4), pending=(3,)),
        ),
    }
    [finding] = evaluate(healthy(checks=checks)).findings
    assert finding.key == "pending-peer:2"
    assert proposed(finding) == [
        (ActionType.SET_STORE_LIMIT, {"store_id": 2, "rate": 5.0, "limit_type": "add-peer"})
    ]
    assert {e.label: e.value for e in finding.evidence}["pending replicas on store 2"] == "12"


def test_missing_replica_is_added_by_hand_only_when_pd_repair_is_not_blocked() -> None:
    stores = tuple(store(i, regions=290 + 5 * i) for i in range(1, 7))
    checks = {c: () for c in RegionCheck} | {RegionCheck.MISS_PEER: (region(12, (1, 2)),)}
    [finding] = only(evaluate(healthy(stores=stores, checks=checks)).findings, FindingKind.MISS_PEER)
    assert proposed(finding) == [(ActionType.ADD_PEER, {"region_id": 12, "store_id": 3})]
    halted = ScheduleSettings(halt_scheduling=True)
    findings = evaluate(healthy(stores=stores, checks=checks, settings=halted)).findings
    miss = only(findings, FindingKind.MISS_PEER)[0]
    assert miss.proposals == () and "halt-scheduling" in miss.note


def test_regions_that_lost_quorum_are_one_finding_without_proposals() -> None:
    stores = (store(1), store(2), store(3, "Down"), store(4, "Down"))
    lost = tuple(region(r, (1, 3, 4), down=(3, 4)) for r in range(60, 70))
    checks = {c: () for c in RegionCheck} | {RegionCheck.DOWN_PEER: lost}
    findings = only(evaluate(healthy(stores=stores, checks=checks)).findings, FindingKind.REGION_NO_LEADER)
    [finding] = findings
    assert finding.proposals == ()
    assert finding.title.startswith("10 region(s) have no leader")
    assert "unsafe remove-failed-stores" in finding.note


def test_pd_without_a_leader_is_a_finding_and_nothing_else_runs() -> None:
    error = (
        "stores: GetStores /pd/api/v1/stores: HTTP 503: "
        "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"
    )
    obs = Observation(at=NOW, errors=(error,))
    evaluation = evaluate(obs)
    [finding] = evaluation.findings
    assert finding.key == "pd-no-leader:cluster" and finding.proposals == ()
    assert evaluation.evaluated == frozenset({FindingKind.PD_NO_LEADER})


def test_oversized_region_is_split() -> None:
    """A region on PD's oversized list is split, with its size as evidence."""
    checks = {c: () for c in RegionCheck} | {RegionCheck.OVERSIZED_REGION: (region(21, size=1024),)}
    [finding] = evaluate(healthy(checks=checks)).findings
    assert proposed(finding) == [(ActionType.SPLIT_REGION, {"region_id": 21, "policy": "approximate"})]
    assert finding.evidence[0].value == "1024 MiB"


def test_evict_leader_left_on_an_up_store_is_removed_unless_the_bot_still_owns_it() -> None:
    """Foreign or expired evictions of Up stores get remove-evict-leader; the bot's live one is left."""
    schedulers = SchedulerState(names=(*WATCHED, "evict-leader-scheduler"), evict_leader_store_ids=(2, 3, 4))
    stores = (
        store(1, leaders=130),
        store(2, leaders=0),
        store(3, leaders=0),
        store(4, leaders=0),
        store(5, "Down"),
    )
    bot = {3: NOW + timedelta(minutes=5), 4: NOW - timedelta(minutes=5)}
    obs = healthy(stores=stores, schedulers=schedulers, bot_evictions=bot)
    stale = only(evaluate(obs).findings, FindingKind.STALE_EVICT_LEADER)
    assert [(f.key, proposed(f)) for f in stale] == [
        ("stale-evict-leader:2", [(ActionType.REMOVE_EVICT_LEADER, {"store_id": 2})]),
        ("stale-evict-leader:4", [(ActionType.REMOVE_EVICT_LEADER, {"store_id": 4})]),
    ]
    origins = [{e.label: e.value for e in f.evidence}["eviction origin"] for f in stale]
    assert origins == ["not created by the bot", "created by the bot, past its expiry"]


def test_rules_whose_reads_failed_are_not_evaluated() -> None:
    """Without stores, no store or peer rule runs (their tickets must not be closed); the rest still do."""
    evaluation = evaluate(healthy(stores=None, hot_write=None))
    assert FindingKind.STORE_DOWN not in evaluation.evaluated
    assert FindingKind.DOWN_PEER not in evaluation.evaluated
    assert FindingKind.HOT_WRITE not in evaluation.evaluated
    assert {FindingKind.OVERSIZED_REGION, FindingKind.HOT_READ} <= evaluation.evaluated
