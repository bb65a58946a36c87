"""The proposal card, its rewrite after every decision, and what goes to the card's thread.

The card is the one-glance status: what, why, the checks, who asked, what it needs and until when.
While the proposal is pending it ends in Approve / Reject / Edit buttons whose ``value`` carries the
proposal id and revision; afterwards the buttons are replaced by the outcome and who decided it.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    MarkdownTextObject,
    PlainTextObject,
)

from actions.catalog import CATALOG
from actions.models import (
    ActionResult,
    Decision,
    OperatorOutcome,
    Proposal,
    ProposalState,
    Source,
    Tier,
)
from bot import texts
from bot.render.checks import ICON, check_blocks, check_line
from bot.render.kit import (
    BUTTON_VALUE,
    CONFIRM_BUTTON,
    CONFIRM_TEXT,
    CONFIRM_TITLE,
    Message,
    clip,
    code,
    context,
    escape,
    fields,
    header,
    inline,
    section,
    user,
    when,
)

CONFIRMED_TIERS = frozenset({Tier.STRUCTURAL, Tier.IRREVERSIBLE})

STATE_LINE = {
    ProposalState.PENDING: "⏳ Waiting for approval",
    ProposalState.APPROVED: "👍 Approved — sending it to PD",
    ProposalState.EXECUTING: "⚙️ Executing — PD is working on it",
    ProposalState.SUCCEEDED: "✅ Succeeded",
    ProposalState.FAILED: "❌ Failed",
    ProposalState.UNKNOWN: "❓ Outcome unknown",
    ProposalState.REJECTED: "🚫 Rejected",
    ProposalState.EXPIRED: "⌛ Expired — nobody decided in time",
    ProposalState.SUPERSEDED: "↪️ Superseded — the cluster changed and it no longer passes its checks",
}


def button_value(proposal: Proposal) -> str:
    """``"<id>:<revision>"``: what a click decides on, so an edited card's old buttons go stale."""
    return clip(f"{proposal.id}:{proposal.revision}", BUTTON_VALUE)


def parse_button_value(value: str) -> tuple[int, int | None]:
    """The proposal id and revision a button carries; raises ``ValueError`` on anything else."""
    head, _, tail = value.partition(":")
    return int(head), int(tail) if tail else None


def what(proposal: Proposal) -> str:
    """The action in words, from the catalog."""
    return CATALOG[proposal.request.action].describe(proposal.request.params)


def _title(proposal: Proposal) -> str:
    return f"Proposal #{proposal.id}: {proposal.request.action.value}"


def _requester(proposal: Proposal) -> str:
    who = user(proposal.requester)
    return f"{who} (the agent)" if proposal.request.source is Source.AGENT else who


def _approvals(proposal: Proposal) -> str:
    approvers = sorted(set(proposal.approvers))
    received = f"{len(approvers)} of {proposal.approvals_required}"
    return f"{received}: {', '.join(user(a) for a in approvers)}" if approvers else received


def _confirm(proposal: Proposal) -> ConfirmObject | None:
    if proposal.tier not in CONFIRMED_TIERS:
        return None
    consequence = texts.CONSEQUENCE.get(proposal.tier.value, "")
    return ConfirmObject(
        title=PlainTextObject(text=clip(texts.CONFIRM_TITLE.format(tier=proposal.tier.value), CONFIRM_TITLE)),
        text=PlainTextObject(
            text=clip(texts.CONFIRM_TEXT.format(what=what(proposal), consequence=consequence), CONFIRM_TEXT)
        ),
        confirm=PlainTextObject(text=clip(texts.CONFIRM_YES, CONFIRM_BUTTON)),
        deny=PlainTextObject(text=clip(texts.CONFIRM_NO, CONFIRM_BUTTON)),
        style="danger" if proposal.tier is Tier.IRREVERSIBLE else "primary",
    )


def _buttons(proposal: Proposal) -> ActionsBlock:
    value = button_value(proposal)
    return ActionsBlock(
        block_id=f"{texts.BlockId.PROPOSAL_ACTIONS}:{proposal.id}:{proposal.revision}",
        elements=[
            ButtonElement(
                text=texts.APPROVE_LABEL,
                action_id=texts.ActionId.APPROVE,
                value=value,
                style="primary",
                confirm=_confirm(proposal),
            ),
            ButtonElement(
                text=texts.REJECT_LABEL, action_id=texts.ActionId.REJECT, value=value, style="danger"
            ),
            ButtonElement(text=texts.EDIT_LABEL, action_id=texts.ActionId.EDIT, value=value),
        ],
    )


def outcome_line(proposal: Proposal) -> str:
    """The state in words and who decided it, for the rewritten card."""
    line = STATE_LINE[proposal.state]
    approvers = sorted(set(proposal.approvers))
    rejections = [a for a in proposal.approvals if a.decision is Decision.REJECT]
    if proposal.state is ProposalState.REJECTED and rejections:
        last = rejections[-1]
        reason = f": “{escape(clip(last.reason, 500))}”" if last.reason else ""
        line += f" by {user(last.approver)} · {when(last.decided_at)}{reason}"
    elif (
        proposal.state
        in (
            ProposalState.APPROVED,
            ProposalState.EXECUTING,
            ProposalState.SUCCEEDED,
            ProposalState.FAILED,
            ProposalState.UNKNOWN,
        )
        and approvers
    ):
        line += f" · approved by {', '.join(user(a) for a in approvers)}"
    if proposal.result is not None and proposal.state in (
        ProposalState.SUCCEEDED,
        ProposalState.FAILED,
        ProposalState.UNKNOWN,
    ):
        line += f"\n{escape(clip(proposal.result.message, 1500))}"
    return line


def proposal_card(proposal: Proposal) -> Message:
    """The card for ``proposal`` in its current state (post it, or rewrite it with chat.update)."""
    spec = CATALOG[proposal.request.action]
    params = proposal.request.params
    pd_request = spec.pd_request(params)
    blocks: list[Block] = [
        header(_title(proposal)),
        section(f"*{escape(what(proposal))}*", block_id=f"what:{proposal.id}:{proposal.revision}"),
        fields(
            [
                ("Requested by", _requester(proposal)),
                ("Tier", proposal.tier.value),
                ("Approvals", _approvals(proposal)),
                ("Expires", when(proposal.expires_at)),
                ("Cluster", escape(proposal.request.cluster)),
                ("Revision", str(proposal.revision)),
            ]
        ),
        section(
            "*PD request*\n" + code(pd_request.describe(), 1800) + "\n*pd-ctl* " + inline(spec.pd_ctl(params))
        ),
    ]
    if proposal.request.rationale or proposal.request.evidence:
        lines = [f"*Why:* {escape(proposal.request.rationale)}" if proposal.request.rationale else "*Why:*"]
        for item in proposal.request.evidence[:15]:
            source = f" _({escape(item.source)})_" if item.source else ""
            lines.append(f"• {escape(item.label)}: {escape(item.value)}{source}")
        if len(proposal.request.evidence) > 15:
            lines.append(f"_… and {len(proposal.request.evidence) - 15} more facts_")
        blocks.append(section("\n".join(lines)))
    blocks.extend(check_blocks(proposal.preflight, budget=4000))
    blocks.append(DividerBlock())
    if proposal.state is ProposalState.PENDING:
        blocks.append(_buttons(proposal))
    else:
        blocks.append(
            section(outcome_line(proposal), block_id=f"outcome:{proposal.id}:{proposal.state.value}")
        )
    footer = [f"Proposal #{proposal.id} · revision {proposal.revision}"]
    if proposal.undo_of is not None:
        footer.append(f"undoes #{proposal.undo_of}")
    if proposal.request.ticket_id is not None:
        footer.append(f"ticket #{proposal.request.ticket_id}")
    if proposal.request.source is Source.AGENT and proposal.request.confidence is not None:
        footer.append(f"agent confidence {proposal.request.confidence:.0%}")
    blocks.append(context(" · ".join(footer)))
    text = f"Proposal #{proposal.id} ({proposal.state.value}): {what(proposal)}"
    return Message(text=text, blocks=tuple(blocks))


def progress_message(proposal: Proposal, text: str) -> Message:
    """The one thread message that shows the operator's progress (edited in place)."""
    body = f"⚙️ *Progress of #{proposal.id}:* {escape(text)}"
    return Message(text=clip(body, 500), blocks=(section(body),))


def result_message(proposal: Proposal, result: ActionResult) -> Message:
    """The outcome in the card's thread: what PD said, the operator's end and the check afterwards."""
    icon = {
        ProposalState.SUCCEEDED: "✅",
        ProposalState.FAILED: "❌",
        ProposalState.UNKNOWN: "❓",
    }.get(result.state, "ℹ️")
    blocks: list[Block] = [
        section(f"{icon} *#{proposal.id} {result.state.value}:* {escape(result.message)}"),
    ]
    facts = [("PD request", inline(result.pd_request.describe(), 1500))]
    if result.pd_status is not None:
        facts.append(("PD answered", f"HTTP {result.pd_status}"))
    if result.operator is not OperatorOutcome.NONE:
        facts.append(("Operator", result.operator.value))
    if result.caller_id:
        facts.append(("X-Caller-ID", inline(result.caller_id)))
    blocks.append(fields(facts))
    if result.verification is not None:
        blocks.append(section(f"*Verification:* {check_line(result.verification)}"))
    stamps = [f"started {when(result.started_at)}"]
    if result.finished_at is not None:
        stamps.append(f"finished {when(result.finished_at)}")
    blocks.append(context(" · ".join(stamps)))
    status = f"{ICON.get(result.verification.status) if result.verification else icon}"
    text = f"{status} #{proposal.id} {result.state.value}: {result.message}"
    return Message(text=text, blocks=tuple(blocks))


def decision_context(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, 3000))
