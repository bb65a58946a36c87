"""PD's schedule and replication config keys that ``set-config`` may change, with PD's types and sane ranges.

Values are kept in the type PD itself uses on the wire (pd-api.md §4.2): unsigned integers and floats
as JSON numbers, booleans as the strings ``"true"``/``"false"`` (they are ``,string`` tagged in Go),
durations as Go duration strings (``"30m0s"``). Ranges are ours, not PD's: wide enough for any real
cluster, narrow enough to catch a slipped digit. Nested maps (``store-limit``, ``schedulers-v2``) and
deprecated keys are left out on purpose; they have their own actions or should not be touched.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

ConfigValue = int | float | str


class ConfigKind(enum.StrEnum):
    """How PD types one config value."""

    UINT = "uint64"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool-string"
    DURATION = "duration"
    CHOICE = "choice"
    TEXT = "string"


# --- Go durations ---------------------------------------------------------------------------------

_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> int:
    """Nanoseconds in a Go duration string (``1h30m``, ``10ms``, ``1.5s``); ``ValueError`` otherwise."""
    raw = text.strip()
    body = raw[1:] if raw[:1] in "+-" else raw
    sign = -1 if raw.startswith("-") else 1
    if body == "0":
        return 0
    if not body:
        raise ValueError(f"a duration such as 30m or 1h30m is required, got '{text}'")
    total = Fraction(0)
    position = 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += Fraction(match[1]) * _NS[match[2]]
        position = match.end()
    if position != len(body):
        if body.replace(".", "", 1).isdigit():
            raise ValueError(f"a duration needs a unit (ns, ms, s, m, h), e.g. 30m or 1h30m, got '{text}'")
        raise ValueError(f"a duration looks like 30m, 1h30m or 500ms, got '{text}'")
    return sign * int(total)


def _fraction(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def format_go_duration(nanoseconds: int) -> str:
    """Go's ``time.Duration.String()``: ``30m0s``, ``1h0m0s``, ``1.5s``, ``10ms``, ``0s``."""
    sign = "-" if nanoseconds < 0 else ""
    ns = abs(nanoseconds)
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_fraction(ns, 1_000)}µs"
    if ns < 10**9:
        return f"{sign}{_fraction(ns, 1_000_000)}ms"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _fraction(rest, 10**9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"


# --- keys -----------------------------------------------------------------------------------------

_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")
_LABELS = re.compile(r"^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One config key: PD's type, the range we accept, and what it does."""

    name: str
    kind: ConfigKind
    section: str  # "schedule" or "replication"
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> ConfigValue:
        """``raw`` as PD's type for this key, within range; ``ValueError`` with a sentence otherwise."""
        text = raw.strip()
        if self.kind is ConfigKind.BOOL:
            word = text.lower()
            if word in _TRUE:
                return "true"
            if word in _FALSE:
                return "false"
            raise ValueError(f"{self.name} is true or false, got '{raw}'")
        if self.kind is ConfigKind.DURATION:
            try:
                ns = parse_go_duration(text)
            except ValueError as exc:
                raise ValueError(f"{self.name}: {exc}") from None
            self._check_range(ns / 10**9, raw, unit=" seconds")
            return format_go_duration(ns)
        if self.kind is ConfigKind.CHOICE:
            if text.lower() not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, got '{raw}'")
            return text.lower()
        if self.kind is ConfigKind.TEXT:
            return self._text(text, raw)
        return self._number(text, raw)

    def _text(self, text: str, raw: str) -> str:
        # location-labels is PD's comma-joined string of label names; empty clears it.
        if self.name == "location-labels" and text and not _LABELS.match(text):
            raise ValueError(
                f"location-labels is a comma-separated list of label names such as zone,host, got '{raw}'"
            )
        return text

    def _number(self, text: str, raw: str) -> int | float:
        value: int | float
        if self.kind is ConfigKind.FLOAT:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{self.name} must be a number such as 0.8, got '{raw}'") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{self.name} must be a finite number, got '{raw}'")
        else:
            signed = self.kind is ConfigKind.INT
            digits = text[1:] if signed and text.startswith("-") else text
            if not digits.isdigit():
                kind = "a whole number" if signed else "a whole number of 0 or more"
                raise ValueError(f"{self.name} must be {kind}, got '{raw}'")
            value = int(text)
        self._check_range(value, raw)
        return value

    def _check_range(self, value: float, raw: str, unit: str = "") -> None:
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = (
                f"between {_num(low)} and {_num(high)}{unit}"
                if low is not None and high is not None
                else (f"at least {_num(low)}{unit}" if low is not None else f"at most {_num(high)}{unit}")
            )
            raise ValueError(f"{self.name} must be {bounds}, got '{raw}'")

    def same(self, current: object, wanted: ConfigValue) -> bool:
        """Whether PD's ``current`` value already equals ``wanted`` (durations compared as lengths)."""
        if current is None:
            return False
        if self.kind is ConfigKind.DURATION:
            try:
                return parse_go_duration(str(current)) == parse_go_duration(str(wanted))
            except ValueError:
                return False
        if self.kind in (ConfigKind.UINT, ConfigKind.INT, ConfigKind.FLOAT):
            return isinstance(current, int | float) and not isinstance(current, bool) and current == wanted
        if self.kind is ConfigKind.BOOL:
            return str(current).lower() == str(wanted).lower()
        return current == wanted


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _u(name: str, help: str, low: int, high: int) -> ConfigKey:
    return ConfigKey(name, ConfigKind.UINT, "schedule", help, low, high)


def _b(name: str, help: str, section: str = "schedule") -> ConfigKey:
    return ConfigKey(name, ConfigKind.BOOL, section, help)


def _d(name: str, help: str, low_seconds: float, high_seconds: float) -> ConfigKey:
    return ConfigKey(name, ConfigKind.DURATION, "schedule", help, low_seconds, high_seconds)


_DAY = 86400.0
_KEYS = (
    _u("leader-schedule-limit", "leader transfers PD schedules at once", 0, 1024),
    _u("region-schedule-limit", "region (peer) moves PD schedules at once", 0, 65536),
    _u("replica-schedule-limit", "replica repairs PD schedules at once", 0, 4096),
    _u("merge-schedule-limit", "region merges PD schedules at once", 0, 1024),
    _u("hot-region-schedule-limit", "hot-region moves PD schedules at once", 0, 1024),
    _u("witness-schedule-limit", "witness operations PD schedules at once", 0, 1024),
    _u("split-scatter-schedule-limit", "scatters after a split PD schedules at once", 0, 1024),
    _u("affinity-schedule-limit", "affinity operations PD schedules at once", 0, 1024),
    _u("max-snapshot-count", "snapshots a store may send or receive at once", 1, 1024),
    _u("max-pending-peer-count", "pending peers a store may have before PD stops adding more", 1, 16384),
    _u("max-merge-region-size", "regions smaller than this (MiB) may be merged", 0, 10240),
    _u("max-merge-region-keys", "regions with fewer keys than this may be merged", 0, 100_000_000),
    _u(
        "hot-region-cache-hits-threshold",
        "minutes a region must stay hot before PD treats it as hot",
        0,
        1000,
    ),
    _u("scheduler-max-waiting-operator", "operators a scheduler may queue", 1, 1000),
    _u("hot-regions-reserved-days", "days PD keeps hot-region history", 0, 3650),
    _u("max-affinity-merge-region-size", "largest region (MiB) an affinity merge may create", 0, 10240),
    ConfigKey("patrol-region-worker-count", ConfigKind.INT, "schedule", "workers patrolling regions", 1, 64),
    ConfigKey(
        "max-movable-hot-peer-size", ConfigKind.INT, "schedule", "largest hot peer (MiB) PD moves", 0, 1 << 20
    ),
    ConfigKey(
        "tolerant-size-ratio", ConfigKind.FLOAT, "schedule", "imbalance tolerated before balancing", 0, 100
    ),
    ConfigKey(
        "low-space-ratio",
        ConfigKind.FLOAT,
        "schedule",
        "used ratio above which a store is low on space",
        0,
        1,
    ),
    ConfigKey(
        "high-space-ratio", ConfigKind.FLOAT, "schedule", "used ratio below which a store has plenty", 0, 1
    ),
    ConfigKey(
        "slow-store-evicting-affected-store-ratio-threshold",
        ConfigKind.FLOAT,
        "schedule",
        "share of stores that may be slow before evicting stops",
        0,
        1,
    ),
    ConfigKey(
        "leader-schedule-policy",
        ConfigKind.CHOICE,
        "schedule",
        "balance leaders by",
        choices=("count", "size"),
    ),
    ConfigKey(
        "region-score-formula-version",
        ConfigKind.CHOICE,
        "schedule",
        "region score formula",
        choices=("v1", "v2"),
    ),
    ConfigKey(
        "store-limit-version", ConfigKind.CHOICE, "schedule", "store limit algorithm", choices=("v1", "v2")
    ),
    _d("split-merge-interval", "how long after a split a region may merge", 0, 30 * _DAY),
    _d("switch-witness-interval", "how long before a witness may switch", 0, 30 * _DAY),
    _d("patrol-region-interval", "pause between region patrols", 0.001, 3600),
    _d(
        "max-store-down-time",
        "heartbeat silence before a store is Down and its replicas are rebuilt",
        60,
        30 * _DAY,
    ),
    _d("max-store-preparing-time", "longest a new store may stay preparing", 0, 30 * _DAY),
    _d("hot-regions-write-interval", "how often PD records hot regions", 60, _DAY),
    _b("enable-one-way-merge", "merge only into the next region"),
    _b("enable-cross-table-merge", "allow merging regions of different tables"),
    _b("enable-remove-down-replica", "rebuild replicas of Down stores"),
    _b("enable-replace-offline-replica", "move replicas off Offline stores"),
    _b("enable-make-up-replica", "add replicas to under-replicated regions"),
    _b("enable-remove-extra-replica", "remove replicas of over-replicated regions"),
    _b("enable-location-replacement", "move replicas to improve isolation"),
    _b("enable-debug-metrics", "export debug metrics"),
    _b("enable-joint-consensus", "change membership with joint consensus"),
    _b("enable-tikv-split-region", "let TiKV split regions"),
    _b("enable-heartbeat-breakdown-metrics", "export heartbeat breakdown metrics"),
    _b("enable-heartbeat-concurrent-runner", "process heartbeats concurrently"),
    _b("enable-diagnostic", "keep scheduler diagnostics"),
    _b("enable-witness", "allow witness replicas"),
    _b("halt-scheduling", "stop all scheduling (emergency brake)"),
    ConfigKey("max-replicas", ConfigKind.UINT, "replication", "replicas of every region", 1, 7),
    ConfigKey(
        "location-labels",
        ConfigKind.TEXT,
        "replication",
        "store labels that describe topology, e.g. zone,host",
    ),
    ConfigKey(
        "isolation-level", ConfigKind.TEXT, "replication", "the label level replicas must be isolated at"
    ),
    _b("strictly-match-label", "refuse stores whose labels do not match location-labels", "replication"),
    _b("enable-placement-rules", "use placement rules", "replication"),
    _b("enable-placement-rules-cache", "cache placement rules", "replication"),
)

CONFIG_KEYS: Mapping[str, ConfigKey] = {key.name: key for key in _KEYS}


def config_key(raw: str) -> ConfigKey:
    """The key named by ``raw`` (``schedule.`` / ``replication.`` prefix allowed), else ``ValueError``."""
    name = raw.strip().lower()
    for prefix in ("schedule.", "replication."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    key = CONFIG_KEYS.get(name)
    if key is not None:
        return key
    close = difflib.get_close_matches(name, list(CONFIG_KEYS), n=3, cutoff=0.6)
    hint = "; known keys include leader-schedule-limit, region-schedule-limit, max-replicas, low-space-ratio"
    if close:
        hint = f"; did you mean {close[0]}?" + (f" (also close: {', '.join(close[1:])})" if close[1:] else "")
    raise ValueError(f"unknown config key '{raw.strip()}'{hint}")
