"""The agent's rules: pure functions from one observation to findings. No I/O here.

Each rule looks at one kind of problem and returns findings carrying the numbers it used and the
PD endpoint they came from. A rule runs only when every read it needs succeeded; ``evaluate``
reports which kinds were looked for, so the loop closes only tickets whose finding was looked for
and not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from actions.models import ActionType, Evidence
from actions.observe import HotKind, HotRegion, RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import RegionSnapshot, StoreSnapshot
from agent.findings import Finding, FindingKind, ProposedAction
from agent.observe import Observation

STORES = "GET /pd/api/v1/stores"
SCHEDULERS = "GET /pd/api/v1/schedulers"
EVICT_LEADER_LIST = "GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list"
SCHEDULE_CONFIG = "GET /pd/api/v1/config/schedule"
REPLICATE_CONFIG = "GET /pd/api/v1/config/replicate"
HOTSPOT = "GET /pd/api/v1/hotspot/regions/{kind}"
REGIONS_CHECK = "GET /pd/api/v1/regions/check/{check}"
TOP_BY_SIZE = "GET /pd/api/v1/regions/size?limit={limit}"

EVICT_LEADER_SCHEDULER = "evict-leader-scheduler"
DEAD_STATES = ("Down", "Disconnected")
BALANCE_LEADER_SCHEDULER = "balance-leader-scheduler"


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds of the rules. The defaults flag what PD's own schedulers are not fixing."""

    # Leader counts of Up stores may differ by this much before a person is asked; PD's
    # balance-leader-scheduler keeps smaller gaps closing by itself.
    leader_spread_min: int = 20
    leader_spread_ratio: float = 0.25  # ... and by this fraction of the mean leader count
    min_hot_degree: int = 3  # intervals a region must stay hot; one busy minute is not a hotspot
    max_hot_findings: int = 3  # per direction, hottest first: a person can act on a few at a time
    low_space_add_peer_rate: float = 1.0  # add-peer operators per minute on a store low on space
    split_policy: str = "approximate"  # cheap on TiKV; "scan" is exact but reads the whole region


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The findings of one observation (most severe first) and which kinds were looked for."""

    findings: tuple[Finding, ...]
    evaluated: frozenset[FindingKind]


# --- helpers -------------------------------------------------------------------------------------


def _bytes(n: float) -> str:
    """``853.2 GiB``: the binary units PD prints."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _up(stores: Iterable[StoreSnapshot]) -> list[StoreSnapshot]:
    return [s for s in stores if s.state_name == "Up"]


def _low_on_space(store: StoreSnapshot, settings: ScheduleSettings | None) -> bool:
    ratio = settings.low_space_ratio if settings is not None else 0.8
    return store.capacity_bytes > 0 and 1.0 - store.available_ratio > ratio


def _add_peer_targets(
    region: RegionSnapshot,
    stores: Sequence[StoreSnapshot],
    settings: ScheduleSettings | None,
    *,
    exclude: Iterable[int] = (),
) -> list[StoreSnapshot]:
    """Up stores without a peer of ``region`` and with room, emptiest first."""
    taken = {p.store_id for p in region.peers} | set(exclude)
    fits = [s for s in _up(stores) if s.id not in taken and not _low_on_space(s, settings)]
    return sorted(fits, key=lambda s: (s.region_count, s.id))


def _region_evidence(region: RegionSnapshot, check: RegionCheck) -> list[Evidence]:
    source = REGIONS_CHECK.format(check=check.value)
    peers = ", ".join(f"{p.store_id}{'' if p.is_voter else ' (' + p.role + ')'}" for p in region.peers)
    return [
        Evidence(label=f"region {region.id} peers on stores", value=peers or "none", source=source),
        Evidence(label="leader on store", value=str(region.leader_store_id or "none"), source=source),
    ]


# --- stores --------------------------------------------------------------------------------------


def store_down(
    stores: Sequence[StoreSnapshot],
    schedulers: SchedulerState,
    down_regions: Sequence[RegionSnapshot] | None = None,
    settings: ScheduleSettings | None = None,
) -> list[Finding]:
    """A Down or Disconnected store: move its leaders away (evict-leader) unless that is done.

    The regions whose down peer sits on this store are counted here rather than reported one by
    one: a dead store makes every one of its regions a down-peer region, and they share one remedy.
    """
    findings = []
    for store in stores:
        if store.state_name not in DEAD_STATES:
            continue
        evicted = store.id in schedulers.evict_leader_store_ids
        evidence = [
            Evidence(label=f"store {store.id} state", value=store.state_name, source=STORES),
            Evidence(label=f"store {store.id} leaders", value=str(store.leader_count), source=STORES),
            Evidence(label=f"store {store.id} regions", value=str(store.region_count), source=STORES),
            Evidence(
                label=f"evict-leader holds store {store.id}",
                value="yes" if evicted else "no",
                source=EVICT_LEADER_LIST if evicted else SCHEDULERS,
            ),
        ]
        if down_regions is not None:
            count = sum(1 for r in down_regions if store.id in r.down_peer_store_ids)
            evidence.append(
                Evidence(
                    label=f"regions with a down peer on store {store.id}",
                    value=str(count),
                    source=REGIONS_CHECK.format(check=RegionCheck.DOWN_PEER.value),
                )
            )
        replaced = (
            f" PD replaces its peers once it has been down for max-store-down-time "
            f"({settings.max_store_down_time})."
            if settings is not None
            else ""
        )
        proposals: tuple[ProposedAction, ...] = ()
        note = ""
        if evicted:
            note = (
                "Leaders are already being evicted from this store; bring it back or take it offline."
                + replaced
            )
        else:
            note = replaced.strip()
            proposals = (
                ProposedAction(
                    ActionType.EVICT_LEADER,
                    {"store_id": store.id},
                    f"Store {store.id} ({store.address}) is {store.state_name} and still leads "
                    f"{store.leader_count} region(s); their clients wait for elections. Evicting its "
                    "leaders moves them to healthy stores now.",
                ),
            )
        findings.append(
            Finding(
                FindingKind.STORE_DOWN,
                str(store.id),
                f"Store {store.id} is {store.state_name}",
                tuple(evidence),
                proposals,
                note,
            )
        )
    return findings


def store_low_space(
    stores: Sequence[StoreSnapshot], settings: ScheduleSettings, rules: RuleSettings
) -> list[Finding]:
    """A store past PD's ``low-space-ratio``: slow what flows onto it and tell people."""
    findings = []
    for store in stores:
        # Only Up stores: PD places nothing on Offline or dead stores anyway.
        if store.state_name != "Up" or not _low_on_space(store, settings):
            continue
        used = 1.0 - store.available_ratio
        rate = rules.low_space_add_peer_rate
        findings.append(
            Finding(
                FindingKind.STORE_LOW_SPACE,
                str(store.id),
                f"Store {store.id} is {used:.0%} full",
                (
                    Evidence(
                        label=f"store {store.id} capacity", value=_bytes(store.capacity_bytes), source=STORES
                    ),
                    Evidence(
                        label=f"store {store.id} available",
                        value=_bytes(store.available_bytes),
                        source=STORES,
                    ),
                    Evidence(
                        label="low-space-ratio", value=str(settings.low_space_ratio), source=SCHEDULE_CONFIG
                    ),
                ),
                (
                    ProposedAction(
                        ActionType.SET_STORE_LIMIT,
                        {"store_id": store.id, "rate": rate, "limit_type": "add-peer"},
                        f"Store {store.id} has used {used:.0%} of its capacity, past PD's low-space-ratio "
                        f"({settings.low_space_ratio}). Limiting new peers on it to {rate:g} per minute "
                        "keeps it from filling up while people add capacity.",
                    ),
                ),
                "Add capacity (disk or stores): PD stops choosing it as a target but moves no data off.",
            )
        )
    return findings


def leader_imbalance(
    stores: Sequence[StoreSnapshot],
    schedulers: SchedulerState,
    candidates: Sequence[RegionSnapshot],
    hot: Sequence[HotRegion],
    rules: RuleSettings,
    *,
    top_n: int = 0,
) -> list[Finding]:
    """Leader counts of Up stores apart by more than the thresholds: move one leader down the slope.

    Stores held by evict-leader are left out: their count is low on purpose. Candidate regions come
    from the bounded top-N and hotspot lists, never from a per-store region scan.
    """
    up = [s for s in _up(stores) if s.id not in schedulers.evict_leader_store_ids]
    if len(up) < 2:
        return []
    mean = sum(s.leader_count for s in up) / len(up)
    most = max(up, key=lambda s: (s.leader_count, -s.id))
    least = min(up, key=lambda s: (s.leader_count, s.id))
    spread = most.leader_count - least.leader_count
    if spread < rules.leader_spread_min or spread < rules.leader_spread_ratio * mean:
        return []
    counts = {s.id: s.leader_count for s in up}
    evidence = [
        Evidence(label=f"store {most.id} leaders (most)", value=str(most.leader_count), source=STORES),
        Evidence(label=f"store {least.id} leaders (least)", value=str(least.leader_count), source=STORES),
        Evidence(label="mean leaders per Up store", value=f"{mean:.1f}", source=STORES),
        Evidence(
            label="balance-leader-scheduler",
            value="enabled" if BALANCE_LEADER_SCHEDULER in schedulers.names else "not enabled",
            source=SCHEDULERS,
        ),
    ]
    # (region, target, peers) led by the busiest store; a target below the mean still helps when the
    # emptiest store holds no peer of any candidate (the usual case in a large cluster).
    options: list[tuple[int, int, str]] = []
    for region in candidates:
        if region.leader_store_id != most.id:
            continue
        for peer in region.peers:
            if peer.is_voter and peer.store_id in counts and counts[peer.store_id] < mean:
                options.append((region.id, peer.store_id, TOP_BY_SIZE.format(limit=top_n)))
    for h in hot:
        if h.leader_store_id != most.id:
            continue
        for store_id in h.store_ids:
            if store_id != most.id and store_id in counts and counts[store_id] < mean:
                options.append((h.region_id, store_id, "GET /pd/api/v1/hotspot/regions/{write,read}"))
    proposals: tuple[ProposedAction, ...] = ()
    note = ""
    if options:
        region_id, target, source = min(options, key=lambda o: (counts[o[1]], o[0]))
        evidence.append(
            Evidence(label=f"region {region_id} leader on store", value=str(most.id), source=source)
        )
        evidence.append(
            Evidence(label=f"region {region_id} has a voter on store", value=str(target), source=source)
        )
        proposals = (
            ProposedAction(
                ActionType.TRANSFER_LEADER,
                {"region_id": region_id, "to_store_id": target},
                f"Store {most.id} leads {most.leader_count} regions and store {least.id} only "
                f"{least.leader_count} (mean {mean:.0f}). Moving region {region_id}'s leader to store "
                f"{target} ({counts[target]} leaders) takes load off the busiest store.",
            ),
        )
    else:
        note = (
            f"None of the {len(candidates)} largest or hot regions is led by store {most.id} with a voter on "
            "a store below the mean; check balance-leader-scheduler and leader weights."
        )
    return [
        Finding(
            FindingKind.LEADER_IMBALANCE,
            "cluster",
            f"Leaders unbalanced: store {most.id} has {most.leader_count}, store {least.id} has "
            f"{least.leader_count}",
            tuple(evidence),
            proposals,
            note,
        )
    ]


def stale_evict_leader(
    stores: Sequence[StoreSnapshot], schedulers: SchedulerState, obs: Observation
) -> list[Finding]:
    """An evict-leader left on a store that is Up again (not the bot's, or past the bot's expiry)."""
    findings = []
    for store_id in schedulers.evict_leader_store_ids:
        store = next((s for s in stores if s.id == store_id), None)
        if store is None or store.state_name != "Up":
            continue
        if store_id in obs.bot_evictions:
            revert_at = obs.bot_evictions[store_id]
            if revert_at is not None and revert_at > obs.at:
                continue  # the bot's own eviction; the reconciler reverts it when it is due
            origin = "created by the bot, past its expiry" if revert_at else "created by the bot, no expiry"
        else:
            origin = "not created by the bot"
        findings.append(
            Finding(
                FindingKind.STALE_EVICT_LEADER,
                str(store_id),
                f"Store {store_id} is Up but leaders are still evicted from it",
                (
                    Evidence(label=f"store {store_id} state", value=store.state_name, source=STORES),
                    Evidence(label=f"store {store_id} leaders", value=str(store.leader_count), source=STORES),
                    Evidence(
                        label=f"evict-leader holds store {store_id}", value="yes", source=EVICT_LEADER_LIST
                    ),
                    Evidence(label="eviction origin", value=origin),
                ),
                (
                    ProposedAction(
                        ActionType.REMOVE_EVICT_LEADER,
                        {"store_id": store_id},
                        f"Store {store_id} is Up again, yet the evict-leader scheduler ({origin}) keeps "
                        f"its leader count at {store.leader_count}. Removing it lets PD balance leaders "
                        "back.",
                    ),
                ),
            )
        )
    return findings


# --- regions -------------------------------------------------------------------------------------


def down_peers(
    regions: Sequence[RegionSnapshot], stores: Sequence[StoreSnapshot], settings: ScheduleSettings | None
) -> list[Finding]:
    """A down peer on a live store: add a replica on a healthy store, then remove the down one.

    Down peers on a Down or Disconnected store belong to that store's finding (see ``store_down``).
    """
    dead = {s.id for s in stores if s.state_name in DEAD_STATES}
    findings = []
    for region in regions:
        live_down = tuple(s for s in region.down_peer_store_ids if s not in dead)
        if not live_down:
            continue
        down_text = ", ".join(map(str, region.down_peer_store_ids))
        evidence = [
            *_region_evidence(region, RegionCheck.DOWN_PEER),
            Evidence(
                label="down peers on stores",
                value=down_text,
                source=REGIONS_CHECK.format(check=RegionCheck.DOWN_PEER.value),
            ),
        ]
        targets = _add_peer_targets(region, stores, settings)
        proposals: list[ProposedAction] = []
        for down, target in zip(live_down, targets, strict=False):
            evidence.append(
                Evidence(label=f"store {target.id} regions", value=str(target.region_count), source=STORES)
            )
            proposals.append(
                ProposedAction(
                    ActionType.ADD_PEER,
                    {"region_id": region.id, "store_id": target.id},
                    f"Region {region.id}'s peer on store {down} is down. A new replica on store {target.id} "
                    f"(Up, {target.region_count} regions, no peer of this region) restores the replica count "
                    "before the down one is removed.",
                )
            )
            proposals.append(
                ProposedAction(
                    ActionType.REMOVE_PEER,
                    {"region_id": region.id, "store_id": down},
                    f"Region {region.id}'s peer on store {down} is down; once the replica on store "
                    f"{target.id} exists, removing the down peer keeps the region at its replica count.",
                )
            )
        note = "" if proposals else "No Up store with room is free of this region's peers."
        findings.append(
            Finding(
                FindingKind.DOWN_PEER,
                str(region.id),
                f"Region {region.id} has down peers on store(s) {down_text}",
                tuple(evidence),
                tuple(proposals),
                note,
            )
        )
    return findings


def _add_replica_findings(
    kind: FindingKind,
    check: RegionCheck,
    regions: Sequence[RegionSnapshot],
    stores: Sequence[StoreSnapshot],
    settings: ScheduleSettings | None,
    describe: Callable[[RegionSnapshot], tuple[str, str, int, list[Evidence]]],
) -> list[Finding]:
    findings = []
    for region in regions:
        title, reason, missing, extra = describe(region)
        if missing <= 0:
            continue
        targets = _add_peer_targets(region, stores, settings)[:missing]
        evidence = [*_region_evidence(region, check), *extra]
        proposals = []
        for target in targets:
            evidence.append(
                Evidence(label=f"store {target.id} regions", value=str(target.region_count), source=STORES)
            )
            proposals.append(
                ProposedAction(
                    ActionType.ADD_PEER,
                    {"region_id": region.id, "store_id": target.id},
                    f"{reason} A replica on store {target.id} (Up, {target.region_count} regions, no peer of "
                    "this region) brings it back to full strength.",
                )
            )
        note = "" if proposals else "No Up store with room is free of this region's peers."
        findings.append(Finding(kind, str(region.id), title, tuple(evidence), tuple(proposals), note))
    return findings


def pending_peers(
    regions: Sequence[RegionSnapshot], stores: Sequence[StoreSnapshot], settings: ScheduleSettings | None
) -> list[Finding]:
    """A pending (lagging) peer on a live store: add a replica that is up to date.

    Pending peers on a Down or Disconnected store belong to that store's finding.
    """
    source = REGIONS_CHECK.format(check=RegionCheck.PENDING_PEER.value)
    dead = {s.id for s in stores if s.state_name in DEAD_STATES}

    def describe(region: RegionSnapshot) -> tuple[str, str, int, list[Evidence]]:
        live = [s for s in region.pending_peer_store_ids if s not in dead]
        stores_text = ", ".join(map(str, live))
        return (
            f"Region {region.id} has pending peers on store(s) {stores_text}",
            f"Region {region.id}'s peer(s) on store(s) {stores_text} lag behind the leader's log.",
            1 if live else 0,
            [Evidence(label="pending peers on stores", value=stores_text, source=source)],
        )

    return _add_replica_findings(
        FindingKind.PENDING_PEER, RegionCheck.PENDING_PEER, regions, stores, settings, describe
    )


def miss_peers(
    regions: Sequence[RegionSnapshot], stores: Sequence[StoreSnapshot], settings: ScheduleSettings
) -> list[Finding]:
    """A region with fewer voters than ``max-replicas``: add the missing replicas."""

    def describe(region: RegionSnapshot) -> tuple[str, str, int, list[Evidence]]:
        voters = sum(1 for p in region.peers if p.is_voter)
        missing = max(settings.max_replicas - voters, 0)
        return (
            f"Region {region.id} has {voters} of {settings.max_replicas} replicas",
            f"Region {region.id} has {voters} voter(s) where max-replicas is {settings.max_replicas}.",
            missing,
            [Evidence(label="max-replicas", value=str(settings.max_replicas), source=REPLICATE_CONFIG)],
        )

    return _add_replica_findings(
        FindingKind.MISS_PEER, RegionCheck.MISS_PEER, regions, stores, settings, describe
    )


def oversized_regions(regions: Sequence[RegionSnapshot], rules: RuleSettings) -> list[Finding]:
    """A region PD flags as oversized: split it."""
    source = REGIONS_CHECK.format(check=RegionCheck.OVERSIZED_REGION.value)
    return [
        Finding(
            FindingKind.OVERSIZED_REGION,
            str(region.id),
            f"Region {region.id} is oversized ({region.approximate_size_mib} MiB)",
            (
                Evidence(
                    label=f"region {region.id} size",
                    value=f"{region.approximate_size_mib} MiB",
                    source=source,
                ),
                Evidence(label=f"region {region.id} keys", value=str(region.approximate_keys), source=source),
            ),
            (
                ProposedAction(
                    ActionType.SPLIT_REGION,
                    {"region_id": region.id, "policy": rules.split_policy},
                    f"PD counts region {region.id} ({region.approximate_size_mib} MiB, "
                    f"{region.approximate_keys} keys) as oversized; TiKV has not split it. Splitting it "
                    "makes it cheaper to move, snapshot and balance.",
                ),
            ),
        )
        for region in regions
    ]


def hot_regions(kind: HotKind, hot: Sequence[HotRegion], rules: RuleSettings) -> list[Finding]:
    """Regions hot for ``min_hot_degree`` intervals: split write hotspots, scatter read hotspots."""
    source = HOTSPOT.format(kind=kind.value)
    lasting = [h for h in hot if h.hot_degree >= rules.min_hot_degree]
    hottest = sorted(lasting, key=lambda h: (-h.flow_bytes, h.region_id))[: rules.max_hot_findings]
    findings = []
    for h in hottest:
        evidence = (
            Evidence(
                label=f"region {h.region_id} {kind.value} flow",
                value=f"{_bytes(h.flow_bytes)}/s",
                source=source,
            ),
            Evidence(
                label=f"region {h.region_id} {kind.value} keys", value=f"{h.flow_keys:.0f}/s", source=source
            ),
            Evidence(label="hot degree", value=str(h.hot_degree), source=source),
            Evidence(label="leader on store", value=str(h.leader_store_id), source=source),
        )
        if kind is HotKind.WRITE:
            finding_kind = FindingKind.HOT_WRITE
            proposal = ProposedAction(
                ActionType.SPLIT_REGION,
                {"region_id": h.region_id, "policy": rules.split_policy},
                f"Region {h.region_id} has taken {_bytes(h.flow_bytes)}/s of writes for {h.hot_degree} "
                f"intervals on leader store {h.leader_store_id}. Splitting it lets PD spread the two halves' "
                "writes over more stores.",
            )
        else:
            finding_kind = FindingKind.HOT_READ
            proposal = ProposedAction(
                ActionType.SCATTER_REGION,
                {"region_id": h.region_id},
                f"Region {h.region_id} has served {_bytes(h.flow_bytes)}/s of reads for {h.hot_degree} "
                f"intervals from leader store {h.leader_store_id}. Scattering it moves its peers and leader "
                "to less loaded stores.",
            )
        findings.append(
            Finding(
                finding_kind,
                str(h.region_id),
                f"Region {h.region_id} is {kind.value}-hot ({_bytes(h.flow_bytes)}/s)",
                evidence,
                (proposal,),
            )
        )
    return findings


# --- all rules -----------------------------------------------------------------------------------


def evaluate(obs: Observation, rules: RuleSettings | None = None) -> Evaluation:
    """Every rule whose inputs were read, findings most severe first."""
    rules = rules or RuleSettings()
    findings: list[Finding] = []
    evaluated: set[FindingKind] = set()

    def ran(kind: FindingKind, found: list[Finding]) -> None:
        evaluated.add(kind)
        findings.extend(found)

    stores, schedulers, settings = obs.stores, obs.schedulers, obs.settings
    if stores is not None and schedulers is not None:
        ran(
            FindingKind.STORE_DOWN, store_down(stores, schedulers, obs.check(RegionCheck.DOWN_PEER), settings)
        )
        ran(FindingKind.STALE_EVICT_LEADER, stale_evict_leader(stores, schedulers, obs))
        if obs.top_by_size is not None:
            hot = (*(obs.hot_write or ()), *(obs.hot_read or ()))
            ran(
                FindingKind.LEADER_IMBALANCE,
                leader_imbalance(stores, schedulers, obs.top_by_size, hot, rules, top_n=obs.top_n),
            )
    if stores is not None and settings is not None:
        ran(FindingKind.STORE_LOW_SPACE, store_low_space(stores, settings, rules))
        if (missing := obs.check(RegionCheck.MISS_PEER)) is not None:
            ran(FindingKind.MISS_PEER, miss_peers(missing, stores, settings))
    if stores is not None:
        if (down := obs.check(RegionCheck.DOWN_PEER)) is not None:
            ran(FindingKind.DOWN_PEER, down_peers(down, stores, settings))
        if (pending := obs.check(RegionCheck.PENDING_PEER)) is not None:
            ran(FindingKind.PENDING_PEER, pending_peers(pending, stores, settings))
    if (oversized := obs.check(RegionCheck.OVERSIZED_REGION)) is not None:
        ran(FindingKind.OVERSIZED_REGION, oversized_regions(oversized, rules))
    if obs.hot_write is not None:
        ran(FindingKind.HOT_WRITE, hot_regions(HotKind.WRITE, obs.hot_write, rules))
    if obs.hot_read is not None:
        ran(FindingKind.HOT_READ, hot_regions(HotKind.READ, obs.hot_read, rules))
    findings.sort(key=lambda f: f.severity)  # stable: each rule's own order (e.g. hottest first) stays
    return Evaluation(tuple(findings), frozenset(evaluated))
