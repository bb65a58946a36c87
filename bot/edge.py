"""What ``POST /slack/events`` does before anything reads a body: Slack's signature, then bounded parsing.

Slack signs every request it sends (docs/slack-edge.md): the ``X-Slack-Signature`` header is
``v0=`` and the hex HMAC-SHA256, keyed with the app's signing secret, of ``v0:{timestamp}:{raw body}``;
``X-Slack-Request-Timestamp`` is the Unix time it was sent, and a request older (or newer) than five
minutes is refused so a captured request cannot be replayed. ``verify`` checks both on the raw bytes
before anything decodes or parses them: an unsigned request is refused whatever it contains.

A signed body is Slack's, but it is still parsed with bounds: its size (aiohttp refuses more than
``MAX_BODY`` bytes with 413) and its JSON nesting (``nesting_depth``, a linear scan that skips string
contents, before ``json.loads`` ever sees it), so no body holds the event loop in the decoder.
Socket Mode messages (not signed: they come over the app's own authenticated WebSocket) get the same
bounds through ``bound_socket_mode``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)

# Slack's own bodies are a few to a few tens of KiB (a modal submission carries its whole view).
MAX_BODY = 1024 * 1024
# Slack's payloads nest about a dozen levels (a view's blocks, elements, options, text objects).
MAX_DEPTH = 64
# Slack refuses to sign for, and apps refuse, requests more than five minutes from now.
MAX_SKEW_SECONDS = 300

_ASCII_DIGITS = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# A JSON string (unrolled: no alternation per character), possibly unterminated; one bracket.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
# The percent-escapes of a form value that carry JSON structure: " \ [ ] { } (either case).
_FORM_STRUCTURE = tuple(
    (escape, char)
    for code, char in (("22", '"'), ("5B", "["), ("5C", "\\"), ("5D", "]"), ("7B", "{"), ("7D", "}"))
    for escape in {"%" + code, "%" + code.lower()}
)


class Unverified(Exception):
    """Why a request's signature was refused (short, safe to log: it never quotes the request)."""


def _one(headers: Mapping[str, str | Sequence[str]], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else None


def check_headers(
    headers: Mapping[str, str | Sequence[str]], *, now: Callable[[], float] = time.time
) -> tuple[str, str]:
    """The timestamp and signature headers, if they can be those of a request Slack sent just now.

    Checked before the body is read: a request without them is refused without reading it.
    """
    timestamp = _one(headers, "x-slack-request-timestamp")
    signature = _one(headers, "x-slack-signature")
    if timestamp is None or signature is None:
        raise Unverified("no signature")
    if not _ASCII_DIGITS.fullmatch(timestamp):
        raise Unverified("the timestamp is not a number")
    if abs(now() - int(timestamp)) > MAX_SKEW_SECONDS:
        raise Unverified("the timestamp is more than five minutes away")
    if not _SIGNATURE.fullmatch(signature):
        raise Unverified("the signature is not a v0 signature")
    return timestamp, signature


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str | Sequence[str]],
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise ``Unverified`` unless ``body`` carries Slack's signature with ``secret``, made just now."""
    if not secret:
        raise Unverified("no signing secret is configured")
    timestamp, signature = check_headers(headers, now=now)
    mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    if not hmac.compare_digest("v0=" + mac.hexdigest(), signature):
        raise Unverified("the signature does not match")


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """How deep the brackets of JSON ``text`` nest (a number above ``limit`` once it is past it).

    Linear and cheap: one regular expression drops the strings (brackets inside them do not nest),
    another finds the brackets; only when there are more opening brackets than ``limit`` are they
    walked. Text that is not JSON gets some number; ``json.loads`` then refuses it as usual.
    """
    bare = _JSON_STRING.sub("", text)
    opening = bare.count("[") + bare.count("{")
    if opening <= limit:
        return opening  # an upper bound, and within the limit
    depth = deepest = 0
    for bracket in _BRACKETS.findall(bare):
        depth += 1 if bracket in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def json_parts(text: str) -> list[str]:
    """The parts of a Slack body that will be decoded as JSON: the body itself, or its ``payload``.

    An interaction body is ``payload=`` and the percent-encoded JSON; only the escapes that matter to
    its structure (quotes, backslashes, brackets) are decoded here, which is all ``nesting_depth``
    reads, and much cheaper than decoding the whole form.
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return [text]
    if stripped.startswith("payload=") and "&" not in stripped:
        value = stripped[len("payload=") :]
        for escape, char in _FORM_STRUCTURE:
            value = value.replace(escape, char)
        return [value]
    if "payload" not in text:
        return []
    return [value for name, value in parse_qsl(text, keep_blank_values=True) if name == "payload"]


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether any JSON in the Slack body ``text`` nests deeper than ``limit``."""
    # No more opening brackets in all (as they are, or percent-encoded) than the limit: nothing can
    # nest deeper, and most of Slack's bodies end here after a few counts.
    opening = text.count("[") + text.count("{")
    opening += sum(text.count(escape) for escape in ("%5B", "%5b", "%7B", "%7b"))
    if opening <= limit:
        return False
    return any(nesting_depth(part, limit) > limit for part in json_parts(text))


def bound_socket_mode(client: Any) -> None:
    """Make slack_sdk's Socket Mode ``client`` drop a message larger than ``MAX_BODY`` or nested deeper
    than ``MAX_DEPTH`` before it decodes it (``enqueue_message`` is where every received text goes)."""
    enqueue: Callable[[str], Awaitable[None]] = client.enqueue_message

    async def bounded(message: str) -> None:
        if len(message) > MAX_BODY:
            logger.warning("dropped a Socket Mode message of %d characters", len(message))
            return
        if nesting_depth(message) > MAX_DEPTH:
            logger.warning("dropped a Socket Mode message nested deeper than %d levels", MAX_DEPTH)
            return
        await enqueue(message)

    client.enqueue_message = bounded
