"""Block Kit building blocks that cannot break Slack's limits.

Every text goes through ``clip`` to the limit of the field it lands in, so a long PD message or a
hundred preflight checks shorten with an ellipsis instead of failing with ``invalid_blocks``. Messages
and views are validated with slack_sdk's own validators (``to_dict`` raises on a violated limit)
before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.errors import RenderError
from bot.render.escape import code, escape, fallback, inline

__all__ = ["code", "escape", "inline"]  # re-exported: the renderers import them from here

# Slack's limits (docs/slack.md, "Block Kit limits").
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
MESSAGE_TEXT = 3000  # the fallback text; Slack's hard limit is 4000, chat.update says so
SECTION_TEXT = 3000
FIELD_TEXT = 2000
SECTION_FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
MODAL_TITLE = 24
PRIVATE_METADATA = 3000
INPUT_LABEL = 2000
INPUT_HINT = 2000
INPUT_VALUE = 3000

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def user(user_id: str) -> str:
    """A mention of a Slack user; anything that is not a user id (the agent, the bot) stays as text."""
    if user_id and user_id[0] in "UW" and user_id.isalnum():
        return f"<@{user_id}>"
    return escape(user_id)


def when(moment: datetime) -> str:
    """A Slack date that each reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=False, default=str)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_TEXT), emoji=True))


def section(text: str, *, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT)), block_id=block_id)


def fields(pairs: Sequence[tuple[str, str]]) -> SectionBlock:
    """A two-column section of ``*label*\\nvalue`` pairs (at most ten, Slack's limit)."""
    return SectionBlock(
        fields=[
            MarkdownTextObject(text=clip(f"*{label}*\n{value}", FIELD_TEXT))
            for label, value in pairs[:SECTION_FIELDS]
        ]
    )


def context(*texts: str) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=clip(t, CONTEXT_TEXT)) for t in texts[:CONTEXT_ELEMENTS] if t]
    )


def sections_of_lines(
    lines: Iterable[str], *, limit: int = SECTION_TEXT, as_code: bool = False
) -> list[SectionBlock]:
    """Lines packed into as few sections as fit (each under ``limit``), never splitting a line."""
    room = limit - 8 if as_code else limit
    chunks: list[list[str]] = [[]]
    size = 0
    for raw in lines:
        line = clip(raw, room)
        if chunks[-1] and size + len(line) + 1 > room:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return [section(code("\n".join(c)) if as_code else "\n".join(c)) for c in chunks if c]


@dataclass(frozen=True, slots=True)
class Message:
    """A message: the notification text (plain: ``payload`` escapes it) and its blocks."""

    text: str
    blocks: tuple[Block, ...]
    # True only where the renderer built ``text`` as mrkdwn itself, escaping every value it put in, so
    # its own mentions still notify (the requester told of a rejection); otherwise ``payload`` escapes.
    escaped: bool = False

    def payload(self) -> dict[str, Any]:
        """``text`` and ``blocks`` for chat.postMessage / chat.update / respond, validated."""
        if len(self.blocks) > MESSAGE_BLOCKS:
            raise RenderError(f"{len(self.blocks)} blocks; a message holds at most {MESSAGE_BLOCKS}")
        text = clip(self.text if self.escaped else fallback(self.text), MESSAGE_TEXT)
        return {"text": text, "blocks": [b.to_dict() for b in self.blocks]}


def validated_view(view: View) -> dict[str, Any]:
    """The view as a dict for views.open / response_action, validated by slack_sdk."""
    if view.blocks is not None and len(view.blocks) > MODAL_BLOCKS:
        raise RenderError(f"{len(view.blocks)} blocks; a modal holds at most {MODAL_BLOCKS}")
    return view.to_dict()
