"""The playground's exceptions, one tree.

::

    PlaygroundError
    ├── MethodError    a fake Web API method answers ``ok: false`` (carries Slack's error code)
    ├── NotFound       a user, channel, message or view the fake workspace does not hold
    └── WaitTimeout    FakeSlack.wait_for gave up (also a ``TimeoutError``)
"""

from __future__ import annotations

from typing import Any


class PlaygroundError(Exception):
    """Raised for nothing by itself: the base every playground error shares."""


class MethodError(PlaygroundError):
    """Raised when a fake Web API call must answer ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


class NotFound(PlaygroundError):
    """Raised when the page or a test names a user, channel, message or view the workspace lacks."""


class WaitTimeout(PlaygroundError, TimeoutError):
    """Raised when ``FakeSlack.wait_for``'s predicate is still falsy at the deadline."""
