"""Short answers to one person: usage after a typo, a refusal, a confirmation."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from actions.errors import PreflightFailed
from actions.models import PreflightReport
from bot import texts
from bot.render.checks import check_blocks
from bot.render.kit import Message, context, escape, inline, section


def note(text: str) -> Message:
    """One sentence (already written for people), as a message."""
    return Message(text=text, blocks=(section(escape(text)),))


def note_mrkdwn(text: str) -> Message:
    """One sentence whose parts the caller escaped, keeping its links (``<#C0OPS>``) working."""
    return Message(text=text, blocks=(section(text),))


def usage(message: str, usage_line: str | None) -> Message:
    blocks: list[Block] = [section(texts.WARNING.format(message=escape(message)))]
    if usage_line:
        blocks.append(section(texts.USAGE_LINE.format(usage=inline(usage_line, 2900))))
    blocks.append(context(texts.USAGE_HINT))
    text = texts.USAGE_TEXT.format(message=message, usage=usage_line) if usage_line else message
    return Message(text=text, blocks=tuple(blocks))


def refusal(message: str, *, report: PreflightReport | None = None) -> Message:
    """A refusal written for the person who asked, with the checks behind it when there are some."""
    blocks: list[Block] = [section(texts.REFUSAL.format(message=escape(message)))]
    if report is not None:
        blocks.extend(check_blocks(report, budget=6000))
    return Message(text=message, blocks=tuple(blocks))


def refusal_for(error: Exception) -> Message:
    """The refusal for an error whose message is written for people (see bot.listeners.errors)."""
    if isinstance(error, PreflightFailed) and isinstance(error.report, PreflightReport):
        return refusal(str(error), report=error.report)
    return refusal(str(error))


def unexpected() -> Message:
    return note(texts.UNEXPECTED_ERROR)
