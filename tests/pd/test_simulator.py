"""The simulator's cluster model: generation, operators as PD builds and runs them, schedulers,
store states and heartbeats — through the Python API on a hand-driven clock."""

from __future__ import annotations

import pytest

from pd.simulator import ClusterModel, ManualClock, Operator, OpStatus, PDFailure, TopologyError
from pd.simulator.topology import DEMOTING_VOTER, INCOMING_VOTER, LEARNER, VOTER, Region
from pd.simulator.views import region_json

STEP = 0.02


def status(op: Operator) -> OpStatus:
    """The operator's status, read through a call so that mypy does not pin it after one assert."""
    return op.status


class Sim:
    """A generated cluster on a manual clock, with helpers to let time pass."""

    def __init__(self, stores: int = 5, regions: int = 20, seed: int = 3) -> None:
        self.clock = ManualClock()
        self.model = ClusterModel.generate(stores, regions, seed, clock=self.clock, step_delay=STEP)

    def step(self, n: int = 1) -> None:
        """Let ``n`` operator steps' worth of time pass, ticking each time."""
        for _ in range(n):
            self.clock.advance(STEP)
            self.model.tick()

    def run(self, seconds: float) -> None:
        """Let ``seconds`` pass in step-sized ticks."""
        self.step(max(1, round(seconds / STEP)))

    def region(self, index: int = 5) -> Region:
        """A region by position in key order."""
        return list(self.model.regions_in_order())[index]

    def foreign_store(self, region: Region) -> int:
        """A store holding no peer of ``region``."""
        return next(s for s in sorted(self.model.stores) if region.peer_on(s) is None)

    def follower(self, region: Region) -> int:
        """A voter's store that is not the leader's."""
        assert region.leader is not None
        return next(p.store_id for p in region.peers if p is not region.leader and p.role == VOTER)


# -- generation ------------------------------------------------------------------------------------


def test_generation_is_deterministic_for_a_seed() -> None:
    """The same seed gives byte-identical regions and stores; another seed gives another cluster."""
    a, b, c = (ClusterModel.generate(5, 200, seed, clock=ManualClock()) for seed in (1, 1, 2))

    def dump(model: ClusterModel) -> list[str]:
        return [region_json(model, r) for r in model.regions_in_order()]

    assert dump(a) == dump(b)
    assert [s.capacity for s in a.stores.values()] == [s.capacity for s in b.stores.values()]
    assert a.cluster_id == b.cluster_id
    assert dump(a) != dump(c)


def test_generated_regions_cover_the_key_space_with_consistent_counters() -> None:
    """Regions are contiguous upper-hex ranges from "" to ""; per-store counters match them."""
    sim = Sim(stores=7, regions=300)
    model = sim.model
    model.verify()
    regions = list(model.regions_in_order())
    assert regions[0].start_key == "" and regions[-1].end_key == ""
    assert all(r.start_key == r.start_key.upper() for r in regions)
    assert all(len(r.peers) == 3 and r.leader in r.peers for r in regions)
    assert sum(s.leader_count for s in model.stores.values()) == 300
    assert sum(s.region_count for s in model.stores.values()) == 900


def test_region_lookup_by_key_uses_ranges() -> None:
    """A key inside a region finds it; the empty key finds the first region."""
    sim = Sim()
    region = sim.region(7)
    assert sim.model.region_by_key(region.start_key) is region
    assert sim.model.region_by_key(region.start_key + "00") is region
    assert sim.model.region_by_key("") is sim.region(0)
    assert sim.model.scan_regions(region.start_key, "", 3) == [sim.region(7), sim.region(8), sim.region(9)]


# -- admin operators -----------------------------------------------------------------------------


def test_transfer_leader_runs_then_moves_the_leader() -> None:
    """transfer-leader is RUNNING until its step delay passes, then the leader moves and it is SUCCESS."""
    sim = Sim()
    region = sim.region()
    target = sim.follower(region)
    epoch = (region.version, region.conf_ver)
    assert region.leader is not None
    source = region.leader.store_id
    op = sim.model.operators.transfer_leader(region.id, target)
    assert status(op) is OpStatus.STARTED
    assert op.text(sim.model).startswith(
        f"admin-transfer-leader {{transfer leader: store {source} to {target}}}"
    )
    assert "(kind:admin,leader, region:" in op.text(sim.model)
    sim.step()
    assert region.leader is not None and region.leader.store_id == target
    assert status(op) is OpStatus.SUCCESS
    assert (region.version, region.conf_ver) == epoch
    assert sim.model.operators.status_of(region.id) is op
    assert op.status_text(sim.model).startswith("status: SUCCESS, operator: admin-transfer-leader")
    assert op.text(sim.model).endswith(" finished")
    sim.model.verify()


def test_add_peer_adds_a_learner_then_promotes_it() -> None:
    """add-peer adds a learner (conf_ver +1), then promotes it to voter (+1), in two steps."""
    sim = Sim()
    region = sim.region()
    store = sim.foreign_store(region)
    conf_ver = region.conf_ver
    op = sim.model.operators.add_peer(region.id, store)
    assert op.brief == f"add peer: store [{store}]"
    assert [s.text() for s in op.steps][1].startswith("promote learner peer ")
    assert op.timeout >= 660  # a slow step (10 min) plus a fast one (1 min)
    sim.step()
    peer = region.peer_on(store)
    assert peer is not None and peer.role == LEARNER and region.conf_ver == conf_ver + 1
    sim.step()
    assert peer.role == VOTER and region.conf_ver == conf_ver + 2
    assert status(op) is OpStatus.SUCCESS
    sim.model.verify()


def test_add_learner_stops_at_the_learner() -> None:
    """add-learner has one step and leaves a learner."""
    sim = Sim()
    region = sim.region()
    store = sim.foreign_store(region)
    op = sim.model.operators.add_learner(region.id, store)
    assert [s.text() for s in op.steps] == [f"add learner peer {op.steps[0].peer_id} on store {store}"]  # type: ignore[attr-defined]
    sim.step(2)
    peer = region.peer_on(store)
    assert peer is not None and peer.role == LEARNER
    assert sim.model.stores[store].learner_count == 1
    sim.model.verify()


def test_removing_the_leaders_peer_moves_the_leader_first() -> None:
    """remove-peer on the leader's store transfers leadership, then removes the peer."""
    sim = Sim()
    region = sim.region()
    assert region.leader is not None
    old_leader = region.leader.store_id
    conf_ver = region.conf_ver
    op = sim.model.operators.remove_peer(region.id, old_leader)
    texts = [s.text() for s in op.steps]
    assert texts[0].startswith(f"transfer leader from store {old_leader} to store ")
    assert texts[1] == f"remove peer on store {old_leader}"
    assert "kind:admin,region,leader" in op.text(sim.model)
    sim.step(2)
    assert region.peer_on(old_leader) is None
    assert region.leader is not None and region.leader.store_id != old_leader
    assert region.conf_ver == conf_ver + 1
    assert status(op) is OpStatus.SUCCESS
    sim.model.verify()


def test_transfer_peer_goes_through_joint_consensus() -> None:
    """transfer-peer adds a learner, enters and leaves joint state, then removes the old peer."""
    sim = Sim()
    region = sim.region()
    source = sim.follower(region)
    target = sim.foreign_store(region)
    conf_ver = region.conf_ver
    op = sim.model.operators.transfer_peer(region.id, source, target)
    assert op.brief == f"mv peer: store [{source}] to [{target}]"
    texts = [s.text().split(",")[0] for s in op.steps]
    assert texts[0].startswith("add learner peer ") and texts[0].endswith(f" on store {target}")
    assert texts[1:] == ["use joint consensus", "leave joint state", f"remove peer on store {source}"]
    sim.step(2)
    assert region.peer_on(target).role == INCOMING_VOTER  # type: ignore[union-attr]
    assert region.peer_on(source).role == DEMOTING_VOTER  # type: ignore[union-attr]
    sim.step(2)
    assert target in region.store_ids and source not in region.store_ids and len(region.peers) == 3
    assert region.peer_on(target).role == VOTER  # type: ignore[union-attr]
    assert region.conf_ver == conf_ver + 6
    assert status(op) is OpStatus.SUCCESS
    sim.model.verify()


def test_split_by_scan_halves_the_region_and_bumps_versions() -> None:
    """A SCAN split gives a new left region and keeps the id on the right, both at version + 1."""
    sim = Sim()
    region = sim.region()
    start, end, version = region.start_key, region.end_key, region.version
    count = len(sim.model.regions)
    op = sim.model.operators.split_region(region.id, "scan", [])
    assert op.brief == f"split: region {region.id} use policy SCAN"
    sim.step()
    assert status(op) is OpStatus.SUCCESS
    assert len(sim.model.regions) == count + 1
    left, _ = sim.model.neighbours(region)
    assert left is not None and left.start_key == start and left.end_key == region.start_key
    assert region.end_key == end and start < region.start_key < end
    assert left.version == region.version == version + 1
    assert sorted(left.store_ids) == sorted(region.store_ids)
    sim.model.verify()


def test_split_by_keys_cuts_at_each_key() -> None:
    """A USEKEY split with two inner keys gives three regions ending at those keys."""
    sim = Sim()
    region = sim.region()
    k1 = region.start_key + "10"
    k2 = region.start_key + "20"
    op = sim.model.operators.split_region(region.id, "UseKey", [k1.lower(), k2])
    assert op.brief == f"split: region {region.id} use policy USEKEY and keys [{k1} {k2}]"
    sim.step()
    assert status(op) is OpStatus.SUCCESS
    assert sim.model.region_by_key(k1) is not sim.model.region_by_key(k2)
    assert region.start_key == k2
    sim.model.verify()


def test_split_at_a_key_outside_the_region_times_out() -> None:
    """TiKV ignores a split key outside the region; PD's operator times out after a minute."""
    sim = Sim()
    region = sim.region(3)
    outside = sim.region(9).start_key
    op = sim.model.operators.split_region(region.id, "usekey", [outside])
    sim.run(30)
    assert status(op) is OpStatus.STARTED
    sim.run(40)
    assert status(op) is OpStatus.TIMEOUT
    assert op.status_text(sim.model).startswith("status: TIMEOUT") and op.text(sim.model).endswith(" timeout")


def test_merge_joins_two_adjacent_regions() -> None:
    """merge-region creates two operators; the target grows, the source vanishes (its op CANCEL)."""
    sim = Sim()
    source, target = sim.region(4), sim.region(5)
    sim.model.operators.transfer_region(
        source.id, {s: "voter" for s in target.store_ids}
    )  # give both regions the same stores, as PD's merge checker would
    sim.run(1)
    count = len(sim.model.regions)
    version = max(source.version, target.version)
    op_source, op_target = sim.model.operators.merge_region(source.id, target.id)
    assert op_source.brief == op_target.brief == f"merge: region {source.id} to {target.id}"
    assert "kind:admin,merge" in op_source.text(sim.model)
    assert op_target.timeout == op_source.timeout
    sim.step(2)
    assert source.id not in sim.model.regions
    assert len(sim.model.regions) == count - 1
    assert target.start_key == source.start_key and target.version == version + 1
    assert status(op_target) is OpStatus.SUCCESS
    assert status(op_source) is OpStatus.CANCELED
    sim.model.verify()


def test_merge_with_different_stores_moves_the_source_peers_first() -> None:
    """When the two regions sit on different stores, the source operator first matches them."""
    sim = Sim(stores=6, regions=40)
    pairs = [
        (a, b)
        for a, b in zip(
            list(sim.model.regions_in_order()), list(sim.model.regions_in_order())[1:], strict=False
        )
    ]
    source, target = next((a, b) for a, b in pairs if sorted(a.store_ids) != sorted(b.store_ids))
    op_source, _ = sim.model.operators.merge_region(source.id, target.id)
    assert op_source.steps[0].text().startswith("add learner peer")
    assert op_source.steps[-1].text() == f"merge region {source.id} into region {target.id}"
    sim.run(1)
    assert source.id not in sim.model.regions
    sim.model.verify()


def test_scatter_moves_a_region_or_does_nothing() -> None:
    """scatter-region either creates a ``scatter-region`` operator that finishes, or nothing."""
    sim = Sim(stores=8, regions=30)
    made = 0
    for region in list(sim.model.regions_in_order())[:10]:
        if region.id in sim.model.hot_write_regions or region.id in sim.model.hot_read_regions:
            continue
        op = sim.model.operators.scatter_region(region.id)
        if op is not None:
            made += 1
            assert op.desc == "scatter-region" and "kind:admin" in op.text(sim.model)
    assert made
    sim.run(1)
    assert not sim.model.operators.running
    sim.model.verify()


def test_transfer_region_places_the_region_on_the_given_stores() -> None:
    """transfer-region with roles moves the region to exactly those stores and leader."""
    sim = Sim(stores=6)
    region = sim.region()
    targets = [*[s for s in sorted(sim.model.stores) if s not in region.store_ids][:2], region.store_ids[0]]
    roles = {targets[0]: "leader", targets[1]: "voter", targets[2]: "follower"}
    sim.model.operators.transfer_region(region.id, roles)
    sim.run(1)
    assert sorted(region.store_ids) == sorted(targets)
    assert region.leader is not None and region.leader.store_id == targets[0]
    sim.model.verify()


def test_records_remember_finished_operators_for_ten_minutes() -> None:
    """A finished operator stays visible (status and records) for ten minutes, then is forgotten."""
    sim = Sim()
    region = sim.region()
    op = sim.model.operators.transfer_leader(region.id, sim.follower(region))
    sim.step()
    assert sim.model.operators.finished_since(0) == [op]
    assert "(finishAt:" in op.record_text(sim.model) and ", duration:" in op.record_text(sim.model)
    sim.clock.advance(599)
    assert sim.model.operators.status_of(region.id) is op
    sim.clock.advance(2)
    assert sim.model.operators.status_of(region.id) is None
    assert sim.model.operators.finished_since(0) == []


def test_cancel_ends_the_operator_as_cancel() -> None:
    """Cancelling a running operator ends it CANCEL; cancelling again finds none."""
    sim = Sim()
    region = sim.region()
    op = sim.model.operators.add_peer(region.id, sim.foreign_store(region))
    sim.model.operators.cancel(region.id)
    assert status(op) is OpStatus.CANCELED
    assert op.status_text(sim.model).startswith("status: CANCEL, operator: admin-add-peer")
    with pytest.raises(PDFailure, match=r"\[PD:operator:ErrOperatorNotFound\]operator not found"):
        sim.model.operators.cancel(region.id)


def test_second_admin_operator_on_a_region_is_refused() -> None:
    """Two admin operators have equal priority: the second is ErrAddOperator."""
    sim = Sim()
    region = sim.region()
    sim.model.operators.transfer_leader(region.id, sim.follower(region))
    with pytest.raises(PDFailure) as failed:
        sim.model.operators.add_peer(region.id, sim.foreign_store(region))
    assert failed.value.text == "[PD:operator:ErrAddOperator]failed to add operator, maybe already have one"


def test_admin_operator_replaces_a_scheduler_operator() -> None:
    """An admin operator replaces a lower-priority grant-leader operator, which ends REPLACE."""
    sim = Sim()
    region = sim.region()
    follower = sim.follower(region)
    sim.model.schedulers.create("grant-leader-scheduler", store_id=follower)
    sim.model.schedulers.schedule()
    scheduler_op = sim.model.operators.get(region.id)
    assert scheduler_op is not None and scheduler_op.desc == "grant-leader-scheduler"
    sim.model.operators.add_peer(region.id, sim.foreign_store(region))
    assert status(scheduler_op) is OpStatus.REPLACED
    assert scheduler_op.status_name == "REPLACE"


@pytest.mark.parametrize(
    ("action", "text"),
    [
        (
            lambda sim, r: sim.model.operators.transfer_leader(r.id, sim.foreign_store(r)),
            "region has no voter in store",
        ),
        (
            lambda sim, r: sim.model.operators.transfer_leader(r.id, r.leader.store_id),
            "no operator step is built",
        ),
        (
            lambda sim, r: sim.model.operators.add_peer(r.id, r.store_ids[0]),
            "region already has peer in store",
        ),
        (
            lambda sim, r: sim.model.operators.add_peer(r.id, 99),
            "[PD:core:ErrStoreNotFound]store 99 not found",
        ),
        (
            lambda sim, r: sim.model.operators.remove_peer(r.id, sim.foreign_store(r)),
            "region has no peer in store",
        ),
        (lambda sim, r: sim.model.operators.transfer_peer(r.id, 99, 1), "region has no peer in store 99"),
        (
            lambda sim, r: sim.model.operators.split_region(r.id, "foo", []),
            "check policy foo is not supported",
        ),
        (
            lambda sim, r: sim.model.operators.split_region(r.id, "usekey", ["xyz"]),
            "split key xyz is not in hex format",
        ),
        (
            lambda sim, r: sim.model.operators.transfer_region(r.id, {1: ""}),
            "without peer role is not supported",
        ),
        (
            lambda sim, r: sim.model.operators.add_peer(999, 1),
            "[PD:region:ErrRegionNotFound]region 999 not found",
        ),
    ],
)
def test_operator_creation_refusals_carry_pds_texts(action: object, text: str) -> None:
    """Each refused creation raises PDFailure with the text PD answers."""
    sim = Sim()
    region = sim.region()
    with pytest.raises(PDFailure) as failed:
        action(sim, region)  # type: ignore[operator]
    assert text in failed.value.text


def test_leader_cannot_move_to_an_evicted_or_silent_store() -> None:
    """transfer-leader to a store held by evict-leader, or silent for 20 s, is not allowed."""
    sim = Sim()
    region = sim.region()
    follower = sim.follower(region)
    sim.model.schedulers.create("evict-leader-scheduler", store_id=follower)
    with pytest.raises(PDFailure, match="cannot create operator: target leader is not allowed"):
        sim.model.operators.transfer_leader(region.id, follower)
    sim.model.schedulers.remove("evict-leader-scheduler")
    sim.model.set_store_heartbeat_age(follower, 30)
    with pytest.raises(PDFailure, match="target leader is not allowed"):
        sim.model.operators.transfer_leader(region.id, follower)


def test_store_checks_for_new_peers() -> None:
    """add-peer refuses a Tombstone store (removed) and a store silent for 10 minutes (unhealthy)."""
    sim = Sim(stores=6)
    region = sim.region()
    spare = [s for s in sorted(sim.model.stores) if region.peer_on(s) is None]
    sim.model.set_store_state(spare[0], "Tombstone")
    with pytest.raises(PDFailure, match=rf"\[PD:core:ErrStoreRemoved\]store {spare[0]} has been removed"):
        sim.model.operators.add_peer(region.id, spare[0])
    sim.model.set_store_heartbeat_age(spare[1], 700)
    with pytest.raises(PDFailure, match=rf"\[PD:core:ErrStoreUnhealthy\]store {spare[1]} is unhealthy"):
        sim.model.operators.add_peer(region.id, spare[1])


def test_merge_refuses_unhealthy_and_non_adjacent_regions() -> None:
    """merge-region: a region with a down peer is abnormal; distant regions are not adjacent."""
    sim = Sim()
    a, b = sim.region(2), sim.region(3)
    sim.model.add_down_peer(a.id, a.store_ids[1])
    with pytest.raises(
        PDFailure, match=rf"\[PD:region:ErrRegionAbnormalPeer\]region {a.id} has abnormal peer"
    ):
        sim.model.operators.merge_region(a.id, b.id)
    with pytest.raises(PDFailure, match=r"\[PD:region:ErrRegionNotAdjacent\]two regions are not adjacent"):
        sim.model.operators.merge_region(sim.region(6).id, sim.region(9).id)


def test_step_towards_a_silent_store_waits_then_times_out() -> None:
    """Adding a peer on a store that stops heartbeating stays RUNNING, then TIMEOUT after ~11 min."""
    sim = Sim()
    region = sim.region()
    store = sim.foreign_store(region)
    op = sim.model.operators.add_peer(region.id, store)
    sim.model.set_store_heartbeat_age(store, 60)
    sim.run(5)
    assert status(op) is OpStatus.STARTED and region.peer_on(store) is None
    sim.clock.advance(op.timeout + 1)
    sim.model.tick()
    assert status(op) is OpStatus.TIMEOUT


def test_region_changed_under_an_operator_cancels_it() -> None:
    """An operator whose region changes epoch behind its back is cancelled (epoch not match)."""
    sim = Sim()
    region = sim.region()
    op = sim.model.operators.transfer_leader(region.id, sim.follower(region))
    sim.model.add_peer(region.id, sim.foreign_store(region))
    sim.step()
    assert status(op) is OpStatus.CANCELED


# -- schedulers and background behaviour ---------------------------------------------------------


def test_evict_leader_drains_the_store_a_batch_per_tick() -> None:
    """evict-leader moves leaders off its store through operators, a few per tick, until none are left."""
    sim = Sim(regions=60)
    store = sim.model.stores[2]
    before = store.leader_count
    assert before > 6
    sim.model.schedulers.create("evict-leader-scheduler", store_id=2)
    sim.model.tick()
    created = [op for op in sim.model.operators.running.values() if op.desc == "evict-leader-scheduler"]
    assert 0 < len(created) <= 4
    assert created[0].brief.startswith("evict leader: from store 2 to one in [")
    sim.run(3)
    assert store.leader_count == 0
    assert store.region_count > 0
    sim.model.verify()


def test_offline_store_is_drained_then_becomes_tombstone() -> None:
    """An Offline store's peers move to Up stores; once empty it becomes Tombstone."""
    sim = Sim(stores=5, regions=40)
    sim.model.offline_store(3)
    assert sim.model.config.store_limits[3]["remove-peer"] == 100_000_000
    sim.run(2)
    store = sim.model.stores[3]
    assert store.region_count == 0
    assert sim.model.state_name(store) == "Tombstone"
    assert all(len(r.peers) == 3 and r.peer_on(3) is None for r in sim.model.regions.values())
    sim.model.verify()


def test_offline_needs_more_up_stores_than_replicas() -> None:
    """With only max-replicas Up stores left, PD refuses to take one offline."""
    sim = Sim(stores=4)
    sim.model.offline_store(4)
    with pytest.raises(
        PDFailure, match="can not remove store 1 since the number of up stores would be 2 while need 3"
    ):
        sim.model.offline_store(1)


def test_cancel_offline_restores_the_store_and_its_limit() -> None:
    """Up after Offline puts the store back and restores its remove-peer limit."""
    sim = Sim()
    sim.model.offline_store(2)
    sim.model.up_store(2)
    assert sim.model.state_name(sim.model.stores[2]) == "Up"
    assert sim.model.config.store_limits[2]["remove-peer"] == 15


def test_heartbeat_age_decides_disconnected_and_down() -> None:
    """A silent Up store is Disconnected after 20 s and Down after max-store-down-time (30 min)."""
    sim = Sim()
    store = sim.model.stores[1]
    assert sim.model.state_name(store) == "Up"
    sim.model.set_store_heartbeat_age(1, 21)
    assert sim.model.state_name(store) == "Disconnected"
    sim.clock.advance(30 * 60)
    assert sim.model.state_name(store) == "Down"
    sim.model.resume_store_heartbeat(1)
    assert sim.model.state_name(store) == "Up"


def test_alive_stores_heartbeat_every_ten_seconds() -> None:
    """A heartbeating store's last heartbeat is never older than ten seconds."""
    sim = Sim()
    for _ in range(7):
        sim.clock.advance(3.3)
        assert 0 <= sim.clock.now() - sim.model.last_heartbeat(sim.model.stores[2]) < 10


def test_fail_store_reports_down_peers_and_moves_its_leaders() -> None:
    """A crashed store's peers are down peers (down_seconds grows) and its leaders go elsewhere."""
    sim = Sim(regions=40)
    moved = sim.model.fail_store(2, down_for=120)
    store = sim.model.stores[2]
    assert moved > 0 and store.leader_count == 0
    assert sim.model.down_peer_regions == store.region_ids
    region = sim.model.regions[min(store.region_ids)]
    assert '"down_seconds":120' in region_json(sim.model, region)
    sim.clock.advance(10)
    assert '"down_seconds":130' in region_json(sim.model, region)
    sim.model.recover_store(2)
    assert not sim.model.down_peer_regions
    sim.model.verify()


def test_paused_scheduler_resumes_by_itself() -> None:
    """A scheduler paused for 60 s is listed as paused until then, and not after."""
    sim = Sim()
    sim.model.schedulers.pause("balance-region-scheduler", 60)
    assert [s.name for s in sim.model.schedulers.paused()] == ["balance-region-scheduler"]
    sim.clock.advance(61)
    sim.model.tick()
    assert sim.model.schedulers.paused() == []


def test_paused_evict_leader_does_not_move_leaders() -> None:
    """While evict-leader is paused no leader moves; after the pause it drains."""
    sim = Sim(regions=30)
    sim.model.schedulers.create("evict-leader-scheduler", store_id=1)
    sim.model.schedulers.pause("evict-leader-scheduler", 5)
    before = sim.model.stores[1].leader_count
    sim.run(2)
    assert sim.model.stores[1].leader_count == before
    sim.run(5)
    assert sim.model.stores[1].leader_count == 0


# -- mutators ------------------------------------------------------------------------------------------


def test_mutators_keep_counters_consistent() -> None:
    """Direct topology changes (imbalance, learners, splits, merges, sizes, flows) keep counters right."""
    sim = Sim(regions=50)
    model = sim.model
    moved = model.make_leader_imbalance(1, share=0.5)
    assert moved > 0 and model.stores[1].leader_count > 15
    region = sim.region(10)
    model.add_peer(region.id, sim.foreign_store(region), learner=True)
    model.add_pending_peer(region.id, region.store_ids[0])
    model.set_region_size(region.id, size_mib=300)
    model.set_region_flow(region.id, written_bytes=64 * 1024 * 1024)
    assert region.id in model.hot_write_regions
    pieces = model.split_region(region.id)
    assert len(pieces) == 2 and pieces[1] is region
    model.merge_regions(pieces[0].id, region.id)
    model.clear_unhealthy_peers(region.id)
    model.verify()


def test_mutators_refuse_unknown_ids() -> None:
    """A mutator given an unknown store or region raises TopologyError."""
    sim = Sim()
    with pytest.raises(TopologyError):
        sim.model.set_store_heartbeat_age(99, 10)
    with pytest.raises(TopologyError):
        sim.model.add_down_peer(99999, 1)
    with pytest.raises(TopologyError):
        sim.model.merge_regions(sim.region(1).id, sim.region(5).id)


def test_pd_leader_follows_member_liveness() -> None:
    """When the PD leader dies the next live member leads; with none alive there is no leader."""
    sim = Sim()
    model = sim.model
    assert model.leader_name == "pd-1"
    model.set_member_alive("pd-1", False)
    assert model.leader_name == "pd-2"
    model.set_member_alive("pd-2", False)
    model.set_member_alive("pd-3", False)
    assert model.leader_name is None
    model.set_member_alive("pd-3", True)
    assert model.leader_name == "pd-3"
