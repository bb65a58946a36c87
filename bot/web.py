"""The Slack-facing HTTP server (``POST /slack/events`` only): ours, so a bad body is a 400, never Bolt's 500.

The aiohttp ``Application`` is ours; Bolt only answers ``/slack/events``. We read the raw body
ourselves because Bolt parses any form body containing the word "payload" as an interaction
(slack_bolt/request/internals.py, docs/slack.md): a slash command such as
``/tikv help payload`` would arrive as an empty body and be answered 404. ``slack_request`` parses
such a body as the plain form it is, leaving the raw body (which the signature covers) untouched.

Bolt also trusts the shape of what it is given: it parses the body before it checks the signature,
reads the timestamp header with ``int()``, and its matchers index into a payload as Slack shapes it
(``actions[0]["action_id"]``, ``view["type"]``…). A body that is not UTF-8, not JSON where JSON is
due, or shaped otherwise would raise inside Bolt and be answered 500. ``events`` answers those itself:
first it verifies Slack's signature on the raw bytes (``bot.edge``: 401 for anything unverifiable,
whatever it contains, before any of it is parsed), then it refuses with 400 and the reason a signed
body Slack would never send (too deeply nested, not UTF-8, not JSON where JSON is due…).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.edge import MAX_BODY, MAX_DEPTH, Unverified, check_headers, too_deep, verify

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class _LazyRequestCopy(AsyncBoltRequest):
    """A request already copied for a lazy listener; Bolt's deep copy of it is itself."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _LazyRequestCopy:
        return self


class SlackRequest(AsyncBoltRequest):
    """A Bolt request whose copy for the lazy listeners is cheap and keeps the body as parsed here.

    Bolt's own copy parses the raw body again (undoing ``slack_request``'s fix: the lazy listener of
    ``/tikv help payload`` would see an empty body) and then deep-copies the whole request, a
    block_actions payload with its card included: together most of the CPU an ack costs. The copy
    shares the parsed body instead; nothing writes to it once the ack function has returned.
    """

    def to_copyable(self) -> AsyncBoltRequest:
        copied = _LazyRequestCopy(
            body="",
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )
        copied.raw_body = self.raw_body
        copied.body = self.body
        copied.context["is_enterprise_install"] = self.context.is_enterprise_install
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


class MalformedRequest(Exception):
    """A request body Bolt cannot take: answered 400 with this message."""


def malformed(body: Any) -> str | None:
    """Why Bolt cannot route ``body`` without raising, or None when it can.

    Mirrors what Bolt's matchers and its log line for an unhandled request read from a payload
    (slack_bolt.request.payload_utils, listener_matcher.builtins, logger.messages).
    """
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    kind = body.get("type")
    if "command" in body and not isinstance(body["command"], str):
        return "command is not a string"
    if "event" in body and not isinstance(body["event"], dict):
        return "event is not an object"
    if "view" in body:
        view = body["view"]
        if not isinstance(view, dict):
            return "view is not an object"
        if kind in ("view_submission", "view_closed") and "callback_id" in view:
            if not isinstance(view["callback_id"], str):
                return "view.callback_id is not a string"
            if kind == "view_submission" and "type" not in view:
                return "view.type is missing"
            if view.get("type") == "workflow_step" and "workflow_step" not in body:
                return "workflow_step is missing"
    if kind in ("block_actions", "interactive_message") and "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "actions is not a list of objects"
        if kind == "block_actions" and not isinstance(actions[0].get("action_id"), str):
            return "actions[0].action_id is not a string"
    if kind == "workflow_step_edit" and "callback_id" in body and "workflow_step" not in body:
        return "workflow_step is missing"
    return None


def parse_slack_request(
    raw: bytes, *, query: str, headers: Mapping[str, str | Sequence[str]]
) -> AsyncBoltRequest:
    """``slack_request`` for a raw body; raises ``MalformedRequest`` for a body Bolt cannot take."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8") from None
    try:
        request = slack_request(text, query=query, headers=headers)
    except json.JSONDecodeError:
        raise MalformedRequest("the payload is not JSON") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        # Bolt reads ids (team, user, channel…) out of the payload as it builds the request.
        raise MalformedRequest("the payload is not shaped as Slack sends it") from None
    problem = malformed(request.body)
    if problem is not None:
        raise MalformedRequest(problem)
    return request


def _headers(request: web.Request) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return headers


def build_web_app(bolt: AsyncApp | None, *, signing_secret: str | None = None) -> web.Application:
    """The Slack-facing application: ``POST /slack/events`` and nothing else.

    Without ``bolt`` (Socket Mode: Slack's requests come over the socket) it serves nothing at all.
    Health and metrics are on their own listener (``bot.ops_server``).
    """
    app = web.Application(client_max_size=MAX_BODY)

    async def events(request: web.Request) -> web.Response:
        assert bolt is not None
        headers = _headers(request)
        try:
            # The headers first: a request that cannot be signed is refused without reading its body.
            check_headers(headers)
            raw = await request.read()
            verify(signing_secret or "", raw, headers)
        except Unverified as exc:
            # One short line: nothing of what the caller sent is logged.
            logger.info("refused an unverified request to %s: %s", EVENTS_PATH, exc)
            return web.json_response({"error": "invalid request"}, status=401)  # Bolt's own answer
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _malformed(MalformedRequest("the body is not UTF-8"))
        if too_deep(text):
            return _malformed(MalformedRequest(f"the payload nests deeper than {MAX_DEPTH} levels"))
        try:
            bolt_request = parse_slack_request(raw, query=request.query_string, headers=headers)
        except MalformedRequest as exc:
            return _malformed(exc)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    if bolt is not None:
        app.router.add_post(EVENTS_PATH, events)
    return app


def _malformed(exc: MalformedRequest) -> web.Response:
    # Only the reason is logged: the body is whatever the caller sent.
    logger.info("refused a malformed request to %s: %s", EVENTS_PATH, exc)
    return web.json_response({"error": f"malformed request: {exc}"}, status=400)
