"""PD's schedule and replication config keys that ``set-config`` may change, with PD's types and sane ranges.

Values are kept in the type PD itself uses on the wire (docs/pd.md): unsigned integers and floats
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
from typing import Any

from actions.models import Tier

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


# --- what a change can break ----------------------------------------------------------------------


class KeyClass(enum.StrEnum):
    """What changing a key can break (docs: README "How a tier is derived")."""

    DURABILITY = "durability and placement"  # how many copies exist and where: irreversible
    STOPPER = "scheduling stopper"  # can switch off a part of scheduling or repair: structural
    TUNING = "tuning"  # how fast or how eagerly PD schedules: config


DURABILITY_KEYS = frozenset(
    {
        "max-replicas",
        "location-labels",
        "isolation-level",
        "strictly-match-label",
        "enable-placement-rules",
        "enable-witness",
    }
)
# A limit of 0 switches off what it limits.
ZERO_STOPS: Mapping[str, str] = {
    "leader-schedule-limit": "leader balancing",
    "region-schedule-limit": "region balancing",
    "replica-schedule-limit": "the repair of regions that lost a copy",
    "merge-schedule-limit": "region merging",
    "hot-region-schedule-limit": "hot-region scheduling",
    "witness-schedule-limit": "witness scheduling",
    "split-scatter-schedule-limit": "scattering after splits",
    "affinity-schedule-limit": "affinity scheduling",
}
# ``false`` switches off a repair.
OFF_STOPS: Mapping[str, str] = {
    "enable-remove-down-replica": "rebuilding the replicas of Down stores",
    "enable-replace-offline-replica": "moving replicas off Offline stores",
    "enable-make-up-replica": "repairing regions that lost a copy",
    "enable-remove-extra-replica": "removing surplus replicas",
}
STOPPER_KEYS = frozenset({*ZERO_STOPS, *OFF_STOPS, "halt-scheduling", "max-store-down-time"})
# max-store-down-time raised beyond this, and to at least twice its current value, is "raised far".
FAR_STORE_DOWN_NS = 3600 * 10**9


def key_class(name: str) -> KeyClass:
    """The class of config key ``name`` (unknown keys count as tuning; ``config_key`` refuses them)."""
    if name in DURABILITY_KEYS:
        return KeyClass.DURABILITY
    if name in STOPPER_KEYS:
        return KeyClass.STOPPER
    return KeyClass.TUNING


@dataclass(frozen=True, slots=True)
class ConfigImpact:
    """The tier one concrete change needs, and why, in one line with the arithmetic."""

    tier: Tier
    reason: str


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def words(count: int) -> str:
    """``2`` → ``two`` (up to ten; digits beyond)."""
    return _WORDS[count] if 0 <= count < len(_WORDS) else str(count)


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "''"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text else "''"


def _as_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _replicas(current: object, wanted: int) -> str:
    now = _as_int(current)
    if now is None:
        return f"sets max-replicas to {wanted}, every region will keep {words(wanted)} copies"
    if wanted < now:
        gone = now - wanted
        return (
            f"lowers max-replicas {now} → {wanted}, {words(gone)} of {words(now)} copies of every region "
            f"{'is' if gone == 1 else 'are'} dropped"
        )
    if wanted > now:
        more = wanted - now
        return (
            f"raises max-replicas {now} → {wanted}, PD adds {words(more)} more "
            f"cop{'y' if more == 1 else 'ies'} of every region (needs {wanted} Up stores)"
        )
    return f"keeps max-replicas at {now}"


def _durability(name: str, current: object, wanted: ConfigValue) -> str:
    if name == "max-replicas" and isinstance(wanted, int):
        return _replicas(current, wanted)
    change = f"{_shown(current)} → {_shown(wanted)}"
    if name == "location-labels":
        return f"changes location-labels {change}, PD re-places replicas by the new topology"
    if name == "isolation-level":
        return f"changes isolation-level {change}, which decides how far apart the copies of a region must be"
    if name == "strictly-match-label":
        return f"changes strictly-match-label {change}, stores whose labels do not match may get no replicas"
    if name == "enable-placement-rules":
        return f"changes enable-placement-rules {change}, PD re-places replicas by other rules"
    return f"changes {name} {change}, PD may replace full copies by witnesses that hold no data"


def _stopper(name: str, current: object, wanted: ConfigValue) -> str | None:
    if name == "halt-scheduling" and wanted == "true":
        return (
            "sets halt-scheduling true, all scheduling stops (lost replicas are not repaired) "
            "until it is set back to false"
        )
    if name in ZERO_STOPS and wanted == 0:
        return f"sets {name} {_shown(current)} → 0, which stops {ZERO_STOPS[name]} until it is raised"
    if name in OFF_STOPS and wanted == "false":
        return f"sets {name} false, which stops {OFF_STOPS[name]}"
    if name == "max-store-down-time" and isinstance(wanted, str):
        try:
            new_ns = parse_go_duration(wanted)
            old_ns = parse_go_duration(str(current)) if current is not None else 30 * 60 * 10**9
        except ValueError:
            return None
        if new_ns > FAR_STORE_DOWN_NS and new_ns >= 2 * max(old_ns, 1):
            times = new_ns / max(old_ns, 1)
            factor = f"{times:.0f}×" if times >= 10 else f"{times:.1f}×".replace(".0×", "×")
            return (
                f"raises max-store-down-time {format_go_duration(old_ns)} → {format_go_duration(new_ns)}, "
                f"the replicas of a dead store are rebuilt {factor} later"
            )
    return None


def config_impact(name: str, current: object, wanted: ConfigValue) -> ConfigImpact:
    """What setting ``name`` from ``current`` (as PD reports it) to ``wanted`` can break."""
    cls = key_class(name)
    if cls is KeyClass.DURABILITY:
        return ConfigImpact(Tier.IRREVERSIBLE, _durability(name, current, wanted))
    if cls is KeyClass.STOPPER:
        stop = _stopper(name, current, wanted)
        if stop is not None:
            return ConfigImpact(Tier.STRUCTURAL, stop)
    return ConfigImpact(Tier.CONFIG, f"tunes {name} {_shown(current)} → {_shown(wanted)}")


def check_against(name: str, wanted: ConfigValue, config: Mapping[str, Any]) -> str | None:
    """A value that does not fit the rest of PD's config (as PD reports it), in words; else ``None``."""
    if name == "isolation-level" and isinstance(wanted, str) and wanted:
        raw = config.get("location-labels")
        labels = [p for p in (raw.split(",") if isinstance(raw, str) else list(raw or [])) if p]
        if wanted not in labels:
            known = ", ".join(labels) if labels else "none are set"
            return (
                f"isolation-level must be one of location-labels ({known}), got '{wanted}'; "
                "PD refuses it (isolation-level must be one of location-labels or empty)"
            )
    if name == "location-labels" and isinstance(wanted, str):
        level = config.get("isolation-level")
        labels = [p for p in wanted.split(",") if p]
        if isinstance(level, str) and level and level not in labels:
            return (
                f"location-labels {_shown(wanted)} would drop isolation-level {level}; "
                "PD refuses it (isolation-level must be one of location-labels or empty)"
            )
    return None
