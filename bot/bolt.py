"""The Bolt app (``build_app``) and the one Web API client, shared and timed where Bolt would copy and poll.

``build_app`` wires the listeners into an ``AsyncApp``, for HTTP or Socket Mode.

``process_before_response=True``: Bolt answers a request as soon as its ack function returns, and
starts the listener's lazy functions after it (``bot.listeners.acks``). In Bolt's default mode the
runner instead polls for the ack every 10 ms, so even an ack-only listener answers in 10+ ms, and an
exception right after ``ack()`` can lose the ack (docs/slack.md, "Acknowledging within three seconds").

The one middleware (``ShareClient``) only puts the process's client in the request's context: Bolt
makes a client per request over the same aiohttp session and then deep-copies the request for the
lazy listeners, which fails (or, worse, copies the session) on a client with a live session.
Anything else in a middleware would run before every ack.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.listeners import register_listeners
from bot.metrics import Metrics
from bot.services import Services
from bot.settings import Settings
from bot.work import WorkLimiter


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry connection errors, 429 (after Retry-After) and 500/503: Bolt's default retries only the first."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class SharedWebClient(AsyncWebClient):
    """The process's one Web API client, shared rather than copied.

    Bolt deep-copies each request (its context holds the client) for the lazy listeners; a client with
    an aiohttp session cannot be copied reliably (the session holds futures and sockets), and a copy
    would open sessions nobody closes. The client keeps no per-request state, so its copy is itself.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedWebClient:
        return self


def build_web_client(
    token: str, *, base_url: str, session: aiohttp.ClientSession | None = None, timeout: int = 30
) -> AsyncWebClient:
    """The one Web API client of the process, pointed at ``base_url`` (Slack, or a stand-in)."""
    return SharedWebClient(
        token=token, base_url=base_url, session=session, timeout=timeout, retry_handlers=retry_handlers()
    )


class SharedRespond(AsyncRespond):
    """``respond`` over the process's HTTP session.

    Bolt's own opens an aiohttp session (a connector and a TCP connection) for every reply to a
    response URL and closes it after: under load, most of the CPU the work after an ack costs.
    """

    def __init__(self, *, response_url: str | None, session: aiohttp.ClientSession | None) -> None:
        super().__init__(response_url=response_url)
        self._session = session

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedRespond:
        return self  # Bolt deep-copies Socket Mode requests for lazy listeners; a session cannot be copied

    async def __call__(  # type: ignore[override]  # Bolt's keywords, passed through to its builder
        self, text: str | dict[str, Any] = "", **fields: Any
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        # Bolt's own message builder, so the body is exactly what Bolt's respond would send.
        message = _build_message(**text) if isinstance(text, dict) else _build_message(text, **fields)
        client = AsyncWebhookClient(url=self.response_url, session=self._session)
        return await client.send_dict(message)


class ShareClient(AsyncMiddleware):
    """Puts the process's one (deep-copy-safe) client in each request's context (see the docstring),
    and a ``respond`` that replies over its HTTP session; and marks a verified request's ack as in
    progress for the ``WorkLimiter`` (after Bolt's signature check, so unsigned traffic cannot hold
    back real work).

    A class rather than a function: Bolt builds a function middleware's arguments, ``say`` among them,
    from the context's client before the function runs, and those would still hold Bolt's own client.
    """

    def __init__(self, client: AsyncWebClient, work: WorkLimiter) -> None:
        self._client = client
        self._work = work

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # Bolt passes it by this name
    ) -> BoltResponse | None:
        req.context["client"] = self._client
        req.context["respond"] = SharedRespond(
            response_url=req.context.response_url, session=self._client.session
        )
        with self._work.acking():
            return await next()


# The label values of the ack-latency metric: what Slack sends; anything else (unsigned traffic
# included) is "other", so nobody can grow the metric's series.
REQUEST_KINDS = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action", "event_callback"}
)


def request_kind(body: dict[str, Any]) -> str:
    """``command``, ``block_actions``, ``view_submission`` … for the ack-latency label."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in REQUEST_KINDS else "other"


class TimedApp(AsyncApp):
    """An AsyncApp that records how long each request takes to be answered (that is, acked).

    ``async_dispatch`` returns once the ack function has returned, so its duration is the ack
    latency Slack sees, in HTTP and in Socket Mode alike (a middleware could not see it: Bolt runs
    listeners after the middleware chain has returned).
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
        process_before_response=True,
    )
    app.middleware(ShareClient(app.client, services.work))
    register_listeners(app, services)
    return app
