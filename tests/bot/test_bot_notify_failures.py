"""``Failure.of``: the pure classifier of Slack Web API failures, one row per kind of failure."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.notify_failures import SLACK_FAILURES, Failure


def _slack_error(status: int, error: str, **headers: str) -> SlackApiError:
    answer = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers,
        status_code=status,
    )
    return SlackApiError(error, answer)


_CONNECT = SimpleNamespace(host="slack.com", port=443, ssl=True)
_REFUSED = aiohttp.ClientConnectorError(_CONNECT, OSError(111, "Connection refused"))  # type: ignore[arg-type]

T, F = True, False
# id, exc, reason (its start), transient, unsent, outage, retry_after
_TABLE: list[tuple[str, BaseException, str, bool, bool, bool, float | None]] = [
    ("429", _slack_error(429, "ratelimited", **{"Retry-After": "7"}), "HTTP 429 ratelimited", T, T, T, 7.0),
    ("429-nan", _slack_error(429, "ratelimited", **{"Retry-After": "soon"}), "HTTP 429", T, T, T, None),
    ("ok-false-ratelimited", _slack_error(200, "ratelimited"), "HTTP 200 ratelimited", T, T, T, None),
    ("request_timeout", _slack_error(200, "request_timeout"), "HTTP 200 request_timeout", T, T, F, None),
    ("500", _slack_error(500, "internal_error"), "HTTP 500 internal_error", T, F, T, None),
    ("503", _slack_error(503, "fatal_error"), "HTTP 503 fatal_error", T, F, T, None),
    ("unavailable", _slack_error(200, "service_unavailable"), "HTTP 200 service_unavailable", T, F, F, None),
    ("not_in_channel", _slack_error(200, "not_in_channel"), "HTTP 200 not_in_channel", F, F, F, None),
    ("refused", _REFUSED, "ClientConnectorError: ", T, T, T, None),
    ("disconnected", aiohttp.ServerDisconnectedError(), "ServerDisconnectedError: ", T, F, T, None),
    ("timeout", TimeoutError(), "TimeoutError", T, F, T, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "reason", "transient", "unsent", "outage", "retry_after"),
    [row[1:] for row in _TABLE],
    ids=[row[0] for row in _TABLE],
)
def test_which_failures_are_owed_and_which_prove_nothing_was_posted(
    exc: BaseException, reason: str, transient: bool, unsent: bool, outage: bool, retry_after: float | None
) -> None:
    """Slack's and the network's failures are told again later; only a rate limit or a connection never
    made proves Slack did not post (the rule that keeps a card from being posted twice); a refusal for
    good (not_in_channel) is not retried; only a whole-Slack failure (429, 5xx, the network) stops a
    catch-up pass; Retry-After is read when it is a number."""
    assert isinstance(exc, SLACK_FAILURES)
    failure = Failure.of(exc)
    assert failure.reason.startswith(reason)
    assert (failure.transient, failure.unsent, failure.outage) == (transient, unsent, outage)
    assert failure.retry_after == retry_after
