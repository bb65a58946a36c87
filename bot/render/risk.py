"""The risk line a card and a dry-run show: why the tier is what it is, and who (if anyone) may approve."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from actions.models import PreflightReport
from bot import texts
from bot.render.kit import escape, section


def risk_blocks(report: PreflightReport | None) -> list[Block]:
    """``*Why this tier* irreversible: lowers max-replicas 3 → 1, …`` and the policy's gap, if any."""
    risk = report.risk if report is not None else None
    if risk is None:
        return []
    lines = []
    if risk.reason:
        lines.append(texts.RISK_LINE.format(reason=escape(risk.reason)))
    if risk.approval_gap:
        lines.append(texts.NO_APPROVER_LINE.format(gap=escape(risk.approval_gap)))
    return [section("\n".join(lines))] if lines else []
