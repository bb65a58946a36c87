"""Why a Slack Web API call failed, as far as telling Slack again is concerned.

A pure classifier: ``Failure.of(exc)`` reads an exception the Web API client raised once it gave up
retrying and says whether the failure may clear (so what Slack missed is owed and told later), whether
it proves Slack did not act on the call (so a card may be posted again without showing twice), how
long Slack asked to wait, and whether Slack as a whole is failing rather than this one call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError

# Everything a Web API call can fail with once the client has given up retrying.
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)

# Slack's answers that say the failure is Slack's and may clear (besides HTTP 429 and 5xx).
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
# Of those, the ones that prove Slack did not act on the call (its docs say a fatal or internal error
# may have done part of the work).
_UNSENT_ERRORS = frozenset({"ratelimited", "request_timeout"})


@dataclass(frozen=True)
class Failure:
    """Why a Web API call failed, as far as telling Slack again is concerned."""

    reason: str
    transient: bool  # Slack's or the network's failure: it may clear, so tell it again later
    unsent: bool  # the failure proves Slack did not act on the call
    retry_after: float | None = None  # seconds Slack asked us to wait
    # Slack as a whole (or the way to it) is failing, not this one call: a rate limit, a 5xx, the
    # network. A catch-up pass stops at such a failure and goes on past any other.
    outage: bool = True

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, SlackApiError):
            status = int(getattr(exc.response, "status_code", 0) or 0)
            error = str(exc.response.get("error") or "") if exc.response is not None else ""
            reason = f"HTTP {status} {error}".strip()
            limited = status == 429 or error in _UNSENT_ERRORS
            transient = limited or status >= 500 or error in _TRANSIENT_ERRORS
            outage = status == 429 or status >= 500 or error == "ratelimited"
            return cls(
                reason, transient=transient, unsent=limited, retry_after=_retry_after(exc), outage=outage
            )
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        # A connection that was never made carried nothing; one lost mid-call may have.
        return cls(reason, transient=True, unsent=isinstance(exc, aiohttp.ClientConnectorError))


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value[0] if isinstance(value, list) else value) if value is not None else None
    except ValueError:
        return None
