"""Parameters of catalog actions: their specs, their parsers, and typed access to parsed values.

A parser turns what a person typed into the value PD needs (ids become ints, keys become upper-case
hex) or raises ``ValueError`` with a sentence that person understands; ``ParamSpec.parse`` turns that
into ``InvalidRequest`` naming the field. ``InvalidParams`` carries every field error at once, for the
Edit modal's inline errors.

    InvalidRequest (actions.errors)
     └── InvalidParams     several fields failed at once; ``errors`` maps field -> message
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from actions.errors import InvalidRequest
from actions.models import ParamValue

Params = Mapping[str, ParamValue]
Parser = Callable[[str], ParamValue]

MAX_ID = 2**64 - 1
MAX_PAUSE_SECONDS = 7 * 24 * 3600
MAX_STORE_LIMIT_RATE = 100_000.0
STORE_LIMIT_TYPES = ("add-peer", "remove-peer")
SPLIT_POLICIES = ("scan", "approximate", "usekey")
# Scheduler types PD accepts (types.StringToSchedulerType, docs/pd.md); people often drop the suffix.
SCHEDULER_TYPES = (
    "balance-leader-scheduler",
    "balance-region-scheduler",
    "balance-witness-scheduler",
    "balance-hot-region-scheduler",
    "balance-range-scheduler",
    "evict-leader-scheduler",
    "evict-slow-store-scheduler",
    "evict-slow-trend-scheduler",
    "evict-stopping-store-scheduler",
    "grant-leader-scheduler",
    "grant-hot-region-scheduler",
    "random-merge-scheduler",
    "scatter-range-scheduler",
    "shuffle-hot-region-scheduler",
    "shuffle-leader-scheduler",
    "shuffle-region-scheduler",
    "transfer-witness-leader-scheduler",
    "label-scheduler",
)
_SCHEDULER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")
_SECONDS_WITH_UNIT = re.compile(r"^([0-9]+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class InvalidParams(InvalidRequest):
    """Raised when one or more parameters fail validation; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str], *, usage: str | None = None) -> None:
        self.errors = dict(errors)
        messages = list(self.errors.values())
        message = messages[0] if len(messages) == 1 else "; ".join(messages)
        super().__init__(message, field=next(iter(self.errors), None), usage=usage)


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of an action: its key in ``ActionRequest.params``, how to ask for it, how to parse it.

    ``metavar`` is its placeholder in usage lines (``REGION``); ``choices`` lists the accepted words of a
    closed set (shown as a select in the Edit modal); ``many`` marks a list typed as several words.
    """

    name: str
    label: str
    help: str
    metavar: str
    parser: Parser
    optional: bool = False
    default: ParamValue | None = None
    choices: tuple[str, ...] = ()
    many: bool = False

    def parse(self, raw: str, *, usage: str | None = None) -> ParamValue:
        """The parsed value of ``raw``, or ``InvalidRequest`` naming this field."""
        try:
            return self.parser(raw.strip())
        except ValueError as exc:
            raise InvalidRequest(str(exc), field=self.name, usage=usage) from None

    def format(self, value: ParamValue) -> str:
        """``value`` as a person would type it (pre-fills the Edit modal)."""
        if isinstance(value, list):
            return " ".join(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def usage(self) -> str:
        word = f"{self.metavar}…" if self.many else self.metavar
        return f"[{word}]" if self.optional else word


# --- parsers --------------------------------------------------------------------------------------


def _shown(raw: str) -> str:
    return f"'{raw}'" if raw else "nothing"


def positive_id(what: str) -> Parser:
    """A parser for a region or store id: a positive whole number."""

    def parse(raw: str) -> int:
        text = raw.lstrip("#")
        if text.isdigit() and not text.isascii():
            raise ValueError(f"{what} must be written with the digits 0-9, got {_shown(raw)}")
        if not text.isdigit() or int(text) == 0:
            raise ValueError(f"{what} must be a positive whole number, got {_shown(raw)}")
        value = int(text)
        if value > MAX_ID:
            raise ValueError(f"{what} is too large (PD ids fit in 64 bits), got {_shown(raw)}")
        return value

    return parse


def choice(what: str, choices: tuple[str, ...]) -> Parser:
    """A parser for one word of a closed set (case-insensitive)."""

    def parse(raw: str) -> str:
        word = raw.lower()
        if word not in choices:
            raise ValueError(f"{what} must be one of {', '.join(choices)}, got {_shown(raw)}")
        return word

    return parse


def pause_seconds(raw: str) -> int:
    """Seconds to pause a scheduler: ``600``, or ``10m`` / ``2h`` / ``1d``."""
    text = raw.lower()
    match = _SECONDS_WITH_UNIT.match(text)
    if not text.isascii():
        raise ValueError(f"pause time must be written with the digits 0-9, got {_shown(raw)}")
    if text.isdigit():
        seconds = int(text)
    elif match:
        seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    else:
        raise ValueError(
            f"pause time must be a whole number of seconds (e.g. 600) or a duration such as 10m or 2h, "
            f"got {_shown(raw)}"
        )
    if not 1 <= seconds <= MAX_PAUSE_SECONDS:
        raise ValueError(
            f"pause time must be between 1 second and 7 days ({MAX_PAUSE_SECONDS} seconds), got "
            f"{_shown(raw)}; "
            "to resume a scheduler use resume-scheduler"
        )
    return seconds


def store_limit_rate(raw: str) -> float:
    """Operations per minute a store may take part in: a number greater than 0."""
    if not raw.isascii():
        raise ValueError(f"store limit rate must be written with the digits 0-9, got {_shown(raw)}")
    try:
        rate = float(raw)
    except ValueError:
        rate = float("nan")
    if rate != rate or rate in (float("inf"), float("-inf")):
        raise ValueError(f"store limit rate must be a number (operations per minute), got {_shown(raw)}")
    if rate <= 0:
        raise ValueError(f"store limit rate must be greater than 0 (PD refuses 0 or less), got {_shown(raw)}")
    if rate > MAX_STORE_LIMIT_RATE:
        raise ValueError(
            f"store limit rate must be at most {MAX_STORE_LIMIT_RATE:g} operations per minute, got "
            f"{_shown(raw)}"
        )
    return rate


def hex_keys(raw: str) -> list[str]:
    """Split keys as PD wants them: upper-case hex (``0x`` allowed), separated by spaces or commas."""
    words = [w for w in re.split(r"[\s,]+", raw) if w]
    keys: list[str] = []
    for word in words:
        key = word[2:] if word.lower().startswith("0x") else word
        key = key.upper()
        if not _HEX.match(key):
            raise ValueError(
                f"split keys are hex bytes such as 7480000000000000FF (an even number of 0-9/A-F digits), "
                f"got {_shown(word)}"
            )
        if key not in keys:
            keys.append(key)
    return keys


def scheduler_name(raw: str) -> str:
    """A scheduler instance name as PD lists it; ``balance-region`` becomes ``balance-region-scheduler``."""
    name = raw.lower()
    if name == "all":
        raise ValueError("pause or resume schedulers one at a time, not 'all'")
    if not _SCHEDULER_NAME.match(name):
        raise ValueError(
            f"scheduler name must look like balance-region-scheduler (letters, digits and dashes), "
            f"got {_shown(raw)}"
        )
    if f"{name}-scheduler" in SCHEDULER_TYPES:
        return f"{name}-scheduler"
    return name


def text(what: str) -> Parser:
    """A parser for any non-empty word (validated later, e.g. a config value against its key)."""

    def parse(raw: str) -> str:
        if not raw:
            raise ValueError(f"{what} is required")
        return raw

    return parse


# --- typed access to parsed values ----------------------------------------------------------------


def int_param(params: Params, name: str) -> int:
    """``params[name]`` as an int, or ``InvalidRequest`` when it is missing or not a whole number."""
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"parameter {name} must be a whole number, got {value!r}", field=name)
    return value


def float_param(params: Params, name: str) -> float:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"parameter {name} must be a number, got {value!r}", field=name)
    return float(value)


def str_param(params: Params, name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if not isinstance(value, str):
        raise InvalidRequest(f"parameter {name} must be text, got {value!r}", field=name)
    return value


def list_param(params: Params, name: str) -> list[str]:
    value = params.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(f"parameter {name} must be a list of words, got {value!r}", field=name)
    return list(value)


def number_text(value: float | int) -> str:
    """``15`` for 15.0, ``0.5`` for 0.5: numbers as people write them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
