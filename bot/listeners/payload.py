"""Reading what a listener needs from a Slack payload, or ``UnreadableRequest`` when it is not there.

Slack always sends these fields; a payload without them was not built by Slack or by this bot's cards,
and the person is told so instead of meeting a KeyError.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.errors import UnreadableRequest
from bot.render.listing import PageRef
from bot.render.proposal import parse_button_value


def user_id(body: dict[str, Any]) -> str:
    """The Slack user who typed the command (``user_id``) or clicked or submitted (``user.id``)."""
    user = body.get("user")
    found = body.get("user_id") or (user.get("id") if isinstance(user, dict) else None)
    if not isinstance(found, str) or not found:
        raise UnreadableRequest(texts.REQUEST_UNREADABLE)
    return found


def proposal_button(action: dict[str, Any]) -> tuple[int, int | None]:
    """The proposal id and revision an Approve, Reject or Edit button carries."""
    try:
        return parse_button_value(str(action.get("value", "")))
    except ValueError:
        raise UnreadableRequest(texts.CARD_UNREADABLE) from None


def page_button(action: dict[str, Any]) -> PageRef:
    """Which listing and page a Prev/Next button asks for."""
    try:
        return PageRef.decode(str(action.get("value", "")))
    except ValueError:
        raise UnreadableRequest(texts.CARD_UNREADABLE) from None
