"""What the playground page draws for one user in one channel, as one JSON document.

Messages come with their thread replies nested under ``replies``; ephemerals and command echoes are
those of the chosen user only; ``modal`` is the view on top of that user's stack, with the inline
``errors`` and the ``notice`` Slack's client would show on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.playground.model import JSON, Channel, User
from bot.playground.workspace import Workspace


@dataclass(frozen=True)
class Echo:
    """A command as the user typed it; Slack shows nothing of it, the playground shows it to its author."""

    ts: str
    user: str
    channel: str
    text: str
    posted_at: float = field(default_factory=time.time)


def user_label(user: User) -> str:
    """How the user picker names someone, with what makes them special for the bot's policy."""
    notes = []
    if user.is_restricted or user.is_ultra_restricted:
        notes.append("guest")
    if user.deleted:
        notes.append("deactivated")
    if user.is_bot:
        notes.append("bot")
    return f"{user.name} ({', '.join(notes)})" if notes else user.name


def _user_json(user: User, groups: list[str]) -> JSON:
    return {
        "id": user.id,
        "name": user.name,
        "real_name": user.real_name or user.name,
        "is_bot": user.is_bot,
        "deleted": user.deleted,
        "is_restricted": user.is_restricted or user.is_ultra_restricted,
        "groups": groups,
        "label": user_label(user),
    }


def _channel_json(ws: Workspace, channel: Channel) -> JSON:
    if channel.is_im:
        # A direct message is named after the person, and only they see it in the list.
        other = ws.find_user(channel.name)
        return {"id": channel.id, "name": other.name if other else channel.name, "is_im": True}
    return {"id": channel.id, "name": channel.name, "is_im": False}


def snapshot(ws: Workspace, *, user: User, channel: Channel, echoes: Iterable[Echo]) -> JSON:
    """The page's whole state for ``user`` looking at ``channel``."""
    messages = []
    for message in ws.top_level(channel.id):
        rendered = {**message.to_slack(), "posted_at": message.posted_at}
        if message.reply_ts and not message.is_reply:
            rendered["replies"] = [
                {**reply.to_slack(), "posted_at": reply.posted_at}
                for reply in ws.thread(channel.id, message.ts)[1:]
            ]
        messages.append(rendered)
    view = ws.top_view(user.id)
    modal = None
    if view is not None:
        modal = {**view.to_slack(), "errors": dict(view.errors), "notice": view.notice}
    groups = {u.id: [g.handle for g in ws.usergroups if u.id in g.members] for u in ws.users}
    return {
        "version": ws.version,
        "team": {"id": ws.team.id, "domain": ws.team.domain, "name": ws.team.name},
        "bot": {"user_id": ws.bot.user_id, "bot_id": ws.bot.bot_id, "name": ws.bot.name},
        "me": user.id,
        "channel": _channel_json(ws, channel),
        "channels": [_channel_json(ws, c) for c in ws.channels if not c.is_im or c.name == user.id],
        "users": [_user_json(u, groups[u.id]) for u in ws.users],
        "usergroups": [{"id": g.id, "handle": g.handle, "name": g.name} for g in ws.usergroups],
        "messages": messages,
        "ephemerals": [e.to_slack() for e in ws.ephemerals(user.id, channel.id)],
        "echoes": [
            {"ts": e.ts, "text": e.text, "posted_at": e.posted_at}
            for e in echoes
            if e.user == user.id and e.channel == channel.id
        ],
        "modal": modal,
        "home": _home(ws, user),
    }


def _home(ws: Workspace, user: User) -> JSON | None:
    view = ws.home(user.id)
    return view.to_slack() if view is not None else None
