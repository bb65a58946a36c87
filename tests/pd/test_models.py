"""PD models: every success fixture parses into PD-named models with PD's values."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import TypeAdapter, ValidationError

from pd.errors import decipher_response
from pd.models import (
    ClusterStatus,
    EvictLeaderConfig,
    HealthInfo,
    Member,
    MembersInfo,
    MetaCluster,
    OperatorObject,
    OperatorStatus,
    OperatorStatusKind,
    RegionInfo,
    RegionsInfo,
    ReplicationConfig,
    ScheduleConfig,
    StatusInfo,
    StoreHotPeersInfos,
    StoreInfo,
    StoreLimit,
    StoresInfo,
    parse_byte_size,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
_COVERED: set[str] = set()
F = TypeVar("F", bound=Callable[..., Any])


def covers(*names: str) -> Callable[[F], F]:
    """Record which fixtures a test parses, so the coverage test can tell when one is forgotten."""
    _COVERED.update(names)
    return lambda test: test


def answer(name: str) -> Any:
    """The fixture decoded the way the client decodes a 200 (region bodies are octet-stream)."""
    content_type = (
        "application/octet-stream" if name.startswith("region") else "application/json; charset=UTF-8"
    )
    return decipher_response(200, content_type, (FIXTURES / name).read_bytes(), request_name="T", path="/")


def test_every_success_fixture_is_parsed() -> None:
    """Each non-error fixture is exercised by some test in this module."""
    on_disk = {p.name for p in FIXTURES.iterdir() if not p.name.startswith("error_")}
    assert on_disk - _COVERED == set()


@covers("stores.json")
def test_stores_parse_with_state_names_labels_and_sizes() -> None:
    """StoresInfo keeps PD's names; Offline has state 1, Up omits it; sizes parse to bytes."""
    stores = StoresInfo.model_validate(answer("stores.json"))
    assert stores.count == len(stores.stores) == 5
    by_id = {info.store.id: info for info in stores.stores}
    assert by_id[1].store.state == 0 and by_id[1].store.state_name == "Up"
    assert by_id[5].store.state_name == "Down"
    assert by_id[7].store.state == 1 and by_id[7].store.state_name == "Offline"
    assert by_id[1].store.label_map == {"zone": "z1", "host": "tikv-1"}
    assert by_id[1].status.capacity_bytes == 1 << 40
    assert by_id[1].status.available_bytes == round(853.2 * (1 << 30))
    assert by_id[5].status.pending_peer_count == 3
    assert by_id[6].status.leader_count == 413
    assert by_id[1].status.last_heartbeat_ts == datetime(2026, 8, 21, 6, 59, 58, 500000, tzinfo=UTC)


@covers("store.json")
def test_store_parses() -> None:
    """A single StoreInfo has its meta and status halves."""
    info = StoreInfo.model_validate(answer("store.json"))
    assert info.store.id == 1
    assert info.store.address == "10.0.2.1:20160"
    assert info.store.last_heartbeat == 1787295598500000000
    assert info.status.region_count == 1236
    assert info.status.uptime == "30h59m58.5s"


@covers("stores_check_down.json")
def test_stores_check_parses() -> None:
    """``/stores/check?state=down`` has the same shape as ``/stores``."""
    stores = StoresInfo.model_validate(answer("stores_check_down.json"))
    assert [info.store.id for info in stores.stores] == [5]
    assert stores.stores[0].store.state_name == "Down"


@covers("stores_limit.json")
def test_stores_limit_parses_to_int_keys() -> None:
    """``/stores/limit`` becomes ``dict[int, StoreLimit]`` with kebab keys read."""
    limits = TypeAdapter(dict[int, StoreLimit]).validate_python(answer("stores_limit.json"))
    assert limits[6].add_peer == 30 and limits[6].remove_peer == 15
    assert limits[7].remove_peer == 100_000_000


@covers("region.json")
def test_region_parses_from_compact_octet_stream() -> None:
    """The compact region body parses, learners included, leader store derived."""
    region = RegionInfo.model_validate(answer("region.json"))
    assert region.id == 12 and region.exists
    assert region.end_key == ""
    assert region.epoch.conf_ver == 9 and region.epoch.version == 6
    assert region.leader_store_id == 4
    learner = next(p for p in region.peers if p.role_name == "Learner")
    assert learner.is_learner and learner.store_id == 7 and learner.role == 1
    assert region.read_bytes == 67108864


@covers("region_not_found_v8.5.json")
def test_v85_missing_region_parses_as_non_existent() -> None:
    """v8.5's 200 zero object parses but says it does not exist and has no leader."""
    region = RegionInfo.model_validate(answer("region_not_found_v8.5.json"))
    assert not region.exists
    assert region.leader_store_id is None
    assert region.peers == ()


@covers("regions.json", "regions_check_down_peer.json", "regions_writeflow.json")
def test_region_lists_parse_with_down_and_pending_peers() -> None:
    """RegionsInfo lists keep down peers (with down_seconds) and pending peers."""
    regions = RegionsInfo.model_validate(answer("regions.json"))
    assert regions.count == 3 and [r.id for r in regions.regions] == [2, 8, 12]
    first = regions.regions[0]
    assert first.down_peers[0].peer.store_id == 5 and first.down_peers[0].down_seconds == 2400
    assert first.pending_peers[0].id == 10
    down = RegionsInfo.model_validate(answer("regions_check_down_peer.json"))
    assert {r.id for r in down.regions} == {2, 8}
    top = RegionsInfo.model_validate(answer("regions_writeflow.json"))
    written = [r.written_bytes for r in top.regions]
    assert written == sorted(written, reverse=True)


@covers("regions_store_empty.json", "regions_count.json")
def test_empty_and_null_region_lists() -> None:
    """``[]`` and ``null`` region lists both become an empty tuple."""
    assert RegionsInfo.model_validate(answer("regions_store_empty.json")).regions == ()
    counted = RegionsInfo.model_validate(answer("regions_count.json"))
    assert counted.count == 3 and counted.regions == ()


@covers("members.json", "leader.json")
def test_members_keep_uint64_ids_exact() -> None:
    """Member ids above 2^53 stay exact integers; the leader's client URL is there."""
    members = MembersInfo.model_validate(answer("members.json"))
    assert members.header.cluster_id == 7404181512839532371
    assert [m.member_id for m in members.members][1] == 11810397637052137549
    assert members.members[1].member_id > 2**53
    assert members.leader is not None and members.leader.client_urls == ("http://10.0.1.1:2379",)
    leader = Member.model_validate(answer("leader.json"))
    assert leader.member_id == 4621856316406582357 and leader.binary_version == ""


@covers("health.json")
def test_health_parses() -> None:
    """``/health`` is a list with one boolean per member."""
    health = TypeAdapter(list[HealthInfo]).validate_python(answer("health.json"))
    assert [h.health for h in health] == [True, True, False]
    assert health[2].member_id == 16349839722498183411


@covers("cluster.json", "cluster_status.json", "status.json", "version.json", "cluster_version.json")
def test_cluster_level_answers_parse() -> None:
    """Cluster, cluster status, status and version answers parse; the cluster id is exact."""
    assert MetaCluster.model_validate(answer("cluster.json")).id == 7404181512839532371
    status = ClusterStatus.model_validate(answer("cluster_status.json"))
    assert status.is_initialized and status.raft_bootstrap_time is not None
    assert StatusInfo.model_validate(answer("status.json")).kernel_type == "Classic"
    assert answer("version.json") == {"version": "v9.0.0-beta.2"}
    assert answer("cluster_version.json") == "9.0.0-beta.2"


@covers("config_schedule.json")
def test_schedule_config_reads_bool_strings_and_keeps_raw() -> None:
    """Kebab keys map to attributes, bool strings read as bools, ``raw`` keeps PD's own values."""
    config = ScheduleConfig.model_validate(answer("config_schedule.json"))
    assert config.leader_schedule_limit == 4
    assert config.max_merge_region_keys == 540000
    assert config.enable_tikv_split_region is True and config.enable_one_way_merge is False
    assert config.max_store_down_time == "30m0s"
    assert config.store_limit[6].add_peer == 30
    assert [s.type for s in config.schedulers_v2][-1] == "evict-leader"
    assert config.schedulers_v2[-1].args == ("1",)
    assert config.get("enable-tikv-split-region") == "true"
    assert config.raw["store-limit"]["7"]["remove-peer"] == 100000000
    with pytest.raises(ValidationError):
        config.leader_schedule_limit = 8  # type: ignore[misc]


def test_schedule_config_tolerates_missing_and_new_keys() -> None:
    """v8.5 lacks some keys and future PDs add some: neither breaks parsing."""
    config = ScheduleConfig.model_validate({"leader-schedule-limit": 6, "some-future-key": "x"})
    assert config.leader_schedule_limit == 6
    assert config.max_affinity_merge_region_size == 256
    assert config.get("some-future-key") == "x"


@covers("config_replicate.json")
def test_replication_config_splits_location_labels() -> None:
    """``location-labels`` is PD's comma string; the model gives a tuple and keeps the raw string."""
    config = ReplicationConfig.model_validate(answer("config_replicate.json"))
    assert config.max_replicas == 3
    assert config.location_labels == ("zone", "host")
    assert config.enable_placement_rules is True and config.strictly_match_label is False
    assert config.raw["location-labels"] == "zone,host"


@covers("config.json", "config_pd_server.json")
def test_full_config_sections_parse() -> None:
    """The whole config is a dict whose schedule and replication sections fit their models."""
    config = answer("config.json")
    assert ScheduleConfig.model_validate(config["schedule"]).leader_schedule_limit == 4
    assert ReplicationConfig.model_validate(config["replication"]).max_replicas == 3
    assert answer("config_pd_server.json")["flow-round-by-digit"] == 3


@covers("config_label_property.json")
def test_label_property_is_the_config_section_of_the_same_name() -> None:
    """``GET /config/label-property`` answers the ``label-property`` section of the whole config."""
    assert answer("config_label_property.json") == answer("config.json")["label-property"] == {}


@covers("hotspot_regions_write.json")
def test_hot_regions_parse_per_store() -> None:
    """Hot peers are keyed by integer store id, as peer and as leader."""
    hot = StoreHotPeersInfos.model_validate(answer("hotspot_regions_write.json"))
    assert set(hot.as_peer) == {1, 4, 6}
    assert hot.as_leader[4].statistics[0].region_id == 8
    assert hot.as_leader[4].statistics[0].is_leader
    assert hot.as_peer[6].statistics == ()


@covers("operators.json", "operators_kind_no_match.json", "operator_records.json")
def test_operator_lists_are_strings_or_null() -> None:
    """``/operators`` and records are string lists; a ``?kind=`` miss is null."""
    operators = TypeAdapter(list[str]).validate_python(answer("operators.json"))
    assert operators[0].startswith("admin-transfer-leader {transfer leader: store 1 to 4}")
    assert answer("operators_kind_no_match.json") is None
    assert "finished (finishAt:" in answer("operator_records.json")[0]


@covers("operators_object.json")
def test_operator_objects_parse() -> None:
    """``?object`` items carry region, epoch, kind bits and a status number with a name."""
    objects = TypeAdapter(list[OperatorObject]).validate_python(answer("operators_object.json"))
    assert [o.region_id for o in objects] == [2, 8]
    assert objects[0].kind == 257 and objects[0].timeout == "1m0s"
    assert objects[0].region_epoch.conf_ver == 5
    assert objects[1].status_name == "STARTED"


@covers("operator_region_running.json")
def test_running_operator_status_parses() -> None:
    """The RUNNING string splits into status, desc, brief, region and the operator text."""
    status = OperatorStatus.parse(answer("operator_region_running.json"))
    assert status.status is OperatorStatusKind.RUNNING
    assert status.desc == "admin-transfer-leader"
    assert status.brief == "transfer leader: store 1 to 4"
    assert status.region_id == 2
    assert status.operator.startswith("admin-transfer-leader {")
    assert not status.finished


@covers("operator_region_success.json")
def test_success_operator_status_parses() -> None:
    """The SUCCESS string parses and counts as finished."""
    status = OperatorStatus.parse(answer("operator_region_success.json"))
    assert status.status is OperatorStatusKind.SUCCESS
    assert status.desc == "admin-remove-peer" and status.brief == "rm peer: store [5]"
    assert status.region_id == 12
    assert status.operator.endswith(" finished")
    assert status.finished


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CANCEL", OperatorStatusKind.CANCEL),
        ("TIMEOUT", OperatorStatusKind.TIMEOUT),
        ("REPLACE", OperatorStatusKind.REPLACE),
        ("RUNNING", OperatorStatusKind.RUNNING),
        ("SUCCESS", OperatorStatusKind.SUCCESS),
        ("5", OperatorStatusKind.CREATED),
    ],
)
def test_operator_status_words(word: str, expected: OperatorStatusKind) -> None:
    """Every status PD prints, including the out-of-range 5 for CREATED, maps to the enum."""
    running = answer("operator_region_running.json")
    status = OperatorStatus.parse(running.replace("status: RUNNING", f"status: {word}", 1))
    assert status.status is expected
    assert status.desc == "admin-transfer-leader"


@pytest.mark.parametrize("text", ["operator: x", "status: WEIRD, operator: x", ""])
def test_operator_status_rejects_foreign_text(text: str) -> None:
    """A string without PD's status shape, or with an unknown word, is refused."""
    with pytest.raises(ValueError):
        OperatorStatus.parse(text)


@covers("scheduler_config_evict_leader_list.json", "scheduler_config_grant_leader_list.json")
def test_evict_leader_config_lists_store_ids() -> None:
    """``store-id-ranges`` keys become integer store ids; grant-leader has the same shape."""
    config = EvictLeaderConfig.model_validate(answer("scheduler_config_evict_leader_list.json"))
    assert config.store_ids == (1, 4) and config.batch == 3
    assert config.store_id_ranges[1][0].start_key == ""
    assert EvictLeaderConfig.model_validate(answer("scheduler_config_grant_leader_list.json")).store_ids == (
        6,
    )
    assert EvictLeaderConfig().store_ids == ()


@covers(
    "scheduler_config_balance_leader_list.json",
    "scheduler_config_evict_slow_store_list.json",
    "scheduler_config_shuffle_region_roles.json",
    "schedulers.json",
    "schedulers_paused.json",
    "schedulers_paused_timestamp.json",
)
def test_scheduler_answers_decode() -> None:
    """Scheduler lists are names; scheduler configs without a model stay plain JSON."""
    assert "evict-leader-scheduler" in answer("schedulers.json")
    assert answer("schedulers_paused.json") == ["balance-region-scheduler"]
    assert answer("schedulers_paused_timestamp.json")[0]["resume_at"] == "2026-08-21T07:05:00Z"
    assert answer("scheduler_config_balance_leader_list.json")["batch"] == 4
    assert answer("scheduler_config_evict_slow_store_list.json")["recovery-duration"] == 1800
    assert answer("scheduler_config_shuffle_region_roles.json") == ["leader", "follower", "learner"]


@covers(
    "config_update_ok.json",
    "operator_create_ok.json",
    "operator_delete_ok.json",
    "operators_delete_all_ok.json",
    "operator_scatter_regions_ok.json",
    "scheduler_create_ok.json",
    "scheduler_delete_per_store_body.json",
    "scheduler_pause_resume_ok.json",
    "scheduler_remove_ok.json",
    "scheduler_store_applied_ok.json",
)
def test_write_confirmations_decode() -> None:
    """Write answers are PD's quoted strings (or null, or scatter-regions' object)."""
    for name in ("config_update_ok.json", "operator_create_ok.json", "scheduler_create_ok.json"):
        text = answer(name)
        assert isinstance(text, str) and text.startswith("The ")
    assert answer("operator_delete_ok.json") == "The pending operator is canceled."
    assert answer("operators_delete_all_ok.json") == "All pending operators are canceled."
    assert answer("scheduler_pause_resume_ok.json") == "Pause or resume the scheduler successfully."
    assert answer("scheduler_remove_ok.json") == "The scheduler is removed."
    assert answer("scheduler_store_applied_ok.json") == "The scheduler has been applied to the store."
    assert answer("scheduler_delete_per_store_body.json") is None
    assert answer("operator_scatter_regions_ok.json") == {"processed-percentage": 100, "error": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0B", 0),
        ("1TiB", 1 << 40),
        ("853.2GiB", round(853.2 * (1 << 30))),
        ("512MiB", 512 << 20),
        ("10KiB", 10 << 10),
        ("1.5KB", 1536),
        ("7", 7),
    ],
)
def test_parse_byte_size(text: str, expected: int) -> None:
    """PD's human sizes are powers of 1024, with or without the ``i``."""
    assert parse_byte_size(text) == expected


def test_parse_byte_size_rejects_garbage() -> None:
    """A string that is not a size is refused rather than read as zero."""
    with pytest.raises(ValueError):
        parse_byte_size("lots")


def test_models_ignore_unknown_fields_and_are_frozen() -> None:
    """PD adding a field does not break parsing, and parsed models cannot be changed."""
    store = StoreInfo.model_validate({"store": {"id": 3, "brand_new_field": 1}, "status": {"x": 2}})
    assert store.store.id == 3 and store.status.capacity_bytes == 0
    with pytest.raises(ValidationError):
        store.store.id = 4  # type: ignore[misc]


def test_large_uint64_region_and_store_ids_stay_ints() -> None:
    """Ids near 2^64 survive JSON decoding and model parsing without float rounding."""
    body = json.dumps({"id": 2**64 - 1, "leader": {"id": 2**63 + 1, "store_id": 2**53 + 1}}).encode()
    region = RegionInfo.model_validate(decipher_response(200, None, body, request_name="T", path="/"))
    assert region.id == 2**64 - 1
    assert region.leader_store_id == 2**53 + 1
