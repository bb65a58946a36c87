"""A dry-run report: every check with its data, the exact PD request, the pd-ctl line, what it needs."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from actions.catalog import CATALOG
from actions.models import DryRunReport, PreflightReport
from bot.render.checks import check_blocks, summary
from bot.render.kit import Message, code, context, escape, fields, header, inline, section


def dry_run_message(report: DryRunReport) -> Message:
    spec = CATALOG[report.request.action]
    described = spec.describe(report.request.params)
    verdict = (
        "❌ It would be refused: a check fails."
        if report.preflight.blocked
        else "✅ It would be accepted now. Nothing was sent to PD."
    )
    blocks: list[Block] = [
        header(f"Dry-run: {report.request.action.value}"),
        section(f"*{escape(described)}*\n{verdict}"),
        fields(
            [
                ("Tier", report.tier.value),
                ("Approvals it would need", str(report.approvals_required)),
                ("Cluster", escape(report.request.cluster)),
                ("Checks", summary(report.preflight.checks)),
            ]
        ),
        section("*PD request it would send*\n" + code(report.pd_request.describe(), 2000)),
        section("*pd-ctl equivalent* " + inline(report.pd_ctl)),
        *check_blocks(report.preflight, budget=6000, title="Checks against live PD"),
    ]
    if report.audit_id is not None:
        blocks.append(context(f"Recorded in the audit log as row {report.audit_id} (dry run)."))
    return Message(text=f"Dry-run of {described}: {summary(report.preflight.checks)}", blocks=tuple(blocks))


def refused_message(described: str, message: str, report: PreflightReport | None) -> Message:
    """A proposal that failed its checks and was not created: why, with every check."""
    blocks: list[Block] = [section(f"❌ {escape(message)}")]
    if report is not None:
        blocks.extend(check_blocks(report, budget=6000, title=f"Checks of {described}"))
    return Message(text=message, blocks=tuple(blocks))
