"""Preflight checks as people read them: ✅ / ⚠️ / ❌ and one sentence with its numbers. The data each
check used is not on the card: ``details_message`` shows it in the card's thread.

Failures come first, then warnings, then passes; a long report keeps every failure and warning it has
room for, shortens the passes to a count, and says how many lines it left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from actions.models import CheckResult, CheckStatus, PreflightReport
from bot import texts
from bot.render.kit import Message, clip, compact_json, escape, inline, section, sections_of_lines

ICON = {status: texts.CHECK_ICON[status.value] for status in CheckStatus}
_ORDER = {CheckStatus.FAIL: 0, CheckStatus.WARN: 1, CheckStatus.PASS: 2}
_DATA_CHARS = 300
_LINE_CHARS = 700
DETAILS_BUDGET = 9000


def _data(data: dict[str, Any]) -> str:
    if not data:
        return ""
    return " — " + inline(compact_json(data), _DATA_CHARS + 2)


def check_line(check: CheckResult) -> str:
    """``✅ *target store*: store 3 (10.0.0.3) is Up``: the check's sentence with its numbers, no data."""
    return clip(f"{ICON[check.status]} *{escape(check.name)}*: {escape(check.message)}", _LINE_CHARS)


def details_message(head: str, report: PreflightReport | None) -> Message | None:
    """The data behind each check under ``head``, for a thread; None when the checks used none."""
    if report is None or not any(c.data for c in report.checks):
        return None
    ordered = sorted(report.checks, key=lambda c: _ORDER[c.status])
    lines = [f"{ICON[c.status]} *{escape(c.name)}*{_data(c.data)}" for c in ordered if c.data]
    kept: list[str] = []
    used = len(head)
    for index, line in enumerate(lines):
        if used + len(line) + 1 > DETAILS_BUDGET:
            left = len(lines) - index
            kept.append(texts.CHECKS_NOT_SHOWN.format(count=left, s="s" * (left != 1)))
            break
        kept.append(line)
        used += len(line) + 1
    return Message(text=head, blocks=(section(head), *sections_of_lines(kept)))


def summary(checks: Sequence[CheckResult]) -> str:
    counts = {status: sum(1 for c in checks if c.status is status) for status in CheckStatus}
    parts = [texts.CHECKS_PASSED.format(icon=ICON[CheckStatus.PASS], count=counts[CheckStatus.PASS])]
    warnings = counts[CheckStatus.WARN]
    if warnings:
        parts.append(
            texts.CHECKS_WARNINGS.format(icon=ICON[CheckStatus.WARN], count=warnings, s="s" * (warnings != 1))
        )
    if counts[CheckStatus.FAIL]:
        parts.append(texts.CHECKS_FAILED.format(icon=ICON[CheckStatus.FAIL], count=counts[CheckStatus.FAIL]))
    return " · ".join(parts)


def check_blocks(
    report: PreflightReport | None, *, budget: int = 5500, title: str = texts.CHECKS_TITLE
) -> list[Block]:
    """The checks of ``report`` in at most ``budget`` characters of section text."""
    if report is None or not report.checks:
        return [section(texts.CHECKS_NONE.format(title=title))]
    ordered = sorted(report.checks, key=lambda c: _ORDER[c.status])
    lines: list[str] = []
    used = 0
    for index, check in enumerate(ordered):
        line = check_line(check)
        remaining = len(ordered) - index
        if used + len(line) + 1 > budget - 80:
            lines.append(texts.CHECKS_NOT_SHOWN.format(count=remaining, s="s" * (remaining != 1)))
            break
        lines.append(line)
        used += len(line) + 1
    head = section(texts.CHECKS_HEAD.format(title=title, summary=summary(report.checks)))
    return [head, *sections_of_lines(lines)]
