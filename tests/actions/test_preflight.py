"""Preflight: unsafe requests are refused with a reason a person understands; their safe twins pass."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from cluster_fake import FakeCluster, standard_cluster
from worlds import FakeWorld, SimulatorWorld, World

from actions.catalog import CATALOG, parse_action
from actions.checks import MAX_PD_READS
from actions.models import ActionRequest, CheckStatus, OperatorOutcome, PreflightReport
from actions.preflight import fingerprint, run_preflight

Shape = Callable[[World], None]
BACKENDS = ("fake", "simulator")


def _nothing(world: World) -> None:
    return None


@dataclass(frozen=True)
class Twin:
    """An unsafe request on a shaped cluster, and a safe twin that differs in one thing."""

    unsafe: str
    shape: Shape
    check: str
    reason: str
    safe: str
    safe_shape: Shape = _nothing


def _request(words: str) -> ActionRequest:
    action, params = parse_action(words.split())
    return ActionRequest(action=action, params=params, requester="U0ALICE")


MakeWorld = Callable[[], Awaitable[World]]


@pytest.fixture(params=BACKENDS)
async def make_world(request: pytest.FixtureRequest) -> AsyncIterator[MakeWorld]:
    """New worlds of one backend: the fake, or the PD simulator over HTTP through PDClient + PDCluster."""
    started: list[SimulatorWorld] = []

    async def make() -> World:
        if request.param == "fake":
            return FakeWorld()
        world = await SimulatorWorld().start()
        started.append(world)
        return world

    yield make
    for world in started:
        await world.close()


async def _preflight_in(make_world: MakeWorld, words: str, shape: Shape) -> PreflightReport:
    world = await make_world()
    shape(world)
    return await run_preflight(_request(words), world.cluster)


async def _preflight(words: str, shape: Callable[[FakeCluster], None]) -> PreflightReport:
    cluster = standard_cluster()
    shape(cluster)
    return await run_preflight(_request(words), cluster)


def _fake_nothing(cluster: FakeCluster) -> None:
    return None


def _down(store_id: int) -> Shape:
    return lambda w: w.store_state(store_id, "Down")


def _state(store_id: int, state: str) -> Shape:
    return lambda w: w.store_state(store_id, state)


def _evicting(*store_ids: int) -> Shape:
    return lambda w: w.evict(*store_ids)


def _operator(outcome: OperatorOutcome, region_id: int = 12) -> Shape:
    return lambda w: w.operator(region_id, outcome)


def _space(store_id: int, available_gib: float) -> Shape:
    return lambda w: w.store_space(store_id, available_gib)


def _region(
    region_id: int,
    peers: list[int],
    *,
    leader: int | None = None,
    down: tuple[int, ...] = (),
    pending: tuple[int, ...] = (),
) -> Shape:
    return lambda w: w.region(region_id, peers, leader=leader, down=down, pending=pending)


def _role(region_id: int, store_id: int, role: str) -> Shape:
    return lambda w: w.role(region_id, store_id, role)


def _paused(name: str) -> Shape:
    return lambda w: w.pause(name)


def _all(*shapes: Shape) -> Shape:
    def shape(w: World) -> None:
        for s in shapes:
            s(w)

    return shape


def _no_pd_leader(w: World) -> None:
    w.no_pd_leader()


def _pd_unreachable(w: World) -> None:
    w.unreachable()


TWINS: list[Twin] = [
    Twin(
        "transfer-leader 12 4",
        _nothing,
        "target holds a voter",
        "region 12 has no peer on store 4",
        "transfer-leader 12 2",
    ),
    Twin("transfer-leader 12 2", _down(2), "target store", "store 2 is Down", "transfer-leader 12 2"),
    Twin(
        "transfer-leader 12 2",
        _state(2, "Disconnected"),
        "target store",
        "store 2 is Disconnected",
        "transfer-leader 12 3",
    ),
    Twin(
        "transfer-leader 12 2",
        _evicting(2),
        "target store",
        "store 2 is evicting leaders",
        "transfer-leader 12 2",
        _evicting(3),
    ),
    Twin(
        "transfer-leader 12 1",
        _nothing,
        "target holds a voter",
        "store 1 already holds the leader",
        "transfer-leader 12 2",
    ),
    Twin(
        "transfer-leader 12 3",
        _role(12, 3, "Learner"),
        "target holds a voter",
        "is a Learner, not a voter",
        "transfer-leader 12 2",
    ),
    Twin(
        "transfer-leader 12 3",
        _region(12, [1, 2, 3], pending=(3,)),
        "target holds a voter",
        "is pending (still catching up)",
        "transfer-leader 12 2",
    ),
    Twin(
        "transfer-leader 999 2",
        _nothing,
        "region exists",
        "region 999 does not exist",
        "transfer-leader 12 2",
    ),
    Twin(
        "transfer-leader 12 2",
        _region(12, [1, 2, 3], leader=0),
        "region exists",
        "region 12 has no leader right now",
        "transfer-leader 13 1",
    ),
    Twin(
        "add-peer 12 4",
        _operator(OperatorOutcome.RUNNING),
        "no running operator",
        "region 12 already has a running operator",
        "add-peer 12 4",
        _operator(OperatorOutcome.SUCCESS),
    ),
    Twin(
        "add-peer 12 4",
        _space(4, 100),
        "target store space",
        "store 4 has only 10% free",
        "add-peer 12 4",
        _space(4, 500),
    ),
    Twin("add-peer 12 4", _space(4, 0.05), "target store space", "has only 0% free", "add-peer 12 5"),
    Twin(
        "add-peer 12 2",
        _nothing,
        "no peer on target",
        "region 12 already has a peer on store 2",
        "add-peer 12 4",
    ),
    Twin("add-peer 12 4", _state(4, "Offline"), "target store", "store 4 is Offline", "add-peer 12 5"),
    Twin(
        "add-peer 12 4",
        _state(4, "Tombstone"),
        "target store",
        "has been removed from the cluster",
        "add-peer 12 5",
    ),
    Twin("add-peer 12 9", _nothing, "target store", "store 9 does not exist", "add-peer 12 5"),
    Twin(
        "transfer-peer 12 4 5",
        _nothing,
        "peer on store",
        "region 12 has no peer on store 4",
        "transfer-peer 12 3 5",
    ),
    Twin(
        "transfer-peer 12 3 5",
        _region(12, [1, 2, 3], down=(2,)),
        "region healthy",
        "region 12 has down peers on store 2",
        "transfer-peer 12 2 5",
        _region(12, [1, 2, 3], down=(2,)),
    ),
    Twin(
        "remove-peer 12 2",
        _region(12, [1, 2, 3], down=(3,)),
        "replicas after removal",
        "would keep 1 healthy voter(s) out of 2: not a majority",
        "remove-peer 12 3",
        _region(12, [1, 2, 3], down=(3,)),
    ),
    Twin(
        "remove-peer 12 2",
        _region(12, [1, 2]),
        "replicas after removal",
        "fewer than a majority of max-replicas 3",
        "remove-peer 12 2",
        _region(12, [1, 2, 3, 4]),
    ),
    Twin(
        "remove-peer 12 1",
        _region(
            12,
            [1, 2, 3],
            down=(
                2,
                3,
            ),
        ),
        "replicas after removal",
        "would remove the last healthy copy of region 12",
        "remove-peer 12 4",
        _region(12, [1, 2, 3, 4]),
    ),
    Twin(
        "remove-peer 12 4",
        _nothing,
        "peer on store",
        "region 12 has no peer on store 4",
        "remove-peer 12 3",
        _region(12, [1, 2, 3, 4]),
    ),
    Twin(
        "split-region 12",
        _region(12, [1, 2, 3], pending=(3,)),
        "region healthy",
        "pending peers on store 3; structural changes must wait",
        "split-region 12",
    ),
    Twin(
        "split-region 12",
        _role(12, 3, "IncomingVoter"),
        "region healthy",
        "in the middle of a membership change",
        "split-region 12",
    ),
    Twin(
        "split-region 12 usekey 7480000000000000FF50",
        _nothing,
        "split keys in range",
        "is not inside region 12",
        "split-region 12 usekey 7480000000000000FF10",
    ),
    Twin(
        "split-region 12 usekey 7480000000000000FF0A",
        _nothing,
        "split keys in range",
        "strictly between the region's start and end",
        "split-region 12 usekey 7480000000000000FF0B",
    ),
    Twin("merge-region 12 14", _nothing, "regions adjacent", "are not neighbours", "merge-region 12 13"),
    Twin(
        "merge-region 12 13",
        _region(12, [1, 2, 3], down=(3,)),
        "source region healthy",
        "region 12 has down peers on store 3",
        "merge-region 12 13",
    ),
    Twin(
        "merge-region 12 13",
        _operator(OperatorOutcome.RUNNING, 13),
        "no operator on target",
        "region 13 already has a running operator",
        "merge-region 12 13",
    ),
    Twin(
        "offline-store 3",
        _all(_down(4), _down(5)),
        "enough Up stores",
        "would leave 2 Up stores, fewer than max-replicas 3",
        "offline-store 5",
    ),
    Twin(
        "offline-store 4",
        _state(5, "Offline"),
        "no other store draining",
        "store 5 is already being drained",
        "offline-store 4",
    ),
    Twin(
        "offline-store 4",
        _state(4, "Offline"),
        "store state",
        "store 4 is already Offline",
        "offline-store 4",
    ),
    Twin(
        "evict-leader 1",
        _all(_evicting(2, 3), _down(4), _down(5)),
        "other stores can lead",
        "no other Up store can take store 1's leaders",
        "evict-leader 1",
        _evicting(2, 3),
    ),
    Twin(
        "evict-leader 4",
        _evicting(4),
        "not already evicting",
        "store 4 is already evicting leaders",
        "evict-leader 4",
    ),
    Twin("evict-leader 9", _nothing, "store exists", "store 9 does not exist", "evict-leader 4"),
    Twin(
        "remove-evict-leader 4",
        _evicting(2),
        "store is evicting",
        "store 4 is not evicting leaders",
        "remove-evict-leader 4",
        _evicting(2, 4),
    ),
    Twin(
        "set-config low-space-ratio 0.6",
        _nothing,
        "config value",
        "low-space-ratio (0.6) must be larger than high-space-ratio (0.7)",
        "set-config low-space-ratio 0.85",
    ),
    Twin(
        "set-config high-space-ratio 0.9",
        _nothing,
        "config value",
        "low-space-ratio (0.8) must be larger than high-space-ratio (0.9)",
        "set-config high-space-ratio 0.6",
    ),
    Twin(
        "set-config max-replicas 7",
        _nothing,
        "risk",
        "max-replicas 7 needs 7 Up stores",
        "set-config max-replicas 5",
    ),
    Twin(
        "pause-scheduler shuffle-leader-scheduler 600",
        _nothing,
        "scheduler state",
        "no scheduler named shuffle-leader-scheduler is running",
        "pause-scheduler balance-leader-scheduler 600",
    ),
    Twin(
        "pause-scheduler balance-leadr-scheduler 600",
        _nothing,
        "scheduler state",
        "did you mean balance-leader-scheduler?",
        "pause-scheduler balance-leader 600",
    ),
    Twin(
        "resume-scheduler balance-region-scheduler",
        _nothing,
        "scheduler state",
        "balance-region-scheduler is not paused; nothing to resume",
        "resume-scheduler balance-region-scheduler",
        _paused("balance-region-scheduler"),
    ),
    Twin(
        "cancel-offline 4",
        _nothing,
        "store is Offline",
        "store 4 is Up, not Offline",
        "cancel-offline 4",
        _state(4, "Offline"),
    ),
    Twin(
        "cancel-offline 4",
        _state(4, "Tombstone"),
        "store is Offline",
        "it cannot come back",
        "cancel-offline 4",
        _state(4, "Offline"),
    ),
    Twin(
        "cancel-operator 12",
        _nothing,
        "operator running",
        "region 12 has no running operator",
        "cancel-operator 12",
        _operator(OperatorOutcome.RUNNING),
    ),
    Twin(
        "cancel-operator 12",
        _operator(OperatorOutcome.SUCCESS),
        "operator running",
        "ended SUCCESS",
        "cancel-operator 12",
        _operator(OperatorOutcome.RUNNING),
    ),
    Twin(
        "transfer-leader 12 2",
        _no_pd_leader,
        "PD healthy",
        "PD has no leader right now",
        "transfer-leader 12 2",
    ),
    Twin(
        "transfer-leader 12 2",
        lambda w: w.pd_members_down(2),
        "PD healthy",
        "only 1 of 3 PD members are healthy",
        "transfer-leader 12 2",
    ),
    Twin(
        "scatter-region 12",
        _pd_unreachable,
        "region exists",
        "PD unreachable: ",
        "scatter-region 12",
    ),
]


@pytest.mark.parametrize("twin", TWINS, ids=[f"{t.unsafe} / {t.check}" for t in TWINS])
async def test_unsafe_request_is_refused_and_its_safe_twin_passes(make_world: MakeWorld, twin: Twin) -> None:
    """Each unsafe request fails the named check with a reason in words; the safe twin is not blocked."""
    unsafe = await _preflight_in(make_world, twin.unsafe, twin.shape)
    assert unsafe.blocked
    failed = {c.name: c for c in unsafe.failures}
    assert twin.check in failed, [(c.name, c.message) for c in unsafe.checks]
    assert twin.reason in failed[twin.check].message
    assert failed[twin.check].message[0].isalpha()  # a sentence, not a repr or a stack trace

    safe = await _preflight_in(make_world, twin.safe, twin.safe_shape)
    assert not safe.blocked, [(c.name, c.message) for c in safe.failures]


async def test_at_least_fifteen_kinds_of_unsafe_request_are_covered() -> None:
    """The table exercises many distinct (check, reason) refusals across most actions."""
    kinds = {(t.check, t.reason) for t in TWINS}
    actions = {parse_action(t.unsafe.split())[0] for t in TWINS}
    assert len(kinds) >= 15
    assert len(actions) >= 12


WARNINGS: list[tuple[str, Shape, str, str]] = [
    ("add-peer 12 4", _space(4, 250), "target store space", "close to PD's low-space threshold"),
    (
        "remove-peer 12 3",
        _region(12, [1, 2, 3], down=(3,)),
        "replicas after removal",
        "PD's replica checker will add",
    ),
    ("add-peer 12 4", _nothing, "replica count", "already has 3 healthy voters"),
    (
        "add-peer 12 4",
        _region(12, [1, 2, 3], pending=(3,)),
        "region healthy",
        "new peer will need a snapshot",
    ),
    ("set-config max-replicas 4", _nothing, "config value", "an even max-replicas (4)"),
    ("set-config leader-schedule-limit 4", _nothing, "config value", "is already 4; nothing would change"),
    ("set-config leader-schedule-limit 0", _nothing, "config value", "stops leader balancing"),
    ("set-config halt-scheduling true", _nothing, "config value", "stops all scheduling"),
    (
        "pause-scheduler balance-region-scheduler 60",
        _paused("balance-region-scheduler"),
        "scheduler state",
        "already paused",
    ),
    ("offline-store 4", _down(4), "store state", "PD will rebuild its"),
    ("set-store-limit 4 15", _nothing, "store limit", "limit is already 15"),
    (
        "set-store-limit 4 30",
        lambda w: w.store_limit(4, 15.0, 20.0),
        "store limit",
        "Undo cannot restore both",
    ),
]


@pytest.mark.parametrize(("words", "shape", "check", "text"), WARNINGS)
async def test_risky_but_allowed_requests_warn(
    make_world: MakeWorld, words: str, shape: Shape, check: str, text: str
) -> None:
    """Requests that are allowed but deserve a second look pass with a warning that says why."""
    report = await _preflight_in(make_world, words, shape)
    assert not report.blocked, [(c.name, c.message) for c in report.failures]
    warned = {c.name: c.message for c in report.checks if c.status is CheckStatus.WARN}
    assert check in warned, [(c.name, c.status, c.message) for c in report.checks]
    assert text in warned[check]


async def test_removing_the_down_peer_itself_is_allowed(make_world: MakeWorld) -> None:
    """remove-peer of the one down peer repairs the region: the health check passes, saying so."""
    report = await _preflight_in(make_world, "remove-peer 12 3", _region(12, [1, 2, 3, 4], down=(3,)))
    assert not report.blocked
    health = next(c for c in report.checks if c.name == "region healthy")
    assert health.status is CheckStatus.PASS
    assert "the one on store 3" in health.message


async def test_facts_hold_epoch_leader_peers_and_target_state(make_world: MakeWorld) -> None:
    """The fingerprinted facts are what an approval relies on, and nothing that moves every heartbeat."""
    report = await _preflight_in(make_world, "transfer-leader 12 2", _nothing)
    facts = report.facts
    assert facts["params"] == {"region_id": 12, "to_store_id": 2}
    assert facts["region"]["conf_ver"] == 3 and facts["region"]["version"] == 5
    assert facts["region"]["leader_store_id"] == 1
    assert facts["region"]["peers"] == {"1": "Voter", "2": "Voter", "3": "Voter"}
    assert facts["stores"] == {"2": "Up"}
    assert facts["evicting"] == {"2": False}
    assert "leader_count" not in str(facts) and "available" not in str(facts)
    assert report.fingerprint == fingerprint(facts)
    assert len(report.fingerprint) == 16 and int(report.fingerprint, 16) >= 0


async def test_fingerprint_moves_with_the_cluster_facts_only() -> None:
    """Leader or epoch changes move the fingerprint; leader counts and free space do not."""
    base = await _preflight("transfer-leader 12 2", _fake_nothing)
    again = await _preflight("transfer-leader 12 2", _fake_nothing)
    busy = await _preflight(
        "transfer-leader 12 2", lambda c: c.set_store(2, leader_count=99, available_bytes=1 << 35)
    )
    moved = await _preflight("transfer-leader 12 2", lambda c: c.set_region(12, leader_store_id=3))
    split = await _preflight("transfer-leader 12 2", lambda c: c.set_region(12, version=6))
    assert base.fingerprint == again.fingerprint == busy.fingerprint
    assert len({base.fingerprint, moved.fingerprint, split.fingerprint}) == 3


async def test_undo_facts_are_recorded_for_config_limits_and_schedulers(make_world: MakeWorld) -> None:
    """set-config, set-store-limit and resume-scheduler record what Undo needs to restore."""
    config = await _preflight_in(make_world, "set-config leader-schedule-limit 8", _nothing)
    assert config.facts["config"] == {"leader-schedule-limit": 4}
    limit = await _preflight_in(make_world, "set-store-limit 4 30 add-peer", _nothing)
    assert limit.facts["store_limit"] == {"add-peer": 15.0, "remove-peer": 15.0}
    resume = await _preflight_in(
        make_world, "resume-scheduler balance-region-scheduler", _paused("balance-region-scheduler")
    )
    assert resume.facts["scheduler"] == {"name": "balance-region-scheduler", "exists": True, "paused": True}
    action, params = parse_action("set-config leader-schedule-limit 8".split())
    assert CATALOG[action].inverse(params, config.facts) == (
        action,
        {"key": "leader-schedule-limit", "value": 4},
    )


EXAMPLES = [spec.example for spec in CATALOG.values()] + ["merge-region 12 13", "offline-store 5"]


@pytest.mark.parametrize("words", EXAMPLES)
async def test_preflight_reads_are_bounded_and_never_repeated(words: str) -> None:
    """Each preflight makes a handful of PD reads, none twice, and no full scan of regions."""
    cluster = standard_cluster()
    await run_preflight(_request(words), cluster)
    counts = Counter(cluster.reads)
    assert len(cluster.reads) <= MAX_PD_READS
    assert max(counts.values()) == 1, counts
    assert all(method != "get_regions" for method, _ in cluster.reads)


@pytest.mark.parametrize("words", EXAMPLES)
async def test_an_unreachable_pd_fails_checks_instead_of_raising(words: str) -> None:
    """With every PD read failing, preflight still returns: each check fails with "PD unreachable"."""
    cluster = standard_cluster()
    cluster.fail.update(
        {
            "health",
            "get_stores",
            "get_store",
            "get_region",
            "get_operator",
            "get_schedulers",
            "get_paused_schedulers",
            "get_evict_leader_store_ids",
            "get_config",
            "get_store_limits",
            "get_hot_region_ids",
            "get_reject_leader_labels",
            "get_degraded_region_ids",
        }
    )
    report = await run_preflight(_request(words), cluster)
    assert report.blocked
    assert all(c.status is CheckStatus.FAIL for c in report.checks)
    assert any(c.message.startswith("PD unreachable: ") for c in report.checks)
    assert report.fingerprint == fingerprint(report.facts)


async def test_malformed_stored_params_fail_a_check_instead_of_raising() -> None:
    """Parameters that bypassed the catalog (an old row, a bad edit) fail preflight with a sentence."""
    request = ActionRequest(
        action=parse_action(["add-peer", "12", "4"])[0], params={"region_id": "twelve"}, requester="U0ALICE"
    )
    report = await run_preflight(request, standard_cluster())
    assert report.blocked
    assert any("invalid parameters" in c.message for c in report.failures)


async def test_safe_requests_pass_every_check_on_a_healthy_cluster(make_world: MakeWorld) -> None:
    """A routine transfer-leader on a healthy cluster shows every check passing, with its data."""
    report = await _preflight_in(make_world, "transfer-leader 12 2", _nothing)
    assert [c.status for c in report.checks] == [CheckStatus.PASS] * len(report.checks)
    assert [c.name for c in report.checks] == [
        "PD healthy",
        "region exists",
        "target store",
        "target holds a voter",
        "no running operator",
    ]
    target = next(c for c in report.checks if c.name == "target store")
    assert target.data["state"] == "Up" and target.data["store_id"] == 2


async def test_a_check_that_breaks_fails_closed() -> None:
    """An unexpected error inside a check blocks the action with a sentence instead of crashing preflight."""
    report = await _preflight(
        "split-region 12 usekey 7480000000000000FF10", lambda c: c.set_region(12, start_key="not hex")
    )
    assert report.blocked
    broken = next(c for c in report.failures if c.name == "split keys in range")
    assert broken.message.startswith("this check could not run (ValueError")
