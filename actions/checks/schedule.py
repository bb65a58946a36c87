"""Checks about PD's scheduling knobs: schedulers, config values and store limits.

Facts recorded for the fingerprint (and read back by ``inverse`` for Undo): the scheduler's existence
and paused state, the config key's current value (and the value it is compared with), and the store's
current add-peer / remove-peer limits.
"""

from __future__ import annotations

import difflib
from typing import Any

from actions.checks.base import Check, CheckContext, Outcome, fail, ok, warn
from actions.config_keys import ConfigKind, check_against, config_key, words
from actions.params import float_param, int_param, number_text, str_param

# Config values that switch a part of scheduling off.
_ZERO_STOPS = {
    "leader-schedule-limit": "leader balancing",
    "region-schedule-limit": "region balancing",
    "replica-schedule-limit": "replica repair",
    "merge-schedule-limit": "region merging",
    "hot-region-schedule-limit": "hot-region scheduling",
}
_OFF_STOPS = {
    "enable-remove-down-replica": "rebuilding replicas of Down stores",
    "enable-replace-offline-replica": "draining Offline stores",
    "enable-make-up-replica": "repairing under-replicated regions",
}


def scheduler_state(*, resume: bool) -> Check:
    """pause-scheduler / resume-scheduler: the scheduler runs; resuming needs it paused."""

    async def run(ctx: CheckContext) -> Outcome:
        name = str_param(ctx.params, "scheduler")
        running = await ctx.schedulers()
        paused = await ctx.paused_schedulers()
        ctx.facts["scheduler"] = {"name": name, "exists": name in running, "paused": name in paused}
        data: dict[str, Any] = {"scheduler": name, "running": sorted(running), "paused": sorted(paused)}
        if name not in running:
            close = difflib.get_close_matches(name, running, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (running: {', '.join(sorted(running))})"
            return fail(f"no scheduler named {name} is running{hint}", **data)
        if resume and name not in paused:
            return fail(f"{name} is not paused; nothing to resume", **data)
        if not resume and name in paused:
            return warn(f"{name} is already paused; pausing it again restarts the pause from now", **data)
        return ok(f"{name} is running" + (" and paused" if name in paused else ""), **data)

    return Check("scheduler state", run)


def config_value() -> Check:
    """set-config: the key is known, the value has PD's type and range, and fits the rest of the config."""

    async def run(ctx: CheckContext) -> Outcome:
        key = config_key(str_param(ctx.params, "key"))
        value = ctx.params.get("value")
        config = await ctx.config()
        current = config.get(key.name)
        ctx.note("config", key.name, current)
        data: dict[str, Any] = {"key": key.name, "type": key.kind.value, "current": current, "new": value}
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            return fail(f"{key.name} needs a value, got {value!r}", **data)
        try:
            wanted = key.parse(value if isinstance(value, str) else number_text(value))
        except ValueError as exc:
            return fail(str(exc), **data)
        problem = await _conflict(ctx, key.name, wanted, config)
        if problem is not None:
            return problem
        if key.same(current, wanted):
            return warn(f"{key.name} is already {current}; nothing would change", **data)
        caution = _caution(key.name, wanted, current, key.kind)
        if caution is not None:
            return warn(caution, **data)
        return ok(f"{key.name}: {current} → {wanted}", **data)

    return Check("config value", run)


async def _conflict(ctx: CheckContext, key: str, wanted: object, config: dict[str, Any]) -> Outcome | None:
    """A value PD would refuse, or that the cluster cannot satisfy."""
    if key in ("low-space-ratio", "high-space-ratio") and isinstance(wanted, float):
        other = "high-space-ratio" if key == "low-space-ratio" else "low-space-ratio"
        current = config.get(other)
        ctx.note("config", other, current)
        if isinstance(current, int | float):
            low, high = (wanted, float(current)) if key == "low-space-ratio" else (float(current), wanted)
            if low <= high:
                return fail(
                    f"low-space-ratio ({low}) must be larger than high-space-ratio ({high}); PD refuses it",
                    key=key,
                    new=wanted,
                    **{other: current},
                )
    if key == "max-replicas" and isinstance(wanted, int):
        # Recorded for the fingerprint; whether the count is acceptable is the risk assessment's call.
        up = sorted(s.id for s in await ctx.stores() if s.state_name == "Up")
        ctx.facts["up_store_ids"] = up
    problem = check_against(key, wanted, config) if isinstance(wanted, int | float | str) else None
    if problem is not None:
        return fail(problem, key=key, new=wanted)
    return None


def _caution(key: str, wanted: object, current: object, kind: ConfigKind) -> str | None:
    if key == "max-replicas" and isinstance(wanted, int):
        if wanted % 2 == 0:
            return (
                f"an even max-replicas ({wanted}) survives no more failures than {wanted - 1} "
                "replicas and costs "
                "more; odd counts are the norm"
            )
        if isinstance(current, int) and wanted < current:
            gone = current - wanted
            return (
                f"lowering max-replicas {current} → {wanted} drops {words(gone)} of the {words(current)} "
                "copies of every region"
            )
    if key in _ZERO_STOPS and wanted == 0:
        return f"{key} 0 stops {_ZERO_STOPS[key]} until it is raised again"
    if key in _OFF_STOPS and wanted == "false":
        return f"{key} false stops {_OFF_STOPS[key]}"
    if key == "halt-scheduling" and wanted == "true":
        return "halt-scheduling true stops all scheduling until it is set to false again"
    return None


def store_limit() -> Check:
    """set-store-limit: records the current limits (for Undo) and says what changes."""

    async def run(ctx: CheckContext) -> Outcome:
        store_id = int_param(ctx.params, "store_id")
        rate = float_param(ctx.params, "rate")
        limit_type = ctx.params.get("limit_type")
        limits = (await ctx.store_limits()).get(store_id)
        current = {k: limits.get(k) for k in ("add-peer", "remove-peer")} if limits is not None else None
        ctx.facts["store_limit"] = current
        data: dict[str, Any] = {
            "store_id": store_id,
            "current": current,
            "rate": rate,
            "type": limit_type or "both",
        }
        if current is None:
            return warn(
                f"PD reports no limit for store {store_id}; Undo will not know the previous rate", **data
            )
        types = [str(limit_type)] if isinstance(limit_type, str) else ["add-peer", "remove-peer"]
        if all(current.get(t) == rate for t in types):
            return warn(
                f"store {store_id}'s {' and '.join(types)} limit is already {number_text(rate)}", **data
            )
        if len(types) == 2 and current["add-peer"] != current["remove-peer"]:
            return warn(
                f"store {store_id}'s add-peer ({current['add-peer']}) and remove-peer "
                f"({current['remove-peer']}) "
                "limits differ; Undo cannot restore both with one command",
                **data,
            )
        before = " / ".join(f"{t} {number_text(current[t] or 0)}" for t in types)
        return ok(f"store {store_id}: {before} → {number_text(rate)} per minute", **data)

    return Check("store limit", run)
