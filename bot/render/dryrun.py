"""A dry-run report: every check with its data, the exact PD request, the pd-ctl line, what it needs."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from actions.catalog import CATALOG
from actions.models import DryRunReport
from bot import texts
from bot.render.checks import check_blocks, summary
from bot.render.escape import escape_clip
from bot.render.kit import Message, code, context, escape, fields, header, inline, section
from bot.render.risk import risk_blocks


def dry_run_message(report: DryRunReport) -> Message:
    spec = CATALOG[report.request.action]
    described = spec.describe(report.request.params)
    risk = report.preflight.risk
    verdict = texts.DRY_RUN_WOULD_FAIL if report.preflight.blocked else texts.DRY_RUN_WOULD_PASS
    if not report.preflight.blocked and risk is not None and risk.approval_gap:
        verdict = texts.DRY_RUN_NOBODY_APPROVES
    blocks: list[Block] = [
        header(texts.DRY_RUN_TITLE.format(action=CATALOG[report.request.action].word)),
        section(f"*{escape(described)}*\n{verdict}"),
        fields(
            [
                (texts.LABEL_TIER, report.tier.value),
                (texts.DRY_RUN_APPROVALS, str(report.approvals_required)),
                (texts.LABEL_CLUSTER, escape(report.request.cluster)),
                (texts.DRY_RUN_CHECKS, summary(report.preflight.checks)),
            ]
        ),
        *risk_blocks(report.preflight),
        section(f"{texts.DRY_RUN_REQUEST}\n{code(report.pd_request.describe(), 2000)}"),
        section(f"{texts.DRY_RUN_PD_CTL} {inline(report.pd_ctl)}"),
        *check_blocks(report.preflight, budget=6000, title=texts.DRY_RUN_CHECKS_TITLE),
    ]
    if report.audit_id is not None:
        blocks.append(context(texts.DRY_RUN_AUDITED.format(id=report.audit_id)))
    text = texts.DRY_RUN_TEXT.format(what=described, summary=summary(report.preflight.checks))
    return Message(text=text, blocks=tuple(blocks))


def dry_run_header(user_id: str, typed: str) -> str:
    """The channel line a dry-run's report is threaded under: who ran what (as typed, escaped)."""
    return texts.DRY_RUN_HEADER.format(user=escape(user_id), text=escape_clip(typed.replace("`", "'"), 500))
