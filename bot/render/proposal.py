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
    PlainTextObject,
)

from actions.catalog import CATALOG
from actions.edits import describe_change
from actions.models import (
    FINISHED,
    ActionResult,
    Decision,
    OperatorOutcome,
    Proposal,
    ProposalEdit,
    ProposalState,
    Source,
    Ticket,
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
from bot.render.risk import risk_blocks

CONFIRMED_TIERS = frozenset({Tier.STRUCTURAL, Tier.IRREVERSIBLE})

APPROVED_STATES = (ProposalState.APPROVED, ProposalState.EXECUTING, *FINISHED)
MAX_EVIDENCE = 15
MAX_EDITS_SHOWN = 5


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
    return texts.CARD_TITLE.format(id=proposal.id, action=CATALOG[proposal.request.action].word)


def _requester(proposal: Proposal) -> str:
    who = user(proposal.requester)
    return texts.BY_THE_AGENT.format(who=who) if proposal.request.source is Source.AGENT else who


def _approvals(proposal: Proposal) -> str:
    approvers = sorted(set(proposal.approvers))
    received = texts.APPROVALS_RECEIVED.format(received=len(approvers), required=proposal.approvals_required)
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


def proposal_buttons(proposal: Proposal) -> ActionsBlock:
    """Approve, Reject and Edit for ``proposal`` (on its card and on the Home tab)."""
    return _buttons(proposal)


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
    line = texts.STATE_LINE[proposal.state.value]
    still_running = (
        proposal.state is ProposalState.SUCCEEDED
        and proposal.result is not None
        and proposal.result.operator is OperatorOutcome.RUNNING
    )
    if still_running:
        # PD took the request and is still carrying it out (an operator, a drain): not done yet.
        line = texts.STATE_LINE["executing"]
    approvers = sorted(set(proposal.approvers))
    rejections = [a for a in proposal.approvals if a.decision is Decision.REJECT]
    if proposal.state is ProposalState.REJECTED and rejections:
        last = rejections[-1]
        line += texts.DECIDED_BY.format(who=user(last.approver), when=when(last.decided_at))
        if last.reason:
            line += texts.REASON.format(reason=escape(clip(last.reason, 500)))
    elif proposal.state in APPROVED_STATES and approvers:
        line += texts.APPROVED_BY.format(who=", ".join(user(a) for a in approvers))
    if proposal.result is not None and proposal.state in FINISHED and not still_running:
        line += "\n" + escape(clip(proposal.result.message, 1500))
    return line


def edit_line(edit: ProposalEdit) -> str:
    """``Edited by @bob (revision 2): to_store_id 4 → 3``, or the bot's own re-check revision."""
    if edit.system:
        return texts.RECHECKED_BY_BOT.format(revision=edit.revision)
    changes = "; ".join(escape(clip(describe_change(c), 300)) for c in edit.changes)
    return texts.EDITED_BY.format(
        who=user(edit.editor), revision=edit.revision, changes=changes or texts.EDITED_NOTHING
    )


def _edits(proposal: Proposal) -> str:
    """Who made each revision after the first and what it changed, newest last."""
    lines = [edit_line(e) for e in proposal.edits[-MAX_EDITS_SHOWN:]]
    return "\n".join(lines)


def _finding(ticket: Ticket) -> str:
    return texts.FINDING.format(
        title=escape(clip(ticket.title, 300)),
        key=escape(clip(ticket.key, 200)),
        id=ticket.id,
    )


def proposal_card(proposal: Proposal, *, finding: Ticket | None = None) -> Message:
    """The card for ``proposal`` in its current state (post it, or rewrite it with chat.update).

    ``finding`` is the ticket of an agent's proposal: which open finding it answers.
    """
    spec = CATALOG[proposal.request.action]
    params = proposal.request.params
    pd_request = spec.pd_request(params)
    blocks: list[Block] = [
        header(_title(proposal)),
        section(f"*{escape(what(proposal))}*", block_id=f"what:{proposal.id}:{proposal.revision}"),
        fields(
            [
                (texts.LABEL_REQUESTED_BY, _requester(proposal)),
                (texts.LABEL_TIER, proposal.tier.value),
                (texts.LABEL_APPROVALS, _approvals(proposal)),
                (texts.LABEL_EXPIRES, when(proposal.expires_at)),
                (texts.LABEL_CLUSTER, escape(proposal.request.cluster)),
                (texts.LABEL_REVISION, str(proposal.revision)),
            ]
        ),
        *risk_blocks(proposal.preflight),
        section(
            f"*{texts.LABEL_PD_REQUEST}*\n{code(pd_request.describe(), 1800)}\n"
            f"*{texts.LABEL_PD_CTL}* {inline(spec.pd_ctl(params))}"
        ),
    ]
    if proposal.edits:
        blocks.append(section(_edits(proposal), block_id=f"edits:{proposal.id}:{proposal.revision}"))
    if finding is not None:
        blocks.append(section(_finding(finding)))
    if proposal.request.rationale or proposal.request.evidence:
        rationale = proposal.request.rationale
        lines = [f"{texts.WHY} {escape(rationale)}" if rationale else texts.WHY]
        for item in proposal.request.evidence[:MAX_EVIDENCE]:
            source = f" _({escape(item.source)})_" if item.source else ""
            lines.append(f"• {escape(item.label)}: {escape(item.value)}{source}")
        if len(proposal.request.evidence) > MAX_EVIDENCE:
            lines.append(texts.MORE_FACTS.format(count=len(proposal.request.evidence) - MAX_EVIDENCE))
        blocks.append(section("\n".join(lines)))
    blocks.extend(check_blocks(proposal.preflight, budget=4000))
    blocks.append(DividerBlock())
    if proposal.state is ProposalState.PENDING:
        blocks.append(_buttons(proposal))
    else:
        line = outcome_line(proposal)
        if proposal.state is ProposalState.SUPERSEDED and finding is not None and finding.state == "closed":
            line = texts.SUPERSEDED_FINDING_CLEARED.format(key=escape(clip(finding.key, 200)), id=finding.id)
        blocks.append(section(line, block_id=f"outcome:{proposal.id}:{proposal.state.value}"))
    footer = [texts.FOOTER_PROPOSAL.format(id=proposal.id, revision=proposal.revision)]
    if proposal.undo_of is not None:
        footer.append(texts.FOOTER_UNDOES.format(id=proposal.undo_of))
    if proposal.request.ticket_id is not None:
        footer.append(texts.FOOTER_TICKET.format(id=proposal.request.ticket_id))
    if proposal.request.source is Source.AGENT and proposal.request.confidence is not None:
        footer.append(texts.FOOTER_CONFIDENCE.format(confidence=proposal.request.confidence))
    blocks.append(context(" · ".join(footer)))
    text = texts.CARD_TEXT.format(id=proposal.id, state=proposal.state.value, what=what(proposal))
    return Message(text=text, blocks=tuple(blocks))


def progress_message(proposal: Proposal, text: str) -> Message:
    """The one thread message that shows the operator's progress (edited in place)."""
    body = texts.PROGRESS.format(id=proposal.id, text=escape(text))
    return Message(text=clip(texts.PROGRESS.format(id=proposal.id, text=text), 500), blocks=(section(body),))


def result_message(proposal: Proposal, result: ActionResult) -> Message:
    """The outcome in the card's thread: what PD said, the operator's end and the check afterwards."""
    icon = texts.RESULT_ICON.get(result.state.value, "ℹ️")
    state = result.state.value
    line = texts.RESULT_LINE.format(icon=icon, id=proposal.id, state=state, message=escape(result.message))
    if result.state in (ProposalState.FAILED, ProposalState.UNKNOWN):
        line = texts.TOLD_FAILED.format(who=user(proposal.requester)) + line  # the requester is told
    blocks: list[Block] = [section(line)]
    facts = [(texts.LABEL_PD_REQUEST, inline(result.pd_request.describe(), 1500))]
    if result.pd_status is not None:
        facts.append((texts.LABEL_PD_ANSWERED, texts.HTTP_STATUS.format(status=result.pd_status)))
    if result.operator is not OperatorOutcome.NONE:
        facts.append((texts.LABEL_OPERATOR, result.operator.value))
    if result.caller_id:
        facts.append((texts.LABEL_CALLER_ID, inline(result.caller_id)))
    blocks.append(fields(facts))
    if result.verification is not None:
        blocks.append(section(texts.VERIFICATION.format(line=check_line(result.verification))))
    stamps = [texts.STARTED.format(when=when(result.started_at))]
    if result.finished_at is not None:
        stamps.append(texts.FINISHED.format(when=when(result.finished_at)))
    blocks.append(context(" · ".join(stamps)))
    shown = ICON[result.verification.status] if result.verification else icon
    text = texts.RESULT_TEXT.format(icon=shown, id=proposal.id, state=state, message=result.message)
    return Message(text=text, blocks=tuple(blocks))
