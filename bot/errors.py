"""Errors of the Slack edge.

    BotError
     ├── GrammarError       the text after /tikv is not a command; ``usage`` says how to write it
     ├── IdentityRefused    the Slack account may not act (deactivated, a bot, a guest, not found)
     ├── UnreadableRequest  a click or command carries values the bot never put there
     └── RenderError        a renderer produced blocks Slack would refuse (a bug: renderers clip)

``GrammarError``, ``IdentityRefused`` and ``UnreadableRequest`` messages are written for the person
who typed or clicked and are shown to them; ``RenderError`` is logged and answered with the fixed
"something went wrong".
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the Slack edge raises on purpose."""


class GrammarError(BotError):
    """Raised when the text after /tikv is not a command; ``usage`` says how to write it."""

    def __init__(self, message: str, *, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class IdentityRefused(BotError):
    """Raised when a Slack account may not request or decide anything (deactivated, bot, guest)."""


class UnreadableRequest(BotError):
    """Raised when a click or command lacks what Slack always sends or carries a value the bot never
    put on a button (an old, foreign or tampered payload); nothing is decided."""


class RenderError(BotError):
    """Raised when a renderer produced something Slack would refuse (renderers must clip instead)."""
