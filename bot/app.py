"""``build_app``: the Bolt ``AsyncApp`` with its listeners, for HTTP or Socket Mode.

Bolt's default mode (``process_before_response`` off): each listener runs as a task and its ack is
answered as soon as it is made, so listeners ack first and then do the slow work in the same
function. There is no custom middleware: anything there would run before every listener's ack.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import register_listeners
from bot.metrics import Metrics
from bot.services import Services
from bot.settings import Settings


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry connection errors, 429 (after Retry-After) and 500/503: Bolt's default retries only the first."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def build_web_client(
    token: str, *, base_url: str, session: aiohttp.ClientSession | None = None, timeout: int = 30
) -> AsyncWebClient:
    """The one Web API client of the process, pointed at ``base_url`` (Slack, or a stand-in)."""
    return AsyncWebClient(
        token=token, base_url=base_url, session=session, timeout=timeout, retry_handlers=retry_handlers()
    )


def request_kind(body: dict[str, Any]) -> str:
    """``command``, ``block_actions``, ``view_submission`` … for the ack-latency label."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return str(kind) if isinstance(kind, str) and kind.isidentifier() else "other"


class TimedApp(AsyncApp):
    """An AsyncApp that records how long each request takes to be answered (that is, acked).

    Bolt answers a request as soon as its listener acks, so the time ``async_dispatch`` takes is the
    ack latency Slack sees, in HTTP and in Socket Mode alike (a middleware could not see it: Bolt
    runs listeners after the middleware chain has returned).
    """

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.perf_counter()
        try:
            return await super().async_dispatch(req)
        finally:
            self._metrics.ack_seconds.labels(request_kind(req.body)).observe(time.perf_counter() - started)


def build_app(settings: Settings, services: Services, *, client: AsyncWebClient) -> AsyncApp:
    """The app, its listeners and its error handler.

    In Socket Mode Slack's envelopes are not signed, so verification is off; over HTTP every request
    must carry a valid signature (Bolt answers 401 otherwise).
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = TimedApp(
        metrics=services.metrics,
        name="tikv-chatops",
        client=client,
        signing_secret=secret,
        request_verification_enabled=not settings.socket_mode,
    )
    register_listeners(app, services)
    return app
