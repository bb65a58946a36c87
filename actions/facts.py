"""What changed between two preflight snapshots, in words a reviewer can check quickly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MAX_CHANGES = 6


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return flat
    return {prefix: value}


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """``region.leader_store_id was 1, now 3; region.version was 5, now 6`` (at most six, sorted)."""
    old, new = _flatten(before), _flatten(after)
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if not changed:
        return "the checked facts are the same, but their fingerprint differs"
    parts = [f"{k} was {_show(old.get(k))}, now {_show(new.get(k))}" for k in changed[:_MAX_CHANGES]]
    if len(changed) > _MAX_CHANGES:
        parts.append(f"and {len(changed) - _MAX_CHANGES} more")
    return "; ".join(parts)
