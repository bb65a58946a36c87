"""The one place text from outside the bot is made safe for Slack's mrkdwn.

In mrkdwn ``<…>`` is a control sequence: ``<!channel>`` notifies a channel, ``<@U…>`` mentions a
person, ``<#C…>`` names a channel and ``<https://…|label>`` is a link with any label. Slack parses
them everywhere mrkdwn is read, inside code spans and code blocks too, and in a message's
notification ``text``. So whatever a person typed, PD answered, the agent or Claude wrote reaches a
message only through ``escape`` (directly, or through ``code`` / ``inline`` / ``fallback``), which
turns ``&``, ``<`` and ``>`` into Slack's entities; the only control sequences left are those the
renderers write themselves (mentions through ``kit.user``, dates through ``kit.when``). Plain-text
objects (headers, button labels, modal titles and inputs) are not mrkdwn and need nothing.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
# An entity cut by clipping (``&am``): dropped, so a clipped text never shows half of one.
_CUT_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(text: str) -> str:
    """Text safe inside mrkdwn: ``&``, ``<`` and ``>`` are Slack's control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_clip(text: str, limit: int) -> str:
    """``escape(text)`` shortened to at most ``limit`` characters (ellipsis when cut, no half entity)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = _CUT_ENTITY.sub("", escaped[: max(limit - 1, 0)])
    return cut.rstrip() + ELLIPSIS


def code(text: str, limit: int = 3000) -> str:
    """A preformatted block holding ``text``, escaped (clipped so the fences still fit)."""
    body = escape_clip(text.replace("```", "'''"), limit - 8)
    return f"```\n{body}\n```"


def inline(text: str, limit: int = 500) -> str:
    """Inline code holding ``text``, escaped and clipped."""
    return "`" + escape_clip(text.replace("`", "'"), limit - 2) + "`"


def fallback(text: str) -> str:
    """A message's notification ``text`` (also mrkdwn): written by the renderers from plain sentences
    and values, none of them control sequences, so all of it is escaped."""
    return escape(text)
