"""Why PD is not doing something by itself: the causes the rules look for before moving data by hand.

PD balances leaders and regions, repairs replicas and spreads hot regions on its own. When a symptom
persists, an SRE first asks what stops PD: scheduling halted, a ``*-schedule-limit`` of 0, the
scheduler paused or removed, a store limit of 0, an evict-leader scheduler left behind, a weight.
``blockers`` answers that question for one kind of work from one observation; the cause findings
(``agent.rules``) carry the proposals that unblock PD, and the symptom findings only point at them.
See docs/agent-diagnosis.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from actions.models import Evidence
from actions.observe import SchedulerState, ScheduleSettings

SCHEDULERS = "GET /pd/api/v1/schedulers"
PAUSED_SCHEDULERS = "GET /pd/api/v1/schedulers?status=paused"
SCHEDULE_CONFIG = "GET /pd/api/v1/config/schedule"

BALANCE_LEADER = "balance-leader-scheduler"
BALANCE_REGION = "balance-region-scheduler"
BALANCE_HOT_REGION = "balance-hot-region-scheduler"
# PD's defaults for the limits the rules watch; restoring one of them is what the proposal does.
DEFAULT_LIMITS = {
    "leader-schedule-limit": 4,
    "region-schedule-limit": 2048,
    "replica-schedule-limit": 64,
    "hot-region-schedule-limit": 4,
}
DEFAULT_STORE_LIMIT = 15.0  # operators per minute, PD's default-store-limit


class Work(enum.StrEnum):
    """What PD would be doing by itself."""

    LEADER = "leader balancing"
    REGION = "region balancing"
    REPLICA = "replica repair"
    HOT = "hot-region scheduling"


_LIMIT = {
    Work.LEADER: "leader-schedule-limit",
    Work.REGION: "region-schedule-limit",
    Work.REPLICA: "replica-schedule-limit",
    Work.HOT: "hot-region-schedule-limit",
}
_SCHEDULER = {Work.LEADER: BALANCE_LEADER, Work.REGION: BALANCE_REGION, Work.HOT: BALANCE_HOT_REGION}


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason PD is not doing a kind of work, and the finding that carries its remedy."""

    finding_key: str
    reason: str  # in words: "balance-leader-scheduler is paused"
    evidence: Evidence


def halted(settings: ScheduleSettings) -> Blocker | None:
    if not settings.halt_scheduling:
        return None
    return Blocker(
        "scheduling-halted:cluster",
        "halt-scheduling is on, so PD schedules nothing",
        Evidence(label="halt-scheduling", value="true", source=SCHEDULE_CONFIG),
    )


def limit_zero(settings: ScheduleSettings, key: str) -> Blocker | None:
    if key not in settings.schedule_limits or settings.schedule_limits[key] > 0:
        return None
    return Blocker(
        f"schedule-limit-zero:{key}",
        f"{key} is 0, so PD creates none of these operators",
        Evidence(label=key, value="0", source=SCHEDULE_CONFIG),
    )


def scheduler_blocked(schedulers: SchedulerState, name: str) -> Blocker | None:
    if name in schedulers.paused:
        return Blocker(
            f"scheduler-paused:{name}",
            f"{name} is paused",
            Evidence(label=name, value="paused", source=PAUSED_SCHEDULERS),
        )
    if name not in schedulers.names:
        return Blocker(
            f"scheduler-removed:{name}",
            f"{name} has been removed",
            Evidence(label=name, value="not in PD's scheduler list", source=SCHEDULERS),
        )
    return None


def blockers(
    work: Work, schedulers: SchedulerState | None, settings: ScheduleSettings | None
) -> list[Blocker]:
    """What keeps PD from doing ``work`` by itself, most general first; empty when nothing does."""
    found: list[Blocker | None] = []
    if settings is not None:
        found.append(halted(settings))
        found.append(limit_zero(settings, _LIMIT[work]))
    if schedulers is not None and work in _SCHEDULER:
        found.append(scheduler_blocked(schedulers, _SCHEDULER[work]))
    return [b for b in found if b is not None]


def describe(found: list[Blocker]) -> str:
    """``balance-leader-scheduler is paused; leader-schedule-limit is 0`` (or empty)."""
    return "; ".join(b.reason for b in found)


def enabled_text(work: Work, settings: ScheduleSettings | None) -> str:
    """What PD uses to do ``work``, for a note saying PD is on it: ``balance-leader-scheduler runs,
    leader-schedule-limit 4``."""
    parts = []
    if work in _SCHEDULER:
        parts.append(f"{_SCHEDULER[work]} runs")
    if settings is not None and _LIMIT[work] in settings.schedule_limits:
        parts.append(f"{_LIMIT[work]} {settings.schedule_limits[_LIMIT[work]]}")
    return ", ".join(parts)
