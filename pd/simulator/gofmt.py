"""Go's text formats, reproduced: durations, times, byte sizes, ``strconv.Quote`` and JSON.

PD prints these with Go's standard library, and clients parse them, so the simulator must
print them the same way: ``1m0s`` not ``60s``, ``2026-08-21 07:00:02.1 +0000 UTC m=+1.1``,
``853.2GiB``. ``rd.JSON`` bodies are ``json.MarshalIndent(v, "", "  ")``: Go prints integral
floats without ``.0``, escapes ``<``, ``>`` and ``&``, keeps other non-ASCII text as UTF-8.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Any

NS_PER_SECOND = 1_000_000_000
_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC greek mu
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": 3600 * NS_PER_SECOND,
}


def seconds_to_ns(seconds: float) -> int:
    """Convert float seconds to integer nanoseconds.

    A float near 1.8e9 only resolves about 0.24 µs, so the fraction is rounded to whole
    microseconds: ``.7`` prints as ``.7``, not as float noise like ``.700000048``."""
    whole = math.floor(seconds)
    return whole * NS_PER_SECOND + round((seconds - whole) * 1_000_000) * 1_000


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    digits: list[str] = []
    printing = False
    for _ in range(prec):
        d = v % 10
        printing = printing or d != 0
        if printing:
            digits.append(str(d))
        v //= 10
    if not printing:
        return "", v
    return "." + "".join(reversed(digits)), v


def go_duration(ns: int) -> str:
    """Format nanoseconds like Go's ``time.Duration.String`` (``1m0s``, ``1.5s``, ``250ms``)."""
    neg = ns < 0
    u = -ns if neg else ns
    if u < NS_PER_SECOND:
        if u == 0:
            return "0s"
        if u < 1_000:
            prec, unit = 0, "ns"
        elif u < 1_000_000:
            prec, unit = 3, "µs"
        else:
            prec, unit = 6, "ms"
        frac, u = _fmt_frac(u, prec)
        text = f"{u}{frac}{unit}"
    else:
        frac, u = _fmt_frac(u, 9)
        text = f"{u % 60}{frac}s"
        u //= 60
        if u > 0:
            text = f"{u % 60}m{text}"
            u //= 60
            if u > 0:
                text = f"{u}h{text}"
    return "-" + text if neg else text


def go_duration_seconds(seconds: float) -> str:
    """Format float seconds as a Go duration string."""
    return go_duration(seconds_to_ns(seconds))


def go_quote(text: str) -> str:
    """Quote like Go's ``strconv.Quote`` for the printable ASCII and Unicode cases PD meets."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class DurationError(ValueError):
    """Raised when a string is not a Go duration; the message is Go's ``time.ParseDuration`` text."""


_NUMBER = re.compile(r"([0-9]*)(\.[0-9]*)?")


def parse_go_duration(text: str) -> int:
    """Parse a Go duration string (``"30m"``, ``"1h0m0s"``, ``"1.5s"``) into nanoseconds."""
    orig = text
    invalid = DurationError(f"time: invalid duration {go_quote(orig)}")
    neg = False
    if text and text[0] in "+-":
        neg = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise invalid
    total = 0.0
    while text:
        m = _NUMBER.match(text)
        if m is None or (not m.group(1) and (m.group(2) is None or m.group(2) == ".")):
            raise invalid
        number = m.group(0)
        text = text[m.end() :]
        i = 0
        while i < len(text) and text[i] not in "0123456789.":
            i += 1
        unit = text[:i]
        text = text[i:]
        if not unit:
            raise DurationError(f"time: missing unit in duration {go_quote(orig)}")
        if unit not in _UNITS_NS:
            raise DurationError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(orig)}")
        total += float(number) * _UNITS_NS[unit]
    ns = round(total)
    if ns > 2**63 - 1:
        raise invalid
    return -ns if neg else ns


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _utc(ns: int) -> tuple[dt.datetime, int]:
    seconds, frac = divmod(ns, NS_PER_SECOND)
    return _EPOCH + dt.timedelta(seconds=seconds), frac


def go_time(ns: int, monotonic_ns: int | None = None) -> str:
    """Format like Go's ``time.Time.String`` in UTC, with the ``m=+…`` monotonic suffix when given."""
    when, frac = _utc(ns)
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    text += " +0000 UTC"
    if monotonic_ns is not None:
        sign = "+" if monotonic_ns >= 0 else "-"
        whole, part = divmod(abs(monotonic_ns), NS_PER_SECOND)
        text += f" m={sign}{whole}.{part:09d}"
    return text


GO_ZERO_TIME = "0001-01-01 00:00:00 +0000 UTC"


def rfc3339(ns: int) -> str:
    """Format like Go's JSON encoding of a UTC ``time.Time`` (RFC 3339 with trimmed nanoseconds)."""
    when, frac = _utc(ns)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def bytes_size(size: float) -> str:
    """Format like docker/go-units ``BytesSize`` (PD's ``typeutil.ByteSize``): ``"853.2GiB"``."""
    i = 0
    while size >= 1024.0 and i < len(_BINARY_UNITS) - 1:
        size /= 1024.0
        i += 1
    return f"{size:.4g}{_BINARY_UNITS[i]}"


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTPEZY]?)(i?)B?\s*$", re.IGNORECASE)


def parse_bytes_size(text: str) -> int:
    """Parse a PD byte-size string (``"1TiB"``, ``"512MiB"``, ``"8GB"``) into bytes."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"invalid size: {go_quote(text)}")
    exp = "KMGTPEZY".find(m.group(2).upper()) + 1 if m.group(2) else 0
    return int(float(m.group(1)) * (1024**exp))


def _go_float(value: float) -> str:
    """Format a float like Go's ``encoding/json`` (``15`` not ``15.0``; ``1e-7`` not ``1e-07``)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {value!r}")
    absolute = abs(value)
    if absolute < 1e16 and (absolute >= 1e-4 or absolute == 0):
        # Python's repr is already Go's shortest positional form here; only "15.0" needs trimming.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if absolute != 0 and (absolute < 1e-6 or absolute >= 1e21):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0") or "0"
        if len(digits) == 1 and sign == "-":
            return f"{mantissa}e-{digits}"
        return f"{mantissa}e{sign}{digits.zfill(2)}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _go_string(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _encode(value: Any, indent: str, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_go_float(value))
    elif isinstance(value, str):
        out.append(_go_string(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{\n")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",\n")
            first = False
            out.append(inner)
            out.append(_go_string(str(key)))
            out.append(": ")
            _encode(item, inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[\n")
        for i, item in enumerate(value):
            if i:
                out.append(",\n")
            out.append(inner)
            _encode(item, inner, out)
        out.append("\n" + indent + "]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps_indent(value: Any) -> str:
    """Encode like Go's ``json.MarshalIndent(v, "", "  ")`` (no trailing newline)."""
    out: list[str] = []
    _encode(value, "", out)
    return "".join(out)


def json_kind(value: Any) -> str:
    """Name a decoded JSON value the way Go's ``UnmarshalTypeError.Value`` does."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def number_text(value: int | float) -> str:
    """Print a decoded JSON number as Go echoes it in ``cannot unmarshal number X`` messages."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return _go_float(float(value)) if isinstance(value, float) else str(value)
