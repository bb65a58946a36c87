"""Cluster actions: schedulers, config, store limits and draining stores (docs/pd.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions import verifiers
from actions.catalog import fields
from actions.catalog.spec import ActionSpec, Inverse, RiskInputs
from actions.checks import schedule, stores
from actions.config_keys import config_key, format_go_duration
from actions.errors import InvalidRequest
from actions.models import ActionType, ParamValue, PDRequest, Tier
from actions.params import Params, float_param, int_param, number_text, str_param

API = "/pd/api/v1"
EVICT_LEADER = "evict-leader-scheduler"
# Resuming forgets how long the pause had left; Undo pauses again for this long.
REPAUSE_SECONDS = 3600

_HEALTH = stores.pd_health()


def _store(params: Params) -> int:
    return int_param(params, "store_id")


def _number(value: float) -> int | float:
    """JSON numbers as pd-ctl writes them: ``15`` rather than ``15.0``."""
    return int(value) if value.is_integer() else value


# --- evict-leader / remove-evict-leader -----------------------------------------------------------

EVICT_LEADER_SPEC = ActionSpec(
    action=ActionType.EVICT_LEADER,
    words=("evict-leader", "evict-leader-scheduler"),
    summary="Move every leader off a store and keep them off until remove-evict-leader.",
    params=(fields.STORE,),
    # It lasts until removed (remove-evict-leader undoes it): reversible, not temporary.
    tier=Tier.REVERSIBLE,
    example="evict-leader 4",
    subject=("store_id",),
    verify_fn=verifiers.evicting_leaders,
    risk_inputs=RiskInputs.STORE,
    checks=(_HEALTH, stores.store_exists(), stores.not_evicting(), stores.leaders_have_somewhere_to_go()),
    describe_fn=lambda p: (
        f"Move all leaders off store {_store(p)} and keep them off until remove-evict-leader {_store(p)}"
    ),
    request_fn=lambda p: PDRequest(
        name="EvictLeader",
        method="POST",
        path=f"{API}/schedulers",
        body={"name": EVICT_LEADER, "store_id": _store(p)},
    ),
    pd_ctl_fn=lambda p: f"pd-ctl scheduler add {EVICT_LEADER} {_store(p)}",
    inverse_fn=lambda p, facts: (ActionType.REMOVE_EVICT_LEADER, {"store_id": _store(p)}),
)

REMOVE_EVICT_LEADER = ActionSpec(
    action=ActionType.REMOVE_EVICT_LEADER,
    words=("remove-evict-leader",),
    summary="Let a store hold leaders again (ends its evict-leader).",
    params=(fields.STORE,),
    tier=Tier.REVERSIBLE,
    example="remove-evict-leader 4",
    subject=("store_id",),
    verify_fn=verifiers.not_evicting_leaders,
    checks=(_HEALTH, stores.in_evict_list()),
    describe_fn=lambda p: f"Let store {_store(p)} hold leaders again (ends evict-leader {_store(p)})",
    request_fn=lambda p: PDRequest(
        name="RemoveEvictLeader", method="DELETE", path=f"{API}/schedulers/{EVICT_LEADER}-{_store(p)}"
    ),
    pd_ctl_fn=lambda p: f"pd-ctl scheduler remove {EVICT_LEADER}-{_store(p)}",
    inverse_fn=lambda p, facts: (ActionType.EVICT_LEADER, {"store_id": _store(p)}),
)


# --- pause-scheduler / resume-scheduler -----------------------------------------------------------


def _scheduler(params: Params) -> str:
    return str_param(params, "scheduler")


def _pause_request(name: str, delay: int, request_name: str) -> PDRequest:
    return PDRequest(name=request_name, method="POST", path=f"{API}/schedulers/{name}", body={"delay": delay})


def _repause(params: Params, facts: Mapping[str, Any]) -> Inverse | None:
    scheduler = facts.get("scheduler")
    if not isinstance(scheduler, Mapping) or scheduler.get("paused") is not True:
        return None
    return ActionType.PAUSE_SCHEDULER, {"scheduler": _scheduler(params), "delay_seconds": REPAUSE_SECONDS}


PAUSE_SCHEDULER = ActionSpec(
    action=ActionType.PAUSE_SCHEDULER,
    words=("pause-scheduler",),
    summary="Pause a scheduler for a while; PD resumes it by itself afterwards.",
    params=(fields.SCHEDULER, fields.DELAY),
    tier=Tier.TEMPORARY,
    example="pause-scheduler balance-region-scheduler 600",
    subject=("scheduler",),
    verify_fn=verifiers.scheduler_paused,
    checks=(_HEALTH, schedule.scheduler_state(resume=False)),
    describe_fn=lambda p: (
        f"Pause {_scheduler(p)} for {format_go_duration(int_param(p, 'delay_seconds') * 10**9)}"
    ),
    request_fn=lambda p: _pause_request(_scheduler(p), int_param(p, "delay_seconds"), "PauseScheduler"),
    pd_ctl_fn=lambda p: f"pd-ctl scheduler pause {_scheduler(p)} {int_param(p, 'delay_seconds')}",
    inverse_fn=lambda p, facts: (ActionType.RESUME_SCHEDULER, {"scheduler": _scheduler(p)}),
)

RESUME_SCHEDULER = ActionSpec(
    action=ActionType.RESUME_SCHEDULER,
    words=("resume-scheduler",),
    summary="Resume a paused scheduler now.",
    params=(fields.SCHEDULER,),
    tier=Tier.TEMPORARY,
    example="resume-scheduler balance-region-scheduler",
    subject=("scheduler",),
    verify_fn=verifiers.scheduler_resumed,
    checks=(_HEALTH, schedule.scheduler_state(resume=True)),
    describe_fn=lambda p: f"Resume {_scheduler(p)}",
    request_fn=lambda p: _pause_request(_scheduler(p), 0, "ResumeScheduler"),
    pd_ctl_fn=lambda p: f"pd-ctl scheduler resume {_scheduler(p)}",
    inverse_fn=_repause,
)


# --- set-config -----------------------------------------------------------------------------------


def _config_refine(values: dict[str, ParamValue]) -> dict[str, str]:
    """The value in the key's PD type (``"8"`` → 8, ``on`` → ``"true"``, ``30m`` → ``"30m0s"``)."""
    key = config_key(str_param(values, "key"))
    try:
        values["value"] = key.parse(str(values.get("value", "")))
    except ValueError as exc:
        return {"value": str(exc)}
    return {}


def _config_value(params: Params) -> int | float | str:
    value = params.get("value")
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    raise InvalidRequest(f"config value must be a number or text, got {value!r}", field="value")


def _previous_config(params: Params, facts: Mapping[str, Any]) -> Inverse | None:
    config = facts.get("config")
    key = str_param(params, "key")
    previous = config.get(key) if isinstance(config, Mapping) else None
    if isinstance(previous, bool):
        previous = "true" if previous else "false"
    if not isinstance(previous, int | float | str) or previous == _config_value(params):
        return None
    return ActionType.SET_CONFIG, {"key": key, "value": previous}


def _config_text(value: int | float | str) -> str:
    return number_text(value) if isinstance(value, int | float) else value


SET_CONFIG = ActionSpec(
    action=ActionType.SET_CONFIG,
    words=("set-config",),
    summary="Change one PD schedule or replication setting (POST /config).",
    params=(fields.CONFIG_KEY, fields.CONFIG_VALUE),
    tier=Tier.CONFIG,
    example="set-config leader-schedule-limit 8",
    subject=("key",),
    verify_fn=verifiers.config_set,
    risk_inputs=RiskInputs.CONFIG,
    checks=(_HEALTH, schedule.config_value()),
    describe_fn=lambda p: f"Set PD's {str_param(p, 'key')} to {_config_text(_config_value(p))}",
    request_fn=lambda p: PDRequest(
        name="SetConfig", method="POST", path=f"{API}/config", body={str_param(p, "key"): _config_value(p)}
    ),
    pd_ctl_fn=lambda p: f"pd-ctl config set {str_param(p, 'key')} {_config_text(_config_value(p))}",
    inverse_fn=_previous_config,
    refine=_config_refine,
)


# --- set-store-limit ------------------------------------------------------------------------------


def _limit_type(params: Params) -> str | None:
    value = params.get("limit_type")
    return value if isinstance(value, str) and value else None


def _limit_body(params: Params) -> dict[str, ParamValue]:
    body: dict[str, ParamValue] = {"rate": _number(float_param(params, "rate"))}
    limit_type = _limit_type(params)
    if limit_type is not None:
        body["type"] = limit_type
    return body


def _previous_limit(params: Params, facts: Mapping[str, Any]) -> Inverse | None:
    current = facts.get("store_limit")
    if not isinstance(current, Mapping):
        return None
    limit_type = _limit_type(params)
    types = [limit_type] if limit_type else ["add-peer", "remove-peer"]
    previous = {current.get(t) for t in types}
    if len(previous) != 1:
        return None
    rate = previous.pop()
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        return None
    if float(rate) == float_param(params, "rate"):
        return None
    inverse: dict[str, ParamValue] = {"store_id": _store(params), "rate": float(rate)}
    if limit_type:
        inverse["limit_type"] = limit_type
    return ActionType.SET_STORE_LIMIT, inverse


def _describe_limit(params: Params) -> str:
    which = _limit_type(params) or "add-peer and remove-peer"
    rate = number_text(float_param(params, "rate"))
    return f"Limit store {_store(params)} to {rate} {which} operations per minute"


SET_STORE_LIMIT = ActionSpec(
    action=ActionType.SET_STORE_LIMIT,
    words=("set-store-limit",),
    summary="Set how many peer additions or removals per minute a store may take part in.",
    params=(fields.STORE, fields.RATE, fields.LIMIT_TYPE),
    tier=Tier.TEMPORARY,
    example="set-store-limit 4 15 add-peer",
    subject=("store_id",),
    verify_fn=verifiers.limit_set,
    checks=(_HEALTH, stores.store_exists(), schedule.store_limit()),
    describe_fn=_describe_limit,
    request_fn=lambda p: PDRequest(
        name="SetStoreLimit", method="POST", path=f"{API}/store/{_store(p)}/limit", body=_limit_body(p)
    ),
    pd_ctl_fn=lambda p: " ".join(
        ["pd-ctl store limit", str(_store(p)), number_text(float_param(p, "rate"))]
        + ([t] if (t := _limit_type(p)) else [])
    ),
    inverse_fn=_previous_limit,
)


# --- offline-store / cancel-offline ---------------------------------------------------------------

OFFLINE_STORE = ActionSpec(
    action=ActionType.OFFLINE_STORE,
    words=("offline-store",),
    summary="Drain a store: PD moves every region off it, then it becomes a Tombstone for good.",
    params=(fields.STORE,),
    tier=Tier.IRREVERSIBLE,
    example="offline-store 4",
    subject=("store_id",),
    verify_fn=verifiers.store_drained,
    risk_inputs=RiskInputs.STORE,
    drains=True,
    checks=(_HEALTH, stores.store_drainable(), stores.enough_up_stores(), stores.no_other_draining()),
    describe_fn=lambda p: (
        f"Take store {_store(p)} offline: PD moves all its regions away, then it becomes a Tombstone"
    ),
    request_fn=lambda p: PDRequest(name="OfflineStore", method="DELETE", path=f"{API}/store/{_store(p)}"),
    pd_ctl_fn=lambda p: f"pd-ctl store delete {_store(p)}",
    inverse_fn=lambda p, facts: (ActionType.CANCEL_OFFLINE, {"store_id": _store(p)}),
)

CANCEL_OFFLINE = ActionSpec(
    action=ActionType.CANCEL_OFFLINE,
    words=("cancel-offline",),
    summary="Stop draining an Offline store and set it back to Up (impossible once it is a Tombstone).",
    params=(fields.STORE,),
    tier=Tier.REVERSIBLE,
    example="cancel-offline 4",
    subject=("store_id",),
    verify_fn=verifiers.store_back_up,
    checks=(_HEALTH, stores.store_is_offline()),
    describe_fn=lambda p: f"Stop draining store {_store(p)} and set it back to Up",
    request_fn=lambda p: PDRequest(
        name="CancelOffline", method="POST", path=f"{API}/store/{_store(p)}/state", query={"state": "Up"}
    ),
    pd_ctl_fn=lambda p: f"pd-ctl store cancel-delete {_store(p)}",
    inverse_fn=lambda p, facts: (ActionType.OFFLINE_STORE, {"store_id": _store(p)}),
)

CLUSTER_ACTIONS = (
    EVICT_LEADER_SPEC,
    REMOVE_EVICT_LEADER,
    PAUSE_SCHEDULER,
    RESUME_SCHEDULER,
    SET_CONFIG,
    SET_STORE_LIMIT,
    OFFLINE_STORE,
    CANCEL_OFFLINE,
)
