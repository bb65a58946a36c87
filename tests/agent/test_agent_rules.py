"""The rules, on hand-made observations: each finding, its proposals, its evidence, and what stays quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actions.models import ActionType
from actions.observe import HotRegion, RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import PeerSnapshot, RegionSnapshot, StoreSnapshot
from agent.findings import Finding, FindingKind
from agent.observe import Observation
from agent.rules import RuleSettings, evaluate

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GIB = 1024**3


def store(
    store_id: int, state: str = "Up", *, leaders: int = 100, regions: int = 300, used: float = 0.3
) -> StoreSnapshot:
    return StoreSnapshot(
        id=store_id,
        address=f"tikv-{store_id}:20160",
        state_name=state,
        capacity_bytes=1000 * GIB,
        available_bytes=int(1000 * GIB * (1 - used)),
        leader_count=leaders,
        region_count=regions,
    )


def region(
    region_id: int,
    stores: tuple[int, ...] = (1, 2, 3),
    *,
    leader: int | None = None,
    down: tuple[int, ...] = (),
    pending: tuple[int, ...] = (),
    size: int = 96,
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
        approximate_keys=size * 10_000,
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
        "schedulers": SchedulerState(names=("balance-leader-scheduler", "balance-region-scheduler")),
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


def test_down_store_gets_evict_leader_with_its_numbers() -> None:
    """A Down store is one finding proposing evict-leader, with its state and leader count as evidence."""
    stores = (store(1), store(2), store(3), store(4, "Down", leaders=37))
    [finding] = evaluate(healthy(stores=stores)).findings
    assert finding.key == "store-down:4"
    assert proposed(finding) == [(ActionType.EVICT_LEADER, {"store_id": 4})]
    values = {e.label: (e.value, e.source) for e in finding.evidence}
    assert values["store 4 state"] == ("Down", "GET /pd/api/v1/stores")
    assert values["store 4 leaders"][0] == "37"
    assert "37" in finding.proposals[0].rationale


def test_disconnected_store_is_treated_like_down() -> None:
    """A Disconnected store also gets an evict-leader proposal."""
    stores = (store(1), store(2), store(3, "Disconnected"), store(4))
    findings = only(evaluate(healthy(stores=stores)).findings, FindingKind.STORE_DOWN)
    assert [proposed(f) for f in findings] == [[(ActionType.EVICT_LEADER, {"store_id": 3})]]


def test_down_store_already_evicted_is_reported_without_a_proposal() -> None:
    """When evict-leader already holds the Down store, the finding stays with a note and no proposal."""
    stores = (store(1), store(2), store(3), store(4, "Down", leaders=0))
    schedulers = SchedulerState(names=("evict-leader-scheduler",), evict_leader_store_ids=(4,))
    [finding] = only(evaluate(healthy(stores=stores, schedulers=schedulers)).findings, FindingKind.STORE_DOWN)
    assert finding.proposals == ()
    assert "already" in finding.note


def test_leader_imbalance_moves_a_leader_from_the_busiest_store_to_the_emptiest() -> None:
    """Store 1 leads far more than store 4: transfer a region led by 1 to 4, which holds a voter of it."""
    stores = (store(1, leaders=400), store(2, leaders=150), store(3, leaders=150), store(4, leaders=20))
    top = (region(7, (1, 2, 3)), region(8, (1, 3, 4)), region(9, (2, 1, 4), leader=2))
    [finding] = evaluate(healthy(stores=stores, top_by_size=top)).findings
    assert finding.key == "leader-imbalance:cluster"
    assert proposed(finding) == [(ActionType.TRANSFER_LEADER, {"region_id": 8, "to_store_id": 4})]
    labels = {e.label: e.value for e in finding.evidence}
    assert labels["store 1 leaders (most)"] == "400"
    assert labels["store 4 leaders (least)"] == "20"


def test_leader_imbalance_falls_back_to_a_hot_region_led_by_the_busiest_store() -> None:
    """With no top-N candidate, a hot region led by the busiest store is moved to a store below the mean."""
    stores = (store(1, leaders=400), store(2, leaders=150), store(3, leaders=30), store(4, leaders=20))
    hot = (
        HotRegion(
            region_id=55, leader_store_id=1, store_ids=(1, 3, 2), hot_degree=1, flow_bytes=1e6, flow_keys=10
        ),
    )
    top = (region(7, (2, 3, 4)),)
    [finding] = evaluate(healthy(stores=stores, top_by_size=top, hot_read=hot)).findings
    assert proposed(finding) == [(ActionType.TRANSFER_LEADER, {"region_id": 55, "to_store_id": 3})]


def test_leader_imbalance_without_candidate_region_is_a_note() -> None:
    """When no bounded list has a region led by the busiest store, the finding explains, not guesses."""
    stores = (store(1, leaders=400), store(2, leaders=150), store(3, leaders=150), store(4, leaders=20))
    [finding] = evaluate(healthy(stores=stores, top_by_size=(region(7, (2, 3, 4)),))).findings
    assert finding.proposals == ()
    assert "balance-leader" in finding.note


def test_small_leader_gaps_and_evicted_stores_are_not_imbalance() -> None:
    """A gap under the thresholds is PD's job; a store under evict-leader is low on purpose."""
    small = (store(1, leaders=110), store(2, leaders=100), store(3, leaders=95), store(4, leaders=100))
    assert evaluate(healthy(stores=small)).findings == ()
    evicted = (store(1, leaders=130), store(2, leaders=130), store(3, leaders=130), store(4, leaders=0))
    schedulers = SchedulerState(names=("evict-leader-scheduler",), evict_leader_store_ids=(4,))
    assert (
        only(evaluate(healthy(stores=evicted, schedulers=schedulers)).findings, FindingKind.LEADER_IMBALANCE)
        == []
    )


def test_store_past_low_space_ratio_gets_a_store_limit_and_a_note() -> None:
    """A store 85% full (low-space-ratio 0.8) gets set-store-limit on add-peer and a note to add capacity."""
    stores = (store(1), store(2, used=0.85), store(3), store(4))
    [finding] = evaluate(healthy(stores=stores), RuleSettings(low_space_add_peer_rate=2)).findings
    assert finding.key == "store-low-space:2"
    limit = {"store_id": 2, "rate": 2.0, "limit_type": "add-peer"}
    assert proposed(finding) == [(ActionType.SET_STORE_LIMIT, limit)]
    assert "capacity" in finding.note
    assert {e.label: e.value for e in finding.evidence}["low-space-ratio"] == "0.8"


def test_lasting_hot_write_region_is_split_and_hot_read_region_scattered() -> None:
    """Hot regions that stayed hot get split (write) or scatter (read); a brief spike does not."""
    write = (
        HotRegion(
            region_id=8, leader_store_id=4, store_ids=(1, 4, 5), hot_degree=12, flow_bytes=5e6, flow_keys=500
        ),
        HotRegion(
            region_id=9, leader_store_id=1, store_ids=(1, 2, 3), hot_degree=1, flow_bytes=9e6, flow_keys=900
        ),
    )
    read = (
        HotRegion(
            region_id=3, leader_store_id=2, store_ids=(2, 3, 4), hot_degree=5, flow_bytes=2e6, flow_keys=50
        ),
    )
    findings = evaluate(healthy(hot_write=write, hot_read=read)).findings
    assert [(f.key, proposed(f)) for f in findings] == [
        ("hot-write:8", [(ActionType.SPLIT_REGION, {"region_id": 8, "policy": "approximate"})]),
        ("hot-read:3", [(ActionType.SCATTER_REGION, {"region_id": 3})]),
    ]
    assert findings[0].evidence[0].source == "GET /pd/api/v1/hotspot/regions/write"


def test_hot_findings_are_capped_hottest_first() -> None:
    """Only the ``max_hot_findings`` hottest regions are reported per direction."""
    write = tuple(
        HotRegion(
            region_id=i, leader_store_id=1, store_ids=(1, 2, 3), hot_degree=5, flow_bytes=i * 1e5, flow_keys=1
        )
        for i in range(1, 11)
    )
    findings = evaluate(healthy(hot_write=write), RuleSettings(max_hot_findings=2)).findings
    assert [f.key for f in findings] == ["hot-write:10", "hot-write:9"]


def test_down_peer_adds_a_replica_on_the_emptiest_free_store_then_removes_the_down_one() -> None:
    """Region 5's peer on live store 3 is down: add-peer on the emptiest free Up store, then remove-peer."""
    stores = (
        store(1),
        store(2),
        store(3),
        store(4, regions=900),
        store(5, regions=100),
        store(6, used=0.9),
    )
    checks = {c: () for c in RegionCheck} | {RegionCheck.DOWN_PEER: (region(5, (1, 2, 3), down=(3,)),)}
    findings = evaluate(healthy(stores=stores, checks=checks)).findings
    assert [f.key for f in findings] == ["down-peer:5", "store-low-space:6"]
    finding = findings[0]
    assert proposed(finding) == [
        (ActionType.ADD_PEER, {"region_id": 5, "store_id": 5}),
        (ActionType.REMOVE_PEER, {"region_id": 5, "store_id": 3}),
    ]


def test_down_peers_on_a_dead_store_are_grouped_under_the_store() -> None:
    """A Down store's many down-peer regions are one store finding with their count, not one ticket each."""
    stores = (store(1), store(2), store(3, "Down", leaders=0), store(4))
    down = tuple(region(r, (1, 2, 3), down=(3,)) for r in range(10, 40))
    pending = (region(50, (1, 3, 4), pending=(3,)),)
    checks = {c: () for c in RegionCheck} | {RegionCheck.DOWN_PEER: down, RegionCheck.PENDING_PEER: pending}
    [finding] = evaluate(healthy(stores=stores, checks=checks)).findings
    assert finding.key == "store-down:3"
    assert {e.label: e.value for e in finding.evidence}["regions with a down peer on store 3"] == "30"
    assert "max-store-down-time (30m0s)" in finding.note


def test_pending_and_missing_peers_get_add_peer() -> None:
    """A pending peer gets one extra replica; a region two voters short gets two, on distinct stores."""
    stores = tuple(store(i, regions=100 * i) for i in range(1, 7))
    checks = {c: () for c in RegionCheck} | {
        RegionCheck.PENDING_PEER: (region(11, (1, 2, 3), pending=(2,)),),
        RegionCheck.MISS_PEER: (region(12, (1,)),),
    }
    findings = evaluate(healthy(stores=stores, checks=checks)).findings
    by_key = {f.key: proposed(f) for f in findings}
    assert by_key["pending-peer:11"] == [(ActionType.ADD_PEER, {"region_id": 11, "store_id": 4})]
    assert by_key["miss-peer:12"] == [
        (ActionType.ADD_PEER, {"region_id": 12, "store_id": 2}),
        (ActionType.ADD_PEER, {"region_id": 12, "store_id": 3}),
    ]


def test_oversized_region_is_split() -> None:
    """A region on PD's oversized list is split, with its size as evidence."""
    checks = {c: () for c in RegionCheck} | {RegionCheck.OVERSIZED_REGION: (region(21, size=1024),)}
    [finding] = evaluate(healthy(checks=checks)).findings
    assert proposed(finding) == [(ActionType.SPLIT_REGION, {"region_id": 21, "policy": "approximate"})]
    assert finding.evidence[0].value == "1024 MiB"


def test_evict_leader_left_on_an_up_store_is_removed_unless_the_bot_still_owns_it() -> None:
    """Foreign or expired evictions of Up stores get remove-evict-leader; the bot's live one is left."""
    schedulers = SchedulerState(names=("evict-leader-scheduler",), evict_leader_store_ids=(2, 3, 4))
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
