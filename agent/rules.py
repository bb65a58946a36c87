"""The agent's rules: pure functions from one observation to findings. No I/O here.

A finding is a cause in an SRE's words, with the numbers PD gave and the endpoint they came from.
Before a rule proposes to move data by hand it asks why PD is not doing it (``agent.diagnosis``):
when something blocks PD (scheduling halted, a limit of 0, a paused or removed scheduler, a store
limit of 0, an evict-leader left behind), that cause is its own finding and carries the proposal
that unblocks PD; the symptom names it and proposes nothing. Data is moved by hand only when PD
cannot do it. Each finding proposes at most one action at a time.

A rule runs only when every read it needs succeeded; ``evaluate`` reports which kinds were looked
for, so the loop closes only tickets whose finding was looked for and not seen. See
docs/agent-diagnosis.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from actions.config_keys import parse_go_duration
from actions.models import ActionType, Evidence
from actions.observe import HotKind, HotRegion, RegionCheck, SchedulerState, ScheduleSettings
from actions.ports import RegionSnapshot, StoreSnapshot
from agent import diagnosis
from agent.diagnosis import DEFAULT_LIMITS, DEFAULT_STORE_LIMIT, Work
from agent.findings import Finding, FindingKind, ProposedAction
from agent.observe import Observation

STORES = "GET /pd/api/v1/stores"
SCHEDULERS = diagnosis.SCHEDULERS
PAUSED_SCHEDULERS = diagnosis.PAUSED_SCHEDULERS
EVICT_LEADER_LIST = "GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list"
SCHEDULE_CONFIG = diagnosis.SCHEDULE_CONFIG
REPLICATE_CONFIG = "GET /pd/api/v1/config/replicate"
HOTSPOT = "GET /pd/api/v1/hotspot/regions/{kind}"
REGIONS_CHECK = "GET /pd/api/v1/regions/check/{check}"
TOP_BY_SIZE = "GET /pd/api/v1/regions/size?limit={limit}"
TOP_BY_FLOW = "GET /pd/api/v1/regions/{kind}flow?limit={limit}"

EVICT_LEADER_SCHEDULER = "evict-leader-scheduler"
DEAD_STATES = ("Down", "Disconnected")
BALANCE_LEADER_SCHEDULER = diagnosis.BALANCE_LEADER
BALANCE_REGION_SCHEDULER = diagnosis.BALANCE_REGION
WATCHED_SCHEDULERS = (diagnosis.BALANCE_LEADER, diagnosis.BALANCE_REGION, diagnosis.BALANCE_HOT_REGION)
MAX_LISTED = 5  # region ids named in one finding's words


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds of the rules. The defaults flag what PD's own schedulers are not fixing."""

    # Leader (region) counts of Up stores may differ by this much before a person is told; PD's
    # balance schedulers keep smaller gaps closing by themselves.
    leader_spread_min: int = 20
    leader_spread_ratio: float = 0.25  # ... and by this fraction of the mean leader count
    region_spread_min: int = 30
    region_spread_ratio: float = 0.3
    min_hot_degree: int = 3  # intervals a region must stay hot; one busy minute is not a hotspot
    max_hot_findings: int = 3  # per direction, hottest first: a person can act on a few at a time
    # A hot region is worth splitting only when there is something to split: below this size or key
    # count the load sits on one key (or a few), which no split spreads.
    hot_split_min_size_mib: int = 16
    hot_split_min_keys: int = 10_000
    pending_peers_per_store: int = 5  # pending peers on one store before it is a finding
    pending_store_limit: float = 5.0  # add-peer rate proposed for a store that cannot keep up
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


def _minutes(delta: timedelta) -> str:
    """``66m`` or ``2h10m``."""
    total = max(round(delta.total_seconds() / 60), 0)
    hours, minutes = divmod(total, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _ids(ids: Iterable[int]) -> str:
    listed = sorted(ids)
    text = ", ".join(map(str, listed[:MAX_LISTED]))
    return text + (f" and {len(listed) - MAX_LISTED} more" if len(listed) > MAX_LISTED else "")


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
        Evidence(label=f"region {region.id} replicas on stores", value=peers or "none", source=source),
        Evidence(
            label=f"region {region.id} leader on store",
            value=str(region.leader_store_id or "none"),
            source=source,
        ),
    ]


def _blocked_note(work: Work, found: list[diagnosis.Blocker]) -> str:
    keys = ", ".join(b.finding_key for b in found)
    reasons = diagnosis.describe(found)
    return f"PD cannot do the {work.value} itself: {reasons}. Unblock it first (see {keys})."


def _down_since_reference(stores: Sequence[StoreSnapshot], at: datetime) -> datetime:
    """PD's "now" as its stores show it: the latest heartbeat of an Up store (else our clock)."""
    beats = [s.last_heartbeat for s in _up(stores) if s.last_heartbeat is not None]
    return max(beats) if beats else at


def _max_down(settings: ScheduleSettings | None) -> timedelta:
    text = settings.max_store_down_time if settings is not None else "30m0s"
    try:
        return timedelta(microseconds=parse_go_duration(text) / 1000)
    except ValueError:
        return timedelta(minutes=30)


# --- PD itself -----------------------------------------------------------------------------------


def pd_no_leader(obs: Observation) -> list[Finding]:
    """Every read failed because PD has no leader: nothing can be scheduled or changed."""
    if not obs.pd_leaderless:
        return []
    return [
        Finding(
            FindingKind.PD_NO_LEADER,
            "cluster",
            "PD has no leader: it answers no read and takes no change",
            (Evidence(label="PD's answer", value=obs.pd_leaderless, source=STORES),),
            (),
            "While PD has no leader, nothing is scheduled and no action can run, so the agent "
            "proposes none. Check the PD members (etcd quorum, network between them) and their logs.",
        )
    ]


def scheduling_blocked(schedulers: SchedulerState | None, settings: ScheduleSettings | None) -> list[Finding]:
    """halt-scheduling on, a watched ``*-schedule-limit`` at 0, a balance scheduler paused or removed."""
    findings: list[Finding] = []
    if settings is not None:
        if (halt := diagnosis.halted(settings)) is not None:
            findings.append(
                Finding(
                    FindingKind.SCHEDULING_HALTED,
                    "cluster",
                    "PD's scheduling is halted (halt-scheduling is on)",
                    (halt.evidence,),
                    (
                        ProposedAction(
                            ActionType.SET_CONFIG,
                            {"key": "halt-scheduling", "value": "false"},
                            "halt-scheduling is on: PD balances nothing, repairs no replica and moves "
                            "no hot region. Turning it off lets PD schedule again; leave it on only while "
                            "an incident needs the cluster frozen.",
                        ),
                    ),
                )
            )
        for key, default in DEFAULT_LIMITS.items():
            if (zero := diagnosis.limit_zero(settings, key)) is None:
                continue
            findings.append(
                Finding(
                    FindingKind.SCHEDULE_LIMIT_ZERO,
                    key,
                    f"{key} is 0: PD creates none of these operators",
                    (zero.evidence,),
                    (
                        ProposedAction(
                            ActionType.SET_CONFIG,
                            {"key": key, "value": str(default)},
                            f"{key} is 0, so PD schedules none of this work by itself. Restoring PD's "
                            f"default ({default}) lets it resume.",
                        ),
                    ),
                )
            )
    if schedulers is not None:
        for name in WATCHED_SCHEDULERS:
            blocked = diagnosis.scheduler_blocked(schedulers, name)
            if blocked is None:
                continue
            if name in schedulers.paused:
                findings.append(
                    Finding(
                        FindingKind.SCHEDULER_PAUSED,
                        name,
                        f"{name} is paused",
                        (blocked.evidence,),
                        (
                            ProposedAction(
                                ActionType.RESUME_SCHEDULER,
                                {"scheduler": name},
                                f"{name} is paused, so PD does none of its work. Resuming it lets PD "
                                "balance by itself instead of people moving data by hand.",
                            ),
                        ),
                    )
                )
            else:
                findings.append(
                    Finding(
                        FindingKind.SCHEDULER_REMOVED,
                        name,
                        f"{name} has been removed",
                        (blocked.evidence,),
                        (),
                        f"PD runs {name} by default; without it nothing does its work. Add it back "
                        f"(pd-ctl scheduler add {name.removesuffix('-scheduler')}) unless it was removed "
                        "on purpose.",
                    )
                )
    return findings


def store_limits_zero(stores: Sequence[StoreSnapshot], settings: ScheduleSettings) -> list[Finding]:
    """An Up store whose add-peer or remove-peer limit is 0: PD cannot move replicas onto or off it."""
    findings = []
    for store in _up(stores):
        limits = settings.store_limits.get(store.id, {})
        zero = sorted(kind for kind, rate in limits.items() if rate <= 0)
        if not zero:
            continue
        limit_type = zero[0] if len(zero) == 1 else None
        params: dict[str, int | float | str] = {"store_id": store.id, "rate": DEFAULT_STORE_LIMIT}
        if limit_type is not None:
            params["limit_type"] = limit_type
        what = " and ".join(zero)
        findings.append(
            Finding(
                FindingKind.STORE_LIMIT_ZERO,
                str(store.id),
                f"Store {store.id}'s {what} limit is 0",
                tuple(
                    Evidence(label=f"store {store.id} {kind} limit", value="0", source=SCHEDULE_CONFIG)
                    for kind in zero
                ),
                (
                    ProposedAction(
                        ActionType.SET_STORE_LIMIT,
                        params,
                        f"Store {store.id} takes no {what} operator, so PD can neither balance nor repair "
                        f"replicas through it. Restoring PD's default ({DEFAULT_STORE_LIMIT:g} per minute) "
                        "lets PD use it again.",
                    ),
                ),
            )
        )
    return findings


# --- stores --------------------------------------------------------------------------------------


def store_down(
    stores: Sequence[StoreSnapshot],
    schedulers: SchedulerState | None,
    down_regions: Sequence[RegionSnapshot] | None,
    settings: ScheduleSettings | None,
    at: datetime,
) -> list[Finding]:
    """A store PD no longer hears from: within max-store-down-time wait, past it have PD replace it.

    Raft moves the leaders of a dead store by itself, so evicting them does nothing. Once the store
    has been down longer than max-store-down-time, PD should be replacing its replicas; if regions
    still have a replica there, the store is taken offline so PD replaces them (unless something
    blocks PD's replica repair, which is then the finding to act on).
    """
    findings = []
    reference = _down_since_reference(stores, at)
    max_down = _max_down(settings)
    max_text = settings.max_store_down_time if settings is not None else "30m0s"
    up = _up(stores)
    replicas = settings.max_replicas if settings is not None else 3
    for store in stores:
        if store.state_name not in DEAD_STATES:
            continue
        down_for = reference - store.last_heartbeat if store.last_heartbeat is not None else None
        past = store.state_name == "Down" or (down_for is not None and down_for >= max_down)
        evidence = [
            Evidence(label=f"store {store.id} state", value=store.state_name, source=STORES),
            Evidence(label=f"store {store.id} regions", value=str(store.region_count), source=STORES),
            Evidence(label="max-store-down-time", value=max_text, source=SCHEDULE_CONFIG),
        ]
        if down_for is not None:
            evidence.insert(
                1,
                Evidence(
                    label=f"store {store.id} last heartbeat", value=f"{_minutes(down_for)} ago", source=STORES
                ),
            )
        affected: int | None = None
        if down_regions is not None:
            affected = sum(1 for r in down_regions if store.id in r.down_peer_store_ids)
            evidence.append(
                Evidence(
                    label=f"regions with a replica down on store {store.id}",
                    value=str(affected),
                    source=REGIONS_CHECK.format(check=RegionCheck.DOWN_PEER.value),
                )
            )
        since = f" for {_minutes(down_for)}" if down_for is not None else ""
        missing = (
            f"{affected} region(s) are missing a replica" if affected else "its regions are missing a replica"
        )
        proposals: tuple[ProposedAction, ...] = ()
        if not past:
            left = f" in {_minutes(max_down - down_for)}" if down_for is not None else ""
            title = f"Store {store.id} is unreachable{since}; PD replaces it after {max_text}"
            note = (
                f"Store {store.id} ({store.address}) stopped heartbeating{since}; {missing}. Raft has moved "
                f"its leaders. PD starts replacing its replicas{left} (max-store-down-time {max_text}); "
                "bring it back before then if it is only restarting."
            )
        else:
            title = f"Store {store.id} has been down{since}, past max-store-down-time ({max_text})"
            blocked = diagnosis.blockers(Work.REPLICA, schedulers, settings)
            if settings is not None and settings.raw.get("enable-remove-down-replica", True) not in (
                True,
                "true",
            ):
                blocked.append(
                    diagnosis.Blocker(
                        "config:enable-remove-down-replica",
                        "enable-remove-down-replica is off",
                        Evidence(label="enable-remove-down-replica", value="false", source=SCHEDULE_CONFIG),
                    )
                )
            if blocked:
                note = f"{missing.capitalize()} for longer than {max_text}. " + _blocked_note(
                    Work.REPLICA, blocked
                )
            elif len(up) < replicas:
                note = (
                    f"{missing.capitalize()}, but only {len(up)} store(s) are Up for {replicas} replicas: "
                    "PD has nowhere to put them. Bring the store back or add a store."
                )
            else:
                note = (
                    f"If store {store.id} is gone for good, take it offline "
                    f"(/tikv offline-store {store.id}); if it is coming back, bring it up: PD keeps its "
                    "replicas' places until then."
                )
                proposals = (
                    ProposedAction(
                        ActionType.OFFLINE_STORE,
                        {"store_id": store.id},
                        f"Store {store.id} ({store.address}) has been down{since}, longer than "
                        f"max-store-down-time ({max_text}), and {missing} on it. Taking it offline tells PD "
                        "the store is gone: PD replaces its replicas on the Up stores, then retires it.",
                    ),
                )
        findings.append(
            Finding(FindingKind.STORE_DOWN, str(store.id), title, tuple(evidence), proposals, note)
        )
    return findings


def store_low_space(
    stores: Sequence[StoreSnapshot],
    settings: ScheduleSettings,
    schedulers: SchedulerState | None,
) -> list[Finding]:
    """A store past PD's ``low-space-ratio``: PD stops placing replicas there; people add capacity."""
    findings = []
    for store in stores:
        # Only Up stores: PD places nothing on Offline or dead stores anyway.
        if store.state_name != "Up" or not _low_on_space(store, settings):
            continue
        used = 1.0 - store.available_ratio
        blocked = diagnosis.blockers(Work.REGION, schedulers, settings)
        note = (
            f"PD no longer places replicas on store {store.id} and balance-region moves regions off it. "
            "Add capacity (disk or stores) before it fills up."
        )
        if blocked:
            note += " " + _blocked_note(Work.REGION, blocked)
        findings.append(
            Finding(
                FindingKind.STORE_LOW_SPACE,
                str(store.id),
                f"Store {store.id} is running out of space ({used:.0%} used)",
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
                (),
                note,
            )
        )
    return findings


def _spread(up: list[StoreSnapshot], count: str, weight: str) -> tuple[StoreSnapshot, StoreSnapshot, float]:
    mean = sum(getattr(s, count) for s in up) / len(up)
    most = max(up, key=lambda s: (getattr(s, count), -s.id))
    least = min(up, key=lambda s: (getattr(s, count), s.id))
    return most, least, mean


def _weights_explain(up: list[StoreSnapshot], count: str, weight: str, min_gap: int, ratio: float) -> bool:
    """Whether the counts are even once divided by each store's weight (PD balances count / weight)."""
    scores = [getattr(s, count) / max(getattr(s, weight), 1e-6) for s in up]
    weights = [getattr(s, weight) for s in up]
    if max(weights) == min(weights):
        return False
    mean = sum(scores) / len(scores)
    return bool(max(scores) - min(scores) < max(min_gap, ratio * mean))


def leader_imbalance(
    stores: Sequence[StoreSnapshot],
    schedulers: SchedulerState,
    settings: ScheduleSettings | None,
    candidates: Sequence[RegionSnapshot],
    hot: Sequence[HotRegion],
    rules: RuleSettings,
    *,
    top_n: int = 0,
) -> list[Finding]:
    """Leader counts of Up stores far apart: say why PD is not evening them out.

    Stores held by evict-leader are left out (their count is low on purpose; a forgotten one is its
    own finding). Leaders are moved by hand only when balance-leader-scheduler has been removed and
    nothing else blocks leader scheduling; otherwise the finding names the cause (whose own finding
    carries the fix), the weights, or says PD is on it.
    """
    up = [s for s in _up(stores) if s.id not in schedulers.evict_leader_store_ids]
    if len(up) < 2:
        return []
    most, least, mean = _spread(up, "leader_count", "leader_weight")
    spread = most.leader_count - least.leader_count
    if spread < rules.leader_spread_min or spread < rules.leader_spread_ratio * mean:
        return []
    evidence = [
        Evidence(label=f"store {most.id} leads", value=f"{most.leader_count} regions", source=STORES),
        Evidence(label=f"store {least.id} leads", value=f"{least.leader_count} regions", source=STORES),
        Evidence(label="mean leaders per Up store", value=f"{mean:.1f}", source=STORES),
    ]
    title = (
        f"Leaders unbalanced: store {most.id} leads {most.leader_count} regions, store {least.id} "
        f"{least.leader_count}"
    )
    if _weights_explain(
        up, "leader_count", "leader_weight", rules.leader_spread_min, rules.leader_spread_ratio
    ):
        weights = ", ".join(f"store {s.id} {s.leader_weight:g}" for s in up if s.leader_weight != 1.0)
        evidence.append(Evidence(label="leader weights", value=weights, source=STORES))
        note = (
            f"The gap follows the stores' leader weights ({weights}): PD balances leaders per unit of "
            "weight. If a weight was left behind after maintenance, reset it (pd-ctl store weight)."
        )
        return [
            Finding(
                FindingKind.LEADER_IMBALANCE, "cluster", title + " (by weight)", tuple(evidence), (), note
            )
        ]
    blocked = diagnosis.blockers(Work.LEADER, schedulers, settings)
    for b in blocked:
        evidence.append(b.evidence)
    removed_only = bool(blocked) and all(b.finding_key.startswith("scheduler-removed:") for b in blocked)
    if blocked and not removed_only:
        note = _blocked_note(Work.LEADER, blocked)
        return [Finding(FindingKind.LEADER_IMBALANCE, "cluster", title, tuple(evidence), (), note)]
    if not blocked:
        evidence.append(Evidence(label=BALANCE_LEADER_SCHEDULER, value="running", source=SCHEDULERS))
        note = (
            f"PD is balancing leaders by itself ({diagnosis.enabled_text(Work.LEADER, settings)}); moving "
            "one by hand would not close a gap this size. If it does not shrink, look at the stores it "
            "avoids (busy, slow or with leader transfers paused)."
        )
        return [Finding(FindingKind.LEADER_IMBALANCE, "cluster", title, tuple(evidence), (), note)]
    # balance-leader-scheduler is gone: PD cannot balance leaders, so one is moved by hand.
    counts = {s.id: s.leader_count for s in up}
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
    note = _blocked_note(Work.LEADER, blocked) + " Until then, leaders can only be moved by hand."
    if options:
        region_id, target, source = min(options, key=lambda o: (counts[o[1]], o[0]))
        evidence.append(
            Evidence(label=f"region {region_id} has a replica on store", value=str(target), source=source)
        )
        proposals = (
            ProposedAction(
                ActionType.TRANSFER_LEADER,
                {"region_id": region_id, "to_store_id": target},
                f"balance-leader-scheduler has been removed, so PD does not even out leaders: store "
                f"{most.id} leads {most.leader_count} regions, store {least.id} {least.leader_count}. Moving "
                f"region {region_id}'s leader to store {target} takes load off store {most.id} until the "
                "scheduler is added back.",
            ),
        )
    return [Finding(FindingKind.LEADER_IMBALANCE, "cluster", title, tuple(evidence), proposals, note)]


def region_imbalance(
    stores: Sequence[StoreSnapshot],
    schedulers: SchedulerState,
    settings: ScheduleSettings | None,
    rules: RuleSettings,
) -> list[Finding]:
    """Region counts of Up stores far apart: say why PD is not evening them out (never moved by hand)."""
    up = [s for s in _up(stores) if not _low_on_space(s, settings)]
    if len(up) < 2:
        return []
    most, least, mean = _spread(up, "region_count", "region_weight")
    spread = most.region_count - least.region_count
    if spread < rules.region_spread_min or spread < rules.region_spread_ratio * mean:
        return []
    evidence = [
        Evidence(label=f"store {most.id} holds", value=f"{most.region_count} regions", source=STORES),
        Evidence(label=f"store {least.id} holds", value=f"{least.region_count} regions", source=STORES),
        Evidence(label="mean regions per Up store", value=f"{mean:.1f}", source=STORES),
    ]
    title = (
        f"Regions unbalanced: store {most.id} holds {most.region_count}, "
        f"store {least.id} {least.region_count}"
    )
    if _weights_explain(
        up, "region_count", "region_weight", rules.region_spread_min, rules.region_spread_ratio
    ):
        weights = ", ".join(f"store {s.id} {s.region_weight:g}" for s in up if s.region_weight != 1.0)
        evidence.append(Evidence(label="region weights", value=weights, source=STORES))
        note = (
            f"The gap follows the stores' region weights ({weights}): PD balances data per unit of weight. "
            "If a weight was left behind, reset it (pd-ctl store weight)."
        )
        return [
            Finding(
                FindingKind.REGION_IMBALANCE, "cluster", title + " (by weight)", tuple(evidence), (), note
            )
        ]
    blocked = diagnosis.blockers(Work.REGION, schedulers, settings)
    if settings is not None:
        limits = settings.store_limits.get(least.id, {})
        if limits.get("add-peer", 1.0) <= 0:
            blocked.append(
                diagnosis.Blocker(
                    f"store-limit-zero:{least.id}",
                    f"store {least.id}'s add-peer limit is 0",
                    Evidence(label=f"store {least.id} add-peer limit", value="0", source=SCHEDULE_CONFIG),
                )
            )
    evidence.extend(b.evidence for b in blocked)
    if blocked:
        note = _blocked_note(Work.REGION, blocked)
    else:
        note = (
            f"PD is moving regions by itself ({diagnosis.enabled_text(Work.REGION, settings)}); a new or "
            "recently repaired store fills up over hours. Nothing to move by hand."
        )
    return [Finding(FindingKind.REGION_IMBALANCE, "cluster", title, tuple(evidence), (), note)]


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


def regions_without_leader(
    regions: Sequence[RegionSnapshot], stores: Sequence[StoreSnapshot]
) -> list[Finding]:
    """Regions that lost the majority of their voters (or have no leader at all): one finding.

    PD cannot repair a region without quorum and nothing in the catalog can; the finding tells people
    which stores to bring back.
    """
    dead = {s.id for s in stores if s.state_name in DEAD_STATES}
    lost: list[RegionSnapshot] = []
    for region in regions:
        voters = [p.store_id for p in region.peers if p.is_voter]
        gone = [s for s in voters if s in dead or s in region.down_peer_store_ids]
        leaderless = region.leader_store_id is None or region.leader_store_id in dead
        if leaderless or (voters and len(gone) * 2 > len(voters)):
            lost.append(region)
    if not lost:
        return []
    culprits = Counter(s for r in lost for s in r.down_peer_store_ids if s in dead or True)
    source = REGIONS_CHECK.format(check=RegionCheck.DOWN_PEER.value)
    stores_text = ", ".join(str(s) for s, _ in culprits.most_common()) or "unknown"
    return [
        Finding(
            FindingKind.REGION_NO_LEADER,
            "cluster",
            f"{len(lost)} region(s) have no leader: most of their replicas are on unreachable stores",
            (
                Evidence(label="regions without a leader", value=_ids(r.id for r in lost), source=source),
                Evidence(label="their replicas are down on stores", value=stores_text, source=source),
            ),
            (),
            f"Reads and writes to these regions fail until a majority of their replicas is back. Bring "
            f"back store(s) {stores_text}; if they are lost for good, recover with pd-ctl unsafe "
            "remove-failed-stores (PD cannot do this by itself and the bot does not offer it).",
        )
    ]


def down_peers(
    regions: Sequence[RegionSnapshot],
    stores: Sequence[StoreSnapshot],
    settings: ScheduleSettings | None,
    schedulers: SchedulerState | None,
) -> list[Finding]:
    """A down replica on a store that is Up: PD repairs it only after max-store-down-time, so replace it.

    Down replicas on a Down or Disconnected store belong to that store's finding (``store_down``), and
    regions without quorum to ``regions_without_leader``. One step at a time: first a new replica,
    then (once the region is back at full strength) removing the down one.
    """
    dead = {s.id for s in stores if s.state_name in DEAD_STATES}
    replicas = settings.max_replicas if settings is not None else 3
    findings = []
    for region in regions:
        live_down = tuple(s for s in region.down_peer_store_ids if s not in dead)
        if not live_down or region.leader_store_id is None:
            continue
        down_text = ", ".join(map(str, live_down))
        evidence = [
            *_region_evidence(region, RegionCheck.DOWN_PEER),
            Evidence(
                label="down replicas on stores",
                value=down_text,
                source=REGIONS_CHECK.format(check=RegionCheck.DOWN_PEER.value),
            ),
        ]
        healthy = sum(1 for p in region.peers if p.is_voter and p.store_id not in region.down_peer_store_ids)
        proposals: tuple[ProposedAction, ...] = ()
        note = ""
        blocked = diagnosis.blockers(Work.REPLICA, schedulers, settings)
        if blocked:
            note = _blocked_note(Work.REPLICA, blocked)
        elif healthy >= replicas:
            down = live_down[0]
            proposals = (
                ProposedAction(
                    ActionType.REMOVE_PEER,
                    {"region_id": region.id, "store_id": down},
                    f"Region {region.id} has {healthy} healthy replicas again; its replica on store {down} "
                    "is still down. Removing it keeps the region at its replica count.",
                ),
            )
        elif targets := _add_peer_targets(region, stores, settings):
            target = targets[0]
            evidence.append(
                Evidence(label=f"store {target.id} regions", value=str(target.region_count), source=STORES)
            )
            proposals = (
                ProposedAction(
                    ActionType.ADD_PEER,
                    {"region_id": region.id, "store_id": target.id},
                    f"Region {region.id}'s replica on store {live_down[0]} is down while the store itself is "
                    f"Up. A new replica on store {target.id} (Up, {target.region_count} regions) restores "
                    "the replica count; the down one is removed after.",
                ),
            )
        else:
            note = "No Up store with room is free of this region's replicas."
        findings.append(
            Finding(
                FindingKind.DOWN_PEER,
                str(region.id),
                f"Region {region.id} has a down replica on store(s) {down_text}, which is Up",
                tuple(evidence),
                proposals,
                note,
            )
        )
    return findings


def pending_peers(
    regions: Sequence[RegionSnapshot],
    stores: Sequence[StoreSnapshot],
    settings: ScheduleSettings | None,
    rules: RuleSettings,
) -> list[Finding]:
    """Pending (lagging) replicas piling up on one live store: the store cannot keep up.

    One pending replica catches up by itself. Many on one store mean it is slow (disk, CPU) or is
    sent more snapshots than it can apply; slowing what PD sends it is the lever PD offers.
    """
    source = REGIONS_CHECK.format(check=RegionCheck.PENDING_PEER.value)
    live = {s.id: s for s in stores if s.state_name not in DEAD_STATES}
    per_store: dict[int, list[int]] = {}
    for region in regions:
        for store_id in region.pending_peer_store_ids:
            if store_id in live:
                per_store.setdefault(store_id, []).append(region.id)
    findings = []
    for store_id, region_ids in sorted(per_store.items()):
        store = live[store_id]
        count = max(len(region_ids), store.pending_peer_count)
        if count < rules.pending_peers_per_store:
            continue
        evidence = (
            Evidence(label=f"pending replicas on store {store_id}", value=str(count), source=source),
            Evidence(label="for example regions", value=_ids(region_ids), source=source),
        )
        rate = settings.store_limits.get(store_id, {}).get("add-peer") if settings is not None else None
        proposals: tuple[ProposedAction, ...] = ()
        note = (
            f"Store {store_id} ({store.address}) is behind on applying Raft logs or snapshots. Check its "
            "disk and CPU."
        )
        if rate is None or rate > rules.pending_store_limit:
            shown = f"{rate:g}" if rate is not None else "PD's default"
            proposals = (
                ProposedAction(
                    ActionType.SET_STORE_LIMIT,
                    {"store_id": store_id, "rate": rules.pending_store_limit, "limit_type": "add-peer"},
                    f"{count} replicas on store {store_id} lag behind their leaders. Lowering its add-peer "
                    f"limit from {shown} to {rules.pending_store_limit:g} per minute sends it fewer "
                    "snapshots while it catches up.",
                ),
            )
        findings.append(
            Finding(
                FindingKind.PENDING_PEER,
                str(store_id),
                f"Store {store_id} has {count} replicas lagging behind their leaders",
                evidence,
                proposals,
                note,
            )
        )
    return findings


def miss_peers(
    regions: Sequence[RegionSnapshot],
    stores: Sequence[StoreSnapshot],
    settings: ScheduleSettings,
    schedulers: SchedulerState | None,
) -> list[Finding]:
    """A region with fewer replicas than ``max-replicas``: PD's replica checker adds them unless blocked.

    A replica is added by hand only when nothing blocks PD's repair and it has had a cycle to act
    (the region is still flagged): PD's checker normally fixes this within seconds.
    """
    blocked = diagnosis.blockers(Work.REPLICA, schedulers, settings)
    findings = []
    for region in regions:
        voters = sum(1 for p in region.peers if p.is_voter)
        missing = max(settings.max_replicas - voters, 0)
        if missing <= 0:
            continue
        evidence = [
            *_region_evidence(region, RegionCheck.MISS_PEER),
            Evidence(label="max-replicas", value=str(settings.max_replicas), source=REPLICATE_CONFIG),
        ]
        proposals: tuple[ProposedAction, ...] = ()
        note = ""
        if blocked:
            note = _blocked_note(Work.REPLICA, blocked)
        elif targets := _add_peer_targets(region, stores, settings):
            target = targets[0]
            proposals = (
                ProposedAction(
                    ActionType.ADD_PEER,
                    {"region_id": region.id, "store_id": target.id},
                    f"Region {region.id} has {voters} of {settings.max_replicas} replicas and PD has not "
                    f"added one. A replica on store {target.id} (Up, {target.region_count} regions) brings "
                    "it back to full strength.",
                ),
            )
        else:
            note = "No Up store with room is free of this region's replicas: add a store."
        findings.append(
            Finding(
                FindingKind.MISS_PEER,
                str(region.id),
                f"Region {region.id} has {voters} of {settings.max_replicas} replicas",
                tuple(evidence),
                proposals,
                note,
            )
        )
    return findings


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


def hot_regions(
    kind: HotKind,
    hot: Sequence[HotRegion],
    rules: RuleSettings,
    obs: Observation | None = None,
) -> list[Finding]:
    """Regions hot for ``min_hot_degree`` intervals: split the ones a split spreads, else a hot key.

    A split helps only when the region holds enough data and keys for its halves to share the load;
    a small hot region (1 MiB, a handful of keys) is one hot key, and no split or move fixes that.
    """
    source = HOTSPOT.format(kind=kind.value)
    lasting = [h for h in hot if h.hot_degree >= rules.min_hot_degree]
    hottest = sorted(lasting, key=lambda h: (-h.flow_bytes, h.region_id))[: rules.max_hot_findings]
    finding_kind = FindingKind.HOT_WRITE if kind is HotKind.WRITE else FindingKind.HOT_READ
    verb = "writes" if kind is HotKind.WRITE else "reads"
    findings = []
    for h in hottest:
        evidence = [
            Evidence(label=f"region {h.region_id} {verb}", value=f"{_bytes(h.flow_bytes)}/s", source=source),
            Evidence(
                label=f"region {h.region_id} keys {'written' if kind is HotKind.WRITE else 'read'}",
                value=f"{h.flow_keys:.0f}/s",
                source=source,
            ),
            Evidence(label="hot for", value=f"{h.hot_degree} intervals", source=source),
            Evidence(label="leader on store", value=str(h.leader_store_id), source=source),
        ]
        region = obs.region(h.region_id) if obs is not None else None
        flow_source = TOP_BY_FLOW.format(kind=kind.value, limit=obs.top_n if obs is not None else 0)
        proposals: tuple[ProposedAction, ...] = ()
        note = ""
        flow = f"{_bytes(h.flow_bytes)}/s"
        title = f"Region {h.region_id} is {kind.value}-hot ({flow} for {h.hot_degree} intervals)"
        if region is None:
            note = (
                f"Its size and key count were not among the {obs.top_n if obs else 0} busiest regions PD "
                "listed, so the agent cannot tell whether a split would help."
            )
        else:
            evidence.append(
                Evidence(
                    label=f"region {h.region_id} size",
                    value=f"{region.approximate_size_mib} MiB",
                    source=flow_source,
                )
            )
            evidence.append(
                Evidence(
                    label=f"region {h.region_id} keys", value=str(region.approximate_keys), source=flow_source
                )
            )
            splittable = (
                region.approximate_size_mib >= rules.hot_split_min_size_mib
                and region.approximate_keys >= rules.hot_split_min_keys
            )
            if splittable:
                proposals = (
                    ProposedAction(
                        ActionType.SPLIT_REGION,
                        {"region_id": h.region_id, "policy": rules.split_policy},
                        f"Region {h.region_id} has taken {flow} of {verb} for {h.hot_degree} intervals "
                        f"and holds {region.approximate_size_mib} MiB in {region.approximate_keys} "
                        "keys. Splitting it lets PD put the halves' load on different stores.",
                    ),
                )
            else:
                title = (
                    f"Hot key: region {h.region_id} takes {_bytes(h.flow_bytes)}/s of {verb} but holds only "
                    f"{region.approximate_size_mib} MiB in {region.approximate_keys} keys"
                )
                note = (
                    "The load sits on one key or a few; splitting the region or moving it does not spread "
                    "it. Look at the application's access pattern (a counter, a queue head, a sequential "
                    "primary key)."
                )
        findings.append(Finding(finding_kind, str(h.region_id), title, tuple(evidence), proposals, note))
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

    ran(FindingKind.PD_NO_LEADER, pd_no_leader(obs))
    stores, schedulers, settings = obs.stores, obs.schedulers, obs.settings
    down = obs.check(RegionCheck.DOWN_PEER)
    if schedulers is not None and settings is not None:
        blocked = scheduling_blocked(schedulers, settings)
        for kind in (
            FindingKind.SCHEDULING_HALTED,
            FindingKind.SCHEDULE_LIMIT_ZERO,
            FindingKind.SCHEDULER_PAUSED,
            FindingKind.SCHEDULER_REMOVED,
        ):
            ran(kind, [f for f in blocked if f.kind is kind])
    if stores is not None and settings is not None and down is not None:
        ran(FindingKind.STORE_DOWN, store_down(stores, schedulers, down, settings, obs.at))
    if stores is not None and down is not None:
        ran(FindingKind.REGION_NO_LEADER, regions_without_leader(down, stores))
    if stores is not None and schedulers is not None:
        ran(FindingKind.STALE_EVICT_LEADER, stale_evict_leader(stores, schedulers, obs))
        if obs.top_by_size is not None:
            hot = (*(obs.hot_write or ()), *(obs.hot_read or ()))
            ran(
                FindingKind.LEADER_IMBALANCE,
                leader_imbalance(stores, schedulers, settings, obs.top_by_size, hot, rules, top_n=obs.top_n),
            )
        if settings is not None:
            ran(FindingKind.REGION_IMBALANCE, region_imbalance(stores, schedulers, settings, rules))
    if stores is not None and settings is not None:
        ran(FindingKind.STORE_LOW_SPACE, store_low_space(stores, settings, schedulers))
        ran(FindingKind.STORE_LIMIT_ZERO, store_limits_zero(stores, settings))
        if (missing := obs.check(RegionCheck.MISS_PEER)) is not None:
            ran(FindingKind.MISS_PEER, miss_peers(missing, stores, settings, schedulers))
    if stores is not None:
        if down is not None:
            ran(FindingKind.DOWN_PEER, down_peers(down, stores, settings, schedulers))
        if (pending := obs.check(RegionCheck.PENDING_PEER)) is not None:
            ran(FindingKind.PENDING_PEER, pending_peers(pending, stores, settings, rules))
    if (oversized := obs.check(RegionCheck.OVERSIZED_REGION)) is not None:
        ran(FindingKind.OVERSIZED_REGION, oversized_regions(oversized, rules))
    if obs.hot_write is not None:
        ran(FindingKind.HOT_WRITE, hot_regions(HotKind.WRITE, obs.hot_write, rules, obs))
    if obs.hot_read is not None:
        ran(FindingKind.HOT_READ, hot_regions(HotKind.READ, obs.hot_read, rules, obs))
    findings.sort(key=lambda f: f.severity)  # stable: each rule's own order (e.g. hottest first) stays
    return Evaluation(tuple(findings), frozenset(evaluated))
