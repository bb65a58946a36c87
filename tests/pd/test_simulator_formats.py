"""The simulator prints and reads like PD's Go code: durations, times, sizes, JSON and its errors."""

from __future__ import annotations

import json

import pytest

from pd.simulator.gofmt import (
    DurationError,
    bytes_size,
    dumps_indent,
    go_duration,
    go_time,
    parse_go_duration,
    rfc3339,
    seconds_to_ns,
)
from pd.simulator.http_util import BodySyntaxError, loads
from pd.simulator.keys import is_hex_key, middle_key, raw_to_hex

S = 1_000_000_000


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (60 * S, "1m0s"),
        (660 * S, "11m0s"),
        (3600 * S, "1h0m0s"),
        (48 * 3600 * S, "48h0m0s"),
        (1_500_000_000, "1.5s"),
        (1_234_467_891, "1.234467891s"),
        (250_000_000, "250ms"),
        (79_999_744, "79.999744ms"),
        (1_000, "1µs"),
        (5, "5ns"),
        (111_598_500_000_000, "30h59m58.5s"),
        (-90 * S, "-1m30s"),
    ],
)
def test_durations_print_like_go(ns: int, text: str) -> None:
    """``go_duration`` matches Go's ``time.Duration.String``."""
    assert go_duration(ns) == text


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("30m", 1800 * S),
        ("1h0m0s", 3600 * S),
        ("1.5s", 1_500_000_000),
        ("-1m", -60 * S),
        ("0", 0),
        ("10ms", 10**7),
    ],
)
def test_durations_parse_like_go(text: str, ns: int) -> None:
    """``parse_go_duration`` accepts what Go's ``time.ParseDuration`` accepts."""
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", 'time: invalid duration "abc"'),
        ("", 'time: invalid duration ""'),
        ("1", 'time: missing unit in duration "1"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
    ],
)
def test_bad_durations_fail_with_gos_message(text: str, message: str) -> None:
    """Invalid durations raise with Go's exact message."""
    with pytest.raises(DurationError) as failed:
        parse_go_duration(text)
    assert str(failed.value) == message


def test_times_print_like_go() -> None:
    """``go_time`` trims the fraction and appends the monotonic reading, as Go's Time.String."""
    when = seconds_to_ns(1_787_295_490.25)
    assert go_time(when, 86_290_250_000_001) == "2026-08-21 06:58:10.25 +0000 UTC m=+86290.250000001"
    assert go_time(seconds_to_ns(1_787_295_600)) == "2026-08-21 07:00:00 +0000 UTC"
    assert rfc3339(seconds_to_ns(1_787_295_598.5)) == "2026-08-21T06:59:58.5Z"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1KiB"),
        (1024**4, "1TiB"),
        (int(853.2 * 1024**3), "853.2GiB"),
        (int(120.5 * 1024**3), "120.5GiB"),
    ],
)
def test_byte_sizes_print_like_go_units(size: int, text: str) -> None:
    """``bytes_size`` matches go-units ``BytesSize`` (PD's ByteSize JSON)."""
    assert bytes_size(size) == text


def test_indented_json_matches_go_marshal_indent() -> None:
    """Integral floats lose ``.0``, tiny/huge floats use Go's exponent form, HTML is escaped."""
    value = {
        "a": 15.0,
        "b": 0.8,
        "c": 1e-7,
        "d": 1e21,
        "e": "<&>",
        "f": [],
        "g": {},
        "h": None,
        "i": [1, True],
    }
    text = dumps_indent(value)
    assert text == (
        '{\n  "a": 15,\n  "b": 0.8,\n  "c": 1e-7,\n  "d": 1e+21,\n  "e": "\\u003c\\u0026\\u003e",\n'
        '  "f": [],\n  "g": {},\n  "h": null,\n  "i": [\n    1,\n    true\n  ]\n}'
    )
    assert json.loads(text)["e"] == "<&>"


@pytest.mark.parametrize(
    ("body", "message", "offset"),
    [
        (b"", "unexpected end of JSON input", 0),
        (b"{", "unexpected end of JSON input", 1),
        (b'{"a": "b', "unexpected end of JSON input", 8),
        (b"foo", "invalid character 'f' (expecting value)", 1),
        (b'{"a" 1}', "invalid character '1' (expecting ':' delimiter)", 6),
        (b"[1,]", "invalid character ']' (expecting value)", 4),
        (b'{"a":1}x', "invalid character 'x' (extra data)", 8),
        (b'"\x01"', "invalid character '\\x01' (invalid control character)", 2),
    ],
)
def test_malformed_bodies_get_a_syntax_error_with_an_offset(body: bytes, message: str, offset: int) -> None:
    """A body that is not JSON: Go's text for a truncated one, else the character where decoding stopped."""
    with pytest.raises(BodySyntaxError) as failed:
        loads(body)
    assert (failed.value.msg, failed.value.offset) == (message, offset)


@pytest.mark.parametrize(
    ("body", "char"),
    [
        (b"NaN", "N"),
        (b"Infinity", "I"),
        (b"-Infinity", "I"),
        (b'{"rate": NaN}', "N"),
        (b"[1, -Infinity]", "I"),
    ],
)
def test_bodies_go_refuses_are_refused(body: bytes, char: str) -> None:
    """Python's json takes NaN and Infinity; Go's encoding/json does not, so neither does the simulator."""
    json.loads(body)  # what a plain json.loads would let through
    with pytest.raises(BodySyntaxError) as failed:
        loads(body)
    assert failed.value.msg == f"invalid character '{char}' (expecting value)"


def test_valid_bodies_decode() -> None:
    """Valid JSON decodes to the same values Python's json gives."""
    assert loads(b' {"name": "x", "ids": [1, 2.5, -3e2], "ok": true, "n": null} ') == {
        "name": "x",
        "ids": [1, 2.5, -300.0],
        "ok": True,
        "n": None,
    }


def test_keys_are_upper_hex_and_middle_keys_fall_inside() -> None:
    """Raw keys print as upper hex; a middle key lies strictly inside any range."""
    assert raw_to_hex("t\x80") == "74C280"
    assert is_hex_key("7480ab") and not is_hex_key("748") and not is_hex_key("zz")
    for start, end in [("", ""), ("74", "75"), ("7480", "748001"), ("", "01"), ("FF", "")]:
        mid = middle_key(start, end)
        assert mid > start and (end == "" or mid < end) and is_hex_key(mid)
