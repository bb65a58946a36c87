"""The App Home tab: proposals waiting for the viewer's approval, and the viewer's own open proposals,
each with the card's buttons (Approve, Reject, Edit)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from actions.models import Proposal
from bot import texts
from bot.render.kit import MODAL_BLOCKS, context, escape, header, section, user, when
from bot.render.proposal import proposal_buttons, what

# Each proposal takes two blocks; the rest of the budget is headers and notes.
_MOST = (MODAL_BLOCKS - 8) // 2


def _entries(proposals: Sequence[Proposal], *, buttons: bool) -> list[Block]:
    blocks: list[Block] = []
    for proposal in proposals:
        line = texts.HOME_ROW.format(
            id=proposal.id,
            what=escape(what(proposal)),
            tier=proposal.tier.value,
            who=user(proposal.requester),
            received=len(set(proposal.approvers)),
            required=proposal.approvals_required,
            when=when(proposal.expires_at),
        )
        blocks.append(section(line))
        if buttons:
            blocks.append(proposal_buttons(proposal))
    return blocks


def home_view(awaiting: Sequence[Proposal], own: Sequence[Proposal]) -> View:
    """The Home tab for one person."""
    half = _MOST // 2
    blocks: list[Block] = [header(texts.HOME_AWAITING)]
    blocks.extend(_entries(awaiting[:half], buttons=True) or [section(texts.HOME_NONE_AWAITING)])
    blocks.append(header(texts.HOME_OWN))
    blocks.extend(_entries(own[:half], buttons=True) or [section(texts.HOME_NONE_OWN)])
    blocks.append(context(texts.HOME_FOOTER))
    return View(type="home", blocks=blocks)
