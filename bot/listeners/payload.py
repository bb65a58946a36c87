"""Reading what a listener needs from a Slack payload, or ``UnreadableRequest`` when it is not there.

Slack always sends these fields; a payload without them was not built by Slack or by this bot's cards,
and the person is told so instead of meeting a KeyError.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.errors import UnreadableRequest
from bot.identity import RequestOrigin
from bot.render.listing import PageRef
from bot.render.proposal import parse_button_value


def user_id(body: dict[str, Any]) -> str:
    """The Slack user who typed the command (``user_id``) or clicked or submitted (``user.id``)."""
    user = body.get("user")
    found = body.get("user_id") or (user.get("id") if isinstance(user, dict) else None)
    if not isinstance(found, str) or not found:
        raise UnreadableRequest(texts.REQUEST_UNREADABLE)
    return found


def origin(body: dict[str, Any]) -> RequestOrigin:
    """The team (and Enterprise Grid organisation) a command, click or submission came through."""
    team = body.get("team")
    enterprise = body.get("enterprise")
    team_id = body.get("team_id") or (team.get("id") if isinstance(team, dict) else None)
    enterprise_id = (
        body.get("enterprise_id")
        or (enterprise.get("id") if isinstance(enterprise, dict) else None)
        or (team.get("enterprise_id") if isinstance(team, dict) else None)
    )
    return RequestOrigin(
        team_id=team_id if isinstance(team_id, str) else "",
        enterprise_id=enterprise_id if isinstance(enterprise_id, str) else "",
    )


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
