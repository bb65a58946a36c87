"""bot.edge: Slack's signature on the raw bytes, and bounded nesting (HTTP bodies and Socket Mode)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.edge import MAX_DEPTH, Unverified, bound_socket_mode, nesting_depth, too_deep, verify
from bot.playground.signing import sign_request

SECRET = "edge-secret"
BODY = b"command=%2Ftikv&text=status"


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_a_request_signed_as_slack_signs_it_verifies() -> None:
    verify(SECRET, BODY, _lower(sign_request(SECRET, BODY)))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no signature"),
        ({"x-slack-request-timestamp": "soon", "x-slack-signature": "v0=" + "0" * 64}, "not a number"),
        ({"x-slack-request-timestamp": "١٢٣", "x-slack-signature": "v0=" + "0" * 64}, "not a number"),
        ({"age": "301"}, "five minutes"),
        ({"age": "-301"}, "five minutes"),
        (_lower(sign_request("another-secret", BODY)), "does not match"),
        (_lower(sign_request(SECRET, BODY + b"&x=1")), "does not match"),
        ({"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v1=abc"}, "not a v0"),
    ],
)
def test_anything_else_is_refused_with_a_short_reason(headers: dict[str, str], reason: str) -> None:
    if "age" in headers:  # signed now (not when the test was collected), that many seconds ago
        headers = _lower(sign_request(SECRET, BODY, timestamp=int(time.time()) - int(headers["age"])))
    with pytest.raises(Unverified, match=reason):
        verify(SECRET, BODY, headers)


def test_without_a_configured_secret_nothing_verifies() -> None:
    with pytest.raises(Unverified):
        verify("", BODY, _lower(sign_request("", BODY)))


def test_nesting_depth_skips_brackets_inside_strings() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert nesting_depth('{"a": "\\"[[["}') == 1
    assert nesting_depth("[" * 100_000) == MAX_DEPTH + 1  # stops counting past the limit
    assert not too_deep("payload=" + json.dumps({"type": "block_actions", "actions": [{"value": "[" * 500}]}))
    assert too_deep("payload=" + "%5B" * 100)
    assert too_deep("{" + '"a":' * 0 + "[" * 100)


class RecordingClient:
    def __init__(self) -> None:
        self.enqueued: list[str] = []

    async def enqueue_message(self, message: str) -> None:
        self.enqueued.append(message)


async def test_socket_mode_messages_get_the_same_bounds() -> None:
    client = RecordingClient()
    bound_socket_mode(client)
    envelope: dict[str, Any] = {"envelope_id": "e1", "type": "interactive", "payload": {"actions": [{}]}}
    await client.enqueue_message(json.dumps(envelope))
    await client.enqueue_message('{"envelope_id": "e2", "payload": ' + "[" * 5000 + "]" * 5000 + "}")
    await client.enqueue_message('{"x": "' + "a" * (2 * 1024 * 1024) + '"}')
    assert [json.loads(m)["envelope_id"] for m in client.enqueued] == ["e1"]
