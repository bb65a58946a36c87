"""Region keys as PD prints them: upper-case hex of the raw bytes, ``""`` for an open end.

Upper-case hex strings of raw keys sort exactly like the raw bytes (``0-9`` sorts before
``A-F`` in ASCII, and every byte is two characters), so the model keeps keys as hex strings
and compares them directly; only the unbounded end key ``""`` needs care.
"""

from __future__ import annotations

import string

_HEX_DIGITS = frozenset(string.hexdigits)


def is_hex_key(text: str) -> bool:
    """True when ``text`` decodes with Go's ``hex.DecodeString`` (even length, hex digits only)."""
    return len(text) % 2 == 0 and all(c in _HEX_DIGITS for c in text)


def raw_to_hex(raw: str) -> str:
    """Hex-encode a raw (UTF-8) key as PD prints it."""
    return raw.encode("utf-8").hex().upper()


def end_before(key: str, end: str) -> bool:
    """True when ``key`` is strictly before ``end`` (``end == ""`` is +infinity)."""
    return end == "" or key < end


def in_range(key: str, start: str, end: str) -> bool:
    """True when ``start <= key < end`` with ``end == ""`` meaning unbounded."""
    return key >= start and end_before(key, end)


def middle_key(start: str, end: str, min_bytes: int = 8) -> str:
    """A key strictly between ``start`` and ``end`` (both hex, ``end == ""`` unbounded)."""
    length = max(len(start), len(end), 2 * min_bytes)
    while True:
        low = int(start.ljust(length, "0") or "0", 16)
        high = int(end.ljust(length, "0"), 16) if end else 16**length
        if high - low >= 2:
            mid = (low + high) // 2
            return f"{mid:0{length}X}"
        length += 2
