"""PD's configuration: the keys, their Go types and defaults, and PD's rules for changing them.

The tables follow ``ScheduleConfig``, ``ReplicationConfig`` and ``PDServerConfig`` field by
field (order matters: it is the order PD prints them in). Values are kept as Python values
(bool for ``,string`` booleans, nanoseconds for durations) and printed back the way Go
marshals them: booleans as ``"true"``, durations as ``"30m0s"``, string slices comma-joined.

Two update paths exist in PD and behave differently, so both are here:

* ``set_items`` is ``POST /config`` — bare or dotted keys, unknown keys rejected with
  ``config item X not found``, each key applied on its own;
* ``merge_schedule`` / ``merge_replication`` are ``POST /config/schedule`` and
  ``/config/replicate`` — a JSON merge where unknown keys are silently ignored.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pd.simulator.errors import (
    ConfigDecodeError,
    ConfigError,
    ConfigKeyError,
    ConfigTypeError,
    ConfigValidationError,
)
from pd.simulator.gofmt import DurationError, go_duration, go_quote, json_kind, number_text, parse_go_duration

UNLIMITED_RATE = 100_000_000.0  # storelimit.Unlimited: what PD sets remove-peer to on an Offline store


class Kind(enum.Enum):
    """The Go type of a config field; the value is the type name Go prints in errors."""

    U64 = "uint64"
    INT = "int"
    I64 = "int64"
    FLOAT = "float64"
    STR = "string"
    BOOLSTR = "bool"
    DURATION = "typeutil.Duration"
    SLICE = "typeutil.StringSlice"
    STORE_LIMIT = "config.StoreLimitConfig"
    COMPUTED = "computed"  # printed from live state (store-limit, schedulers-v2); updates are not applied


@dataclass(frozen=True, slots=True)
class Field:
    """One JSON key of a PD config struct."""

    key: str
    kind: Kind
    default: Any = None
    omitempty: bool = False


_H = 3600 * 10**9
_M = 60 * 10**9

SCHEDULE_FIELDS: tuple[Field, ...] = (
    Field("max-snapshot-count", Kind.U64, 64),
    Field("max-pending-peer-count", Kind.U64, 64),
    Field("max-merge-region-size", Kind.U64, 54),
    Field("max-merge-region-keys", Kind.U64, 0),
    Field("split-merge-interval", Kind.DURATION, _H),
    Field("switch-witness-interval", Kind.DURATION, _H),
    Field("enable-one-way-merge", Kind.BOOLSTR, False),
    Field("enable-cross-table-merge", Kind.BOOLSTR, True),
    Field("patrol-region-interval", Kind.DURATION, 10 * 10**6),
    Field("max-store-down-time", Kind.DURATION, 30 * _M),
    Field("max-store-preparing-time", Kind.DURATION, 48 * _H),
    Field("leader-schedule-limit", Kind.U64, 4),
    Field("leader-schedule-policy", Kind.STR, "count"),
    Field("region-schedule-limit", Kind.U64, 2048),
    Field("witness-schedule-limit", Kind.U64, 4),
    Field("replica-schedule-limit", Kind.U64, 64),
    Field("merge-schedule-limit", Kind.U64, 8),
    Field("hot-region-schedule-limit", Kind.U64, 4),
    Field("affinity-schedule-limit", Kind.U64, 0),
    Field("split-scatter-schedule-limit", Kind.U64, 4),
    Field("hot-region-cache-hits-threshold", Kind.U64, 3),
    Field("store-balance-rate", Kind.FLOAT, 0.0, omitempty=True),
    Field("default-store-limit", Kind.STORE_LIMIT, {"add-peer": 15.0, "remove-peer": 15.0}),
    Field("store-limit", Kind.COMPUTED),
    Field("tolerant-size-ratio", Kind.FLOAT, 0.0),
    Field("low-space-ratio", Kind.FLOAT, 0.8),
    Field("high-space-ratio", Kind.FLOAT, 0.7),
    Field("region-score-formula-version", Kind.STR, "v2"),
    Field("scheduler-max-waiting-operator", Kind.U64, 5),
    Field("disable-raft-learner", Kind.BOOLSTR, False, omitempty=True),
    Field("disable-remove-down-replica", Kind.BOOLSTR, False, omitempty=True),
    Field("disable-replace-offline-replica", Kind.BOOLSTR, False, omitempty=True),
    Field("disable-make-up-replica", Kind.BOOLSTR, False, omitempty=True),
    Field("disable-remove-extra-replica", Kind.BOOLSTR, False, omitempty=True),
    Field("disable-location-replacement", Kind.BOOLSTR, False, omitempty=True),
    Field("enable-remove-down-replica", Kind.BOOLSTR, True),
    Field("enable-replace-offline-replica", Kind.BOOLSTR, True),
    Field("enable-make-up-replica", Kind.BOOLSTR, True),
    Field("enable-remove-extra-replica", Kind.BOOLSTR, True),
    Field("enable-location-replacement", Kind.BOOLSTR, True),
    Field("enable-debug-metrics", Kind.BOOLSTR, False),
    Field("enable-joint-consensus", Kind.BOOLSTR, True),
    Field("enable-tikv-split-region", Kind.BOOLSTR, True),
    Field("enable-heartbeat-breakdown-metrics", Kind.BOOLSTR, True),
    Field("enable-heartbeat-concurrent-runner", Kind.BOOLSTR, True),
    Field("schedulers-v2", Kind.COMPUTED),
    Field("hot-regions-write-interval", Kind.DURATION, 10 * _M),
    Field("hot-regions-reserved-days", Kind.U64, 7),
    Field("max-movable-hot-peer-size", Kind.I64, 512, omitempty=True),
    Field("enable-diagnostic", Kind.BOOLSTR, True),
    Field("enable-witness", Kind.BOOLSTR, False),
    Field("slow-store-evicting-affected-store-ratio-threshold", Kind.FLOAT, 0.3, omitempty=True),
    Field("store-limit-version", Kind.STR, "v1", omitempty=True),
    Field("halt-scheduling", Kind.BOOLSTR, False, omitempty=True),
    Field("patrol-region-worker-count", Kind.INT, 1),
    Field("max-affinity-merge-region-size", Kind.U64, 256),
)

REPLICATION_FIELDS: tuple[Field, ...] = (
    Field("max-replicas", Kind.U64, 3),
    Field("location-labels", Kind.SLICE, []),
    Field("strictly-match-label", Kind.BOOLSTR, False),
    Field("enable-placement-rules", Kind.BOOLSTR, True),
    Field("enable-placement-rules-cache", Kind.BOOLSTR, False),
    Field("isolation-level", Kind.STR, ""),
)

PD_SERVER_FIELDS: tuple[Field, ...] = (
    Field("use-region-storage", Kind.BOOLSTR, True),
    Field("max-gap-reset-ts", Kind.DURATION, 24 * _H),
    Field("key-type", Kind.STR, "table"),
    Field("runtime-services", Kind.SLICE, []),
    Field("metric-storage", Kind.STR, ""),
    Field("dashboard-address", Kind.STR, "auto"),
    Field("flow-round-by-digit", Kind.INT, 3),
    Field("min-resolved-ts-persistence-interval", Kind.DURATION, 10**9),
    Field("server-memory-limit", Kind.FLOAT, 0.0),
    Field("server-memory-limit-gc-trigger", Kind.FLOAT, 0.7),
    Field("enable-gogc-tuner", Kind.BOOLSTR, False),
    Field("gc-tuner-threshold", Kind.FLOAT, 0.6),
    Field("block-safe-point-v1", Kind.BOOLSTR, False),
)

MICRO_SERVICE_FIELDS: tuple[Field, ...] = (
    Field("enable-scheduling-fallback", Kind.BOOLSTR, True),
    Field("enable-tso-dynamic-switching", Kind.BOOLSTR, False),
    Field("enable-resource-manager-fallback", Kind.BOOLSTR, True),
)

LOG_FIELDS: tuple[Field, ...] = (Field("level", Kind.STR, "info"),)

_DEPRECATED = tuple(f.key for f in SCHEDULE_FIELDS if f.key.startswith("disable-"))
_DEFAULT_SCHEDULE = {f.key: f.default for f in SCHEDULE_FIELDS if f.kind is not Kind.COMPUTED}
_STRUCT_NAMES = {
    "schedule": "ScheduleConfig",
    "replication": "ReplicationConfig",
    "pd-server": "PDServerConfig",
    "micro-service": "MicroServiceConfig",
    "log": "Config",
}
_SECTIONS: dict[str, tuple[Field, ...]] = {
    "schedule": SCHEDULE_FIELDS,
    "replication": REPLICATION_FIELDS,
    "pd-server": PD_SERVER_FIELDS,
    "micro-service": MICRO_SERVICE_FIELDS,
    "log": LOG_FIELDS,
}

# Top-level scalar keys of config.Config in struct order; a bare key that names one of them
# resolves to a path with no updatable prefix, so PD answers "config prefix <key> not found".
_TOP_LEVEL_KEYS = (
    "client-urls", "peer-urls", "advertise-client-urls", "advertise-peer-urls", "name", "data-dir",
    "force-new-cluster", "enable-grpc-gateway", "initial-cluster", "initial-cluster-state",
    "initial-cluster-token", "join", "lease",
)  # fmt: skip
_TOP_LEVEL_TAIL = (
    "cluster-version", "labels", "quota-backend-bytes", "auto-compaction-mode",
    "auto-compaction-retention-v2", "tick-interval", "election-interval", "enable-prevote",
    "max-request-bytes", "label-property", "dashboard", "replication-mode",
)  # fmt: skip


class _NoChange:
    """Marker: Go leaves the field untouched (a JSON ``null`` into a plain value)."""


NO_CHANGE = _NoChange()


def _type_error(
    value: Any, struct: str, path: str, go_type: str, *, with_number: bool = True
) -> ConfigTypeError:
    kind = json_kind(value)
    shown = f"number {number_text(value)}" if kind == "number" and with_number else kind
    text = f"json: cannot unmarshal {shown} into Go struct field {struct}.{path} of type {go_type}"
    return ConfigTypeError(text, {"Value": shown, "Type": {}, "Offset": 0, "Struct": struct, "Field": path})


def decode_field(field: Field, value: Any, struct: str, path: str | None = None) -> Any:
    """Decode one JSON value into ``field`` as Go's ``encoding/json`` would, or raise like it."""
    path = field.key if path is None else path
    kind = field.kind
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in (Kind.DURATION, Kind.SLICE):
        # Both types have their own UnmarshalJSON, which unquotes first: anything but a string fails.
        if not isinstance(value, str):
            raise ConfigDecodeError("invalid syntax")
        if kind is Kind.SLICE:
            return value.split(",") if value else []
        try:
            return parse_go_duration(value)
        except DurationError as exc:
            raise ConfigDecodeError(str(exc)) from None
    if value is None:
        return NO_CHANGE
    if kind is Kind.BOOLSTR:
        if isinstance(value, str):
            if value in ("true", "false"):
                return value == "true"
            raise ConfigDecodeError(
                f"json: invalid use of ,string struct tag, trying to unmarshal {go_quote(value)} into bool"
            )
        raise ConfigDecodeError(
            "json: invalid use of ,string struct tag, trying to unmarshal unquoted value into bool"
        )
    if kind is Kind.STR:
        if isinstance(value, str):
            return value
        raise _type_error(value, struct, path, "string", with_number=False)
    if kind is Kind.FLOAT:
        if is_number:
            return float(value)
        raise _type_error(value, struct, path, "float64")
    if kind in (Kind.U64, Kind.INT, Kind.I64):
        if is_number and float(value).is_integer():
            number = int(value)
            if kind is Kind.U64 and 0 <= number < 2**64:
                return number
            if kind is not Kind.U64 and -(2**63) <= number < 2**63:
                return number
        raise _type_error(value, struct, path, kind.value)
    if kind is Kind.STORE_LIMIT:
        if not isinstance(value, dict):
            raise _type_error(value, struct, path, kind.value)
        result: dict[str, float] = {}
        for sub in ("add-peer", "remove-peer"):
            if sub in value:
                decoded = decode_field(Field(sub, Kind.FLOAT), value[sub], struct, f"{path}.{sub}")
                if decoded is not NO_CHANGE:
                    result[sub] = decoded
        return result
    return NO_CHANGE  # COMPUTED fields are printed from live state; PD's own updates of them are not modelled


def encode_field(field: Field, value: Any) -> Any:
    """Print a stored value the way Go marshals the field."""
    if field.kind is Kind.BOOLSTR:
        return "true" if value else "false"
    if field.kind is Kind.DURATION:
        return go_duration(int(value))
    if field.kind is Kind.SLICE:
        return ",".join(value)
    if field.kind is Kind.STORE_LIMIT:
        return {"add-peer": float(value["add-peer"]), "remove-peer": float(value["remove-peer"])}
    return value


def _is_empty(field: Field, value: Any) -> bool:
    return value in (0, 0.0, "", False, None)


def _encode_section(
    fields: Iterable[Field], values: dict[str, Any], computed: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        if field.kind is Kind.COMPUTED:
            out[field.key] = computed[field.key]
            continue
        value = values[field.key]
        if field.omitempty and _is_empty(field, value):
            continue
        out[field.key] = encode_field(field, value)
    return out


def validate_schedule(values: dict[str, Any]) -> None:
    """Apply ``ScheduleConfig.Validate``; raise ``ConfigValidationError`` with PD's text."""
    if values["tolerant-size-ratio"] < 0:
        raise ConfigValidationError("tolerant-size-ratio should be non-negative")
    if not 0 <= values["low-space-ratio"] <= 1:
        raise ConfigValidationError("low-space-ratio should between 0 and 1")
    if not 0 <= values["high-space-ratio"] <= 1:
        raise ConfigValidationError("high-space-ratio should between 0 and 1")
    if values["low-space-ratio"] <= values["high-space-ratio"]:
        raise ConfigValidationError("low-space-ratio should be larger than high-space-ratio")
    if values["leader-schedule-policy"] not in ("count", "size"):
        raise ConfigValidationError(f"leader-schedule-policy {values['leader-schedule-policy']} is invalid")
    for key in _DEPRECATED:
        if values[key]:
            raise ConfigValidationError(f"{key} has already been deprecated")
    for sub, rate in values["default-store-limit"].items():
        if not math.isfinite(rate) or rate < 0:
            raise ConfigValidationError(f"default-store-limit.{sub} should be finite and non-negative")
    if values["slow-store-evicting-affected-store-ratio-threshold"] == 0:
        raise ConfigValidationError("slow-store-evicting-affected-store-ratio-threshold is not set")


def validate_replication(values: dict[str, Any]) -> None:
    """Apply ``ReplicationConfig.Validate``; raise ``ConfigValidationError`` with PD's text."""
    level = values["isolation-level"]
    if level and level not in values["location-labels"]:
        raise ConfigValidationError("isolation-level must be one of location-labels or empty")


class PDConfig:
    """The cluster-wide PD configuration with PD's defaults."""

    def __init__(self, *, location_labels: Iterable[str] = (), cluster_version: str = "8.5.2") -> None:
        self.schedule: dict[str, Any] = copy.deepcopy(_DEFAULT_SCHEDULE)
        self.replication: dict[str, Any] = {f.key: copy.copy(f.default) for f in REPLICATION_FIELDS}
        self.replication["location-labels"] = list(location_labels)
        self.pd_server: dict[str, Any] = {f.key: copy.copy(f.default) for f in PD_SERVER_FIELDS}
        self.micro_service: dict[str, Any] = {f.key: f.default for f in MICRO_SERVICE_FIELDS}
        self.log: dict[str, Any] = {f.key: f.default for f in LOG_FIELDS}
        self.cluster_version = cluster_version
        self.store_limits: dict[int, dict[str, float]] = {}
        # ``label-property``: type (only "reject-leader" has an effect) -> [{"key", "value"}, …]
        self.label_property: dict[str, list[dict[str, str]]] = {}

    def set_label_property(self, typ: str, key: str, value: str) -> None:
        """``PersistOptions.SetLabelProperty``: append the label unless it is there already."""
        labels = self.label_property.setdefault(typ, [])
        if not any(label == {"key": key, "value": value} for label in labels):
            labels.append({"key": key, "value": value})

    def delete_label_property(self, typ: str, key: str, value: str) -> None:
        """``PersistOptions.DeleteLabelProperty``: drop the label; drop the type once it is empty."""
        kept = [label for label in self.label_property.get(typ, []) if label != {"key": key, "value": value}]
        if kept:
            self.label_property[typ] = kept
        else:
            self.label_property.pop(typ, None)

    def label_property_matches(self, typ: str, labels: Iterable[tuple[str, str]]) -> bool:
        """``CheckLabelProperty``: one of the store's labels is listed under ``typ``."""
        wanted = self.label_property.get(typ, [])
        return any({"key": k, "value": v} in wanted for k, v in labels)

    # -- typed reads used by the model ---------------------------------------------------------

    @property
    def max_replicas(self) -> int:
        """``replication.max-replicas``."""
        return int(self.replication["max-replicas"])

    @property
    def max_store_down_time(self) -> float:
        """``schedule.max-store-down-time`` in seconds."""
        return int(self.schedule["max-store-down-time"]) / 1e9

    @property
    def placement_rules_enabled(self) -> bool:
        """``replication.enable-placement-rules``."""
        return bool(self.replication["enable-placement-rules"])

    @property
    def joint_consensus_enabled(self) -> bool:
        """``schedule.enable-joint-consensus``."""
        return bool(self.schedule["enable-joint-consensus"])

    @property
    def max_merge_region_keys(self) -> int:
        """The effective ``max-merge-region-keys`` (0 stored means size * 10000)."""
        keys = int(self.schedule["max-merge-region-keys"])
        return keys if keys else int(self.schedule["max-merge-region-size"]) * 10_000

    def get(self, key: str) -> Any:
        """Read a schedule or replication value by its JSON key (durations in nanoseconds)."""
        if key in self.schedule:
            return self.schedule[key]
        return self.replication[key]

    # -- store limits ------------------------------------------------------------------------------

    def add_store_limit(self, store_id: int) -> None:
        """Give a new store the default limits, as PD does when a store first heartbeats."""
        if store_id not in self.store_limits:
            self.store_limits[store_id] = dict(self.schedule["default-store-limit"])

    def set_store_limit(self, store_id: int, kind: str, rate: float) -> None:
        """Set one store's ``add-peer`` or ``remove-peer`` rate (operators per minute)."""
        self.add_store_limit(store_id)
        self.store_limits[store_id][kind] = rate

    def set_all_store_limits(self, kind: str, rate: float, store_ids: Iterable[int] | None = None) -> None:
        """Set a rate on every store (and the default for future ones) or on the given stores."""
        if store_ids is None:
            self.schedule["default-store-limit"][kind] = rate
            store_ids = list(self.store_limits)
        for store_id in store_ids:
            self.set_store_limit(store_id, kind, rate)

    def store_limit_json(self, store_ids: Iterable[int] | None = None) -> dict[str, Any]:
        """The ``store-limit`` map as Go prints a ``map[uint64]…`` (keys sorted as strings)."""
        wanted = set(self.store_limits) if store_ids is None else set(store_ids)
        items = sorted((str(k), v) for k, v in self.store_limits.items() if k in wanted)
        return {
            k: {"add-peer": float(v["add-peer"]), "remove-peer": float(v["remove-peer"])} for k, v in items
        }

    # -- printing ------------------------------------------------------------------------------------

    def schedule_json(self, schedulers_v2: list[dict[str, Any]]) -> dict[str, Any]:
        """``GET /config/schedule``."""
        out = _encode_section(
            SCHEDULE_FIELDS,
            self.schedule,
            {"store-limit": self.store_limit_json(), "schedulers-v2": schedulers_v2},
        )
        out["max-merge-region-keys"] = self.max_merge_region_keys
        return out

    def replication_json(self) -> dict[str, Any]:
        """``GET /config/replicate``."""
        return _encode_section(REPLICATION_FIELDS, self.replication, {})

    def pd_server_json(self) -> dict[str, Any]:
        """``GET /config/pd-server``."""
        return _encode_section(PD_SERVER_FIELDS, self.pd_server, {})

    def micro_service_json(self) -> dict[str, Any]:
        """The ``micro-service`` section."""
        return _encode_section(MICRO_SERVICE_FIELDS, self.micro_service, {})

    # -- POST /config ----------------------------------------------------------------------------

    def set_items(self, items: dict[str, Any]) -> None:
        """Apply ``POST /config``: each key on its own, in order; stop at the first error."""
        for key, value in items.items():
            path = key if "." in key else self._resolve_bare_key(key)
            self._update(path, value)

    def _resolve_bare_key(self, key: str) -> str:
        # reflectutil.FindJSONFullTagByChildTag: depth-first over config.Config's fields.
        if key in _TOP_LEVEL_KEYS:
            return key
        if key == "level":
            return "log.level"
        for section in ("schedule", "replication", "pd-server"):
            if key == section or any(f.key == key for f in _SECTIONS[section]):
                return key if key == section else f"{section}.{key}"
        if key in _TOP_LEVEL_TAIL:
            return key
        if any(f.key == key for f in MICRO_SERVICE_FIELDS):
            return f"micro-service.{key}"
        raise ConfigKeyError(f"config item {key} not found")

    def _update(self, path: str, value: Any) -> None:
        parts = path.split(".")
        prefix = parts[0]
        if prefix == "cluster-version":
            if not isinstance(value, str):
                raise ConfigDecodeError(f"input value {value} is illegal")
            self.cluster_version = value
            return
        if prefix == "replication-mode":
            if len(parts) < 2:
                raise ConfigKeyError("cannot update config prefix replication-mode")
            raise ConfigKeyError(f"config item {parts[-1]} not found")
        if prefix not in _SECTIONS:
            raise ConfigKeyError(f"config prefix {prefix} not found")
        item = parts[-1]
        fields = {f.key: f for f in _SECTIONS[prefix]}
        field = fields.get(item)
        if field is None:
            raise ConfigKeyError(f"config item {item} not found")
        target = self._section_values(prefix)
        decoded = decode_field(field, value, _STRUCT_NAMES[prefix])
        if decoded is NO_CHANGE:
            return
        candidate = dict(target)
        if field.kind is Kind.STORE_LIMIT:
            candidate[item] = {**target[item], **decoded}
        else:
            candidate[item] = decoded
        if prefix == "schedule":
            validate_schedule(candidate)
        elif prefix == "replication":
            validate_replication(candidate)
        target.clear()
        target.update(candidate)

    def _section_values(self, prefix: str) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "replication": self.replication,
            "pd-server": self.pd_server,
            "micro-service": self.micro_service,
            "log": self.log,
        }[prefix]

    # -- POST /config/schedule, /config/replicate --------------------------------------------

    def merge_schedule(self, body: dict[str, Any]) -> None:
        """Apply ``POST /config/schedule``: merge known keys, ignore unknown ones, validate, commit."""
        self._merge("schedule", body, validate_schedule)

    def merge_replication(self, body: dict[str, Any]) -> None:
        """Apply ``POST /config/replicate`` the same way."""
        self._merge("replication", body, validate_replication)

    def _merge(self, prefix: str, body: dict[str, Any], validate: Any) -> None:
        fields = {f.key: f for f in _SECTIONS[prefix]}
        target = self._section_values(prefix)
        candidate = copy.deepcopy(target)
        first_error: ConfigError | None = None
        for key, value in body.items():
            field = fields.get(key)
            if field is None:
                continue
            try:
                decoded = decode_field(field, value, _STRUCT_NAMES[prefix])
            except ConfigTypeError as exc:
                # Go keeps decoding after a type mismatch and reports the first one at the end.
                first_error = first_error or exc
                continue
            except ConfigDecodeError:
                raise
            if decoded is NO_CHANGE:
                continue
            if field.kind is Kind.STORE_LIMIT:
                candidate[key] = {**candidate[key], **decoded}
            else:
                candidate[key] = decoded
        if first_error is not None:
            raise first_error
        validate(candidate)
        target.clear()
        target.update(candidate)
