"""The bot's HTTP server: Slack's ``POST /slack/events``, ``GET /healthz`` and ``GET /metrics``.

The aiohttp ``Application`` is ours; Bolt only answers ``/slack/events``. We read the raw body
ourselves because Bolt parses any form body containing the word "payload" as an interaction
(slack_bolt/request/internals.py, reference/slack-contract.md §2.1): a slash command such as
``/tikv help payload`` would arrive as an empty body and be answered 404. ``slack_request`` parses
such a body as the plain form it is, leaving the raw body (which the signature covers) untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.metrics import CONTENT_TYPE, Metrics

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
"""Returns ``{"ok": bool, …}``; ``ok`` false answers 503."""

Refresh = Callable[[], Awaitable[None]]
"""Brings gauges read from elsewhere (the store) up to date before a scrape."""


class SlackRequest(AsyncBoltRequest):
    """A Bolt request whose copy for the lazy listeners keeps the body as parsed here.

    Bolt's own copy parses the raw body again, which would undo ``slack_request``'s fix: the lazy
    listener of ``/tikv help payload`` would see an empty body.
    """

    def to_copyable(self) -> AsyncBoltRequest:
        copied = super().to_copyable()
        copied.body = self.body  # Bolt deep-copies the request after this
        return copied


def slack_request(
    raw_body: str, *, query: str, headers: Mapping[str, str | Sequence[str]]
) -> AsyncBoltRequest:
    """A Bolt request for ``raw_body``, parsing a slash command that mentions "payload" correctly."""
    request = SlackRequest(body=raw_body, query=query, headers=dict(headers))
    if request.body or "payload" not in raw_body or raw_body.lstrip().startswith("{"):
        return request
    form = dict(parse_qsl(raw_body, keep_blank_values=True))
    if form and "payload" not in form:
        request.body = form
        request.context = build_async_context(AsyncBoltContext(), form)
    return request


def _headers(request: web.Request) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return headers


def build_web_app(
    bolt: AsyncApp | None,
    *,
    metrics: Metrics,
    health: HealthCheck,
    refresh: Refresh | None = None,
) -> web.Application:
    """The aiohttp application; without ``bolt`` (Socket Mode) only health and metrics are served."""
    app = web.Application()

    async def events(request: web.Request) -> web.Response:
        assert bolt is not None
        raw = await request.text()
        bolt_request = slack_request(raw, query=request.query_string, headers=_headers(request))
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report.get("ok") else 503)

    async def scrape(_request: web.Request) -> web.Response:
        if refresh is not None:
            try:
                await refresh()
            except Exception:
                # A scrape must still answer with what the process knows.
                logger.exception("refreshing the proposal gauges failed")
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    if bolt is not None:
        app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, healthz)
    app.router.add_get(METRICS_PATH, scrape)
    return app
