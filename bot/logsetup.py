"""Logging for the bot: secrets redacted from every record, and an optional JSON line format.

``RedactingFilter`` sits on the root logger's handlers (and on those of any logger that does not
propagate), so it sees the records of every logger at every level, slack_sdk's and Bolt's included.
It formats each record's message (and its traceback) once and replaces in it:

- Slack response URLs (``https://hooks.slack.com/…``, and any URL or path shaped like theirs,
  ``…/actions/T…/…`` or ``…/commands/T…/…``): whoever holds one can post as the app for 30 minutes;
- the value of any ``response_url`` field, in JSON, in a dict's repr or in a form body;
- Slack tokens (``xoxb-…``, ``xoxp-…``, ``xapp-…`` …), Anthropic keys (``sk-ant-…``) and bearer
  credentials;
- the exact values of the secrets the bot was configured with (the signing secret has no shape of
  its own), registered with ``add_secrets``.

``LOG_FORMAT=json`` gives one JSON object a line (time, level, logger, message, and the traceback
when there is one) for log shippers; the default is the usual text line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A response_url field's value: JSON / repr ("response_url": "…") or form (response_url=…).
    (
        re.compile(r"""(response_url["']?\s*[:=]\s*["']?)[^"'\s&,}]+""", re.IGNORECASE),
        r"\g<1>" + REDACTED,
    ),
    (
        re.compile(r"https?://hooks\.slack(?:-gov)?\.com/[^\s\"'<>]*", re.IGNORECASE),
        "https://hooks.slack.com/" + REDACTED,
    ),
    # The secret part of a response URL's path, on any host (or none: an access log's path). Only the
    # path from its fixed segment on is matched: a pattern for the whole URL would backtrack.
    (re.compile(r"""/(actions|commands)/T[A-Z0-9]+/[^\s"'<>]+"""), r"/\g<1>/" + REDACTED),
    (re.compile(r"\b(?:xox[a-z]|xapp)[-.][A-Za-z0-9._\-]+"), REDACTED + "-slack-token"),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]+"), REDACTED + "-anthropic-key"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/\-]+=*", re.IGNORECASE), r"\g<1>" + REDACTED),
)

_secrets: set[str] = set()


def add_secrets(values: Iterable[str | None]) -> None:
    """Redact these exact values too (the configured signing secret, tokens, keys)."""
    # Very short values would redact ordinary words; no real secret is that short.
    _secrets.update(v for v in values if v is not None and len(v) >= 8)


def redact(text: str) -> str:
    """``text`` with every secret and response URL it contains replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats each record's message and traceback once, redacted; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True  # the handler reports a record whose arguments do not fit its format
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        setattr(record, "_redacted", True)  # noqa: B010  # LogRecord declares no such attribute
        return True


def _has_redaction(handler: logging.Handler) -> bool:
    return any(isinstance(f, RedactingFilter) for f in handler.filters)


def install_redaction(secrets: Iterable[str | None] = ()) -> None:
    """Put a ``RedactingFilter`` on every handler of the root logger and of loggers that do not
    propagate (once each); register ``secrets`` as values to redact."""
    add_secrets(secrets)
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        lg
        for lg in logging.Logger.manager.loggerDict.values()
        if isinstance(lg, logging.Logger) and lg.handlers
    ]
    for lg in loggers:
        for handler in lg.handlers:
            if not _has_redaction(handler):
                handler.addFilter(RedactingFilter())


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message`` and ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def secrets_of(settings: Settings) -> list[str | None]:
    """The secret values ``settings`` holds."""
    return [
        s.get_secret_value() if s is not None else None
        for s in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.anthropic_api_key,
        )
    ]


def configure_logging(settings: Settings) -> None:
    """The process's logging: one handler on stderr at LOG_LEVEL, text or JSON lines, redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # The PD client logs each request once, with its name; httpx's own line would repeat it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_redaction(secrets_of(settings))
