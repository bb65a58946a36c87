"""The thread reply that tells the requester their proposal will not run: rejected (and why), expired,
superseded. A failure is told in the result itself (``result_message`` mentions them)."""

from __future__ import annotations

from actions.models import Decision, Proposal, ProposalState
from bot import texts
from bot.render.kit import Message, clip, escape, section, user, when

TOLD_STATES = frozenset({ProposalState.REJECTED, ProposalState.EXPIRED, ProposalState.SUPERSEDED})


def requester_notice(proposal: Proposal) -> Message | None:
    """The notice for ``proposal``'s requester, or None when its state needs none."""
    who = user(proposal.requester)
    if proposal.state is ProposalState.REJECTED:
        rejections = [a for a in proposal.approvals if a.decision is Decision.REJECT]
        by = user(rejections[-1].approver) if rejections else texts.TOLD_SOMEONE
        reason = rejections[-1].reason if rejections else ""
        text = texts.TOLD_REJECTED.format(
            who=who, id=proposal.id, by=by, reason=escape(clip(reason or texts.TOLD_NO_REASON, 1500))
        )
    elif proposal.state is ProposalState.EXPIRED:
        text = texts.TOLD_EXPIRED.format(who=who, id=proposal.id, when=when(proposal.expires_at))
    elif proposal.state is ProposalState.SUPERSEDED:
        text = texts.TOLD_SUPERSEDED.format(who=who, id=proposal.id)
    else:
        return None
    return Message(text=text, blocks=(section(text),), escaped=True)
