"""The playground: a page on http://127.0.0.1:3000 that stands in for a Slack channel.

One aiohttp app serves three things:

- the fake Slack Web API the unchanged bot calls through ``SLACK_API_URL`` (``{url}/api/``), with
  the response and upload URLs it hands out;
- the page itself (``/`` and ``/static/…``: plain HTML, JS and CSS, nothing fetched from elsewhere);
- the page's JSON API, which acts for the person picked on the page:

  ``GET  /play/state?user=U…&channel=C…&since=N&wait=S``  the page's state; with ``since`` and
  ``wait`` it long-polls until something changes after version N (at most S seconds)
  ``POST /play/command {user, text[, channel]}``  a signed slash command to the bot
  ``POST /play/click {user, channel, message_ts | view_id, action_id, block_id, value}``
  ``POST /play/submit {user, view_id, values: {block_id: {action_id: value}}}``
  ``POST /play/close {user, view_id}``
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.playground.errors import NotFound
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import (
    DEFAULT_CHANNELS,
    DEFAULT_USERGROUPS,
    DEFAULT_USERS,
    JSON,
    Channel,
    User,
    Usergroup,
)
from bot.playground.relay import ACK_TIMEOUT, BotRelay, Delivery
from bot.playground.snapshot import Echo, snapshot

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
LONG_POLL_LIMIT = 25.0  # seconds; below common proxy idle timeouts
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Playground:
    """The playground server; ``async with Playground(...) as playground`` serves it until the block ends.

    Args:
        bot_url: where the bot takes Slack's requests; a bare ``http://host:port`` gets ``/slack/events``.
        signing_secret: the secret the bot verifies requests with.
        bot_token: the token the bot sends to the fake Web API.
        port: 0 picks a free port; ``url`` says which.
    """

    def __init__(
        self,
        *,
        bot_url: str,
        signing_secret: str,
        bot_token: str,
        port: int = 3000,
        host: str = "127.0.0.1",
        users: Iterable[User] = DEFAULT_USERS,
        usergroups: Iterable[Usergroup] = DEFAULT_USERGROUPS,
        channels: Iterable[Channel] = DEFAULT_CHANNELS,
        ack_timeout: float = ACK_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.fake = FakeSlack(
            token=bot_token, users=users, usergroups=usergroups, channels=channels, host=host
        )
        self.relay = BotRelay(
            self.fake, bot_url=bot_url, signing_secret=signing_secret, ack_timeout=ack_timeout
        )
        self.app = self._build_app()
        self._echoes: list[Echo] = []
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[_json_errors])
        self.fake.add_routes(app)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC_DIR)
        app.router.add_get("/play/state", self._state)
        app.router.add_post("/play/command", self._command)
        app.router.add_post("/play/click", self._click)
        app.router.add_post("/play/submit", self._submit)
        app.router.add_post("/play/close", self._close)
        app.router.add_post("/play/home", self._home)
        return app

    async def start(self) -> None:
        """Listen on ``host:port``."""
        runner = web.AppRunner(self.app, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self._url = f"http://{self.host}:{runner.addresses[0][1]}"
        self.fake.bind(self._url)
        logger.info("playground on %s; the bot's SLACK_API_URL is %s", self._url, self.fake.api_url)

    async def stop(self) -> None:
        """Answer pending long-polls, stop listening, close the relay's HTTP session."""
        await self.fake.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.relay.close()

    async def __aenter__(self) -> Playground:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Where the page is, e.g. ``http://127.0.0.1:3000``."""
        if self._url is None:
            raise RuntimeError("the playground is not listening yet")
        return self._url

    @property
    def api_url(self) -> str:
        """The bot's ``SLACK_API_URL``: the fake Web API on the same server."""
        return self.fake.api_url

    # the page

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    def _user(self, user_id: Any) -> User:
        if user_id is None:
            return next(u for u in self.fake.workspace.users if not u.is_bot)
        return self.fake.workspace.user(str(user_id))

    def _channel(self, channel_id: Any) -> Channel:
        ws = self.fake.workspace
        channel = ws.channel(str(channel_id)) if channel_id else next(iter(ws.channels), None)
        if channel is None:
            raise NotFound(f"no channel {channel_id!r}")
        return channel

    async def _state(self, request: web.Request) -> web.Response:
        query = request.query
        user, channel = self._user(query.get("user")), self._channel(query.get("channel"))
        try:
            since = int(query.get("since", "-1"))
            wait = min(float(query.get("wait", "0")), LONG_POLL_LIMIT)
        except ValueError as exc:
            raise web.HTTPBadRequest(text="since and wait must be numbers") from exc
        await self.fake.changed(since, wait)
        return web.json_response(
            snapshot(self.fake.workspace, user=user, channel=channel, echoes=self._echoes)
        )

    async def _command(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        user, channel = self._user(body.get("user")), self._channel(body.get("channel"))
        typed = str(body.get("text", "")).strip()
        command, _, text = typed.partition(" ") if typed.startswith("/") else ("/tikv", "", typed)
        self._echoes.append(
            Echo(self.fake.workspace.next_ts(), user.id, channel.id, f"{command} {text}".strip())
        )
        self.fake.workspace.touch()
        delivery = await self.relay.command(user.id, text.strip(), channel_id=channel.id, command=command)
        return web.json_response(_delivery_json(delivery))

    async def _click(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        user = self._user(body.get("user"))
        delivery = await self.relay.click(
            user.id,
            action_id=str(body.get("action_id", "")),
            channel_id=body.get("channel") or None,
            message_ts=body.get("message_ts") or None,
            view_id=body.get("view_id") or None,
            block_id=body.get("block_id") or None,
            value=body.get("value"),
        )
        return web.json_response(_delivery_json(delivery))

    async def _submit(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        user = self._user(body.get("user"))
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise web.HTTPBadRequest(text="values must be an object")
        delivery = await self.relay.submit(user.id, view_id=str(body.get("view_id", "")), values=values)
        return web.json_response(_delivery_json(delivery))

    async def _home(self, request: web.Request) -> web.Response:
        """The person opens the app's Home tab: Slack sends the bot ``app_home_opened``."""
        body = await _json_body(request)
        user = self._user(body.get("user"))
        delivery = await self.relay.home_opened(user.id)
        return web.json_response(_delivery_json(delivery))

    async def _close(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        user = self._user(body.get("user"))
        delivery = await self.relay.close_view(user.id, view_id=str(body.get("view_id", "")))
        return web.json_response(_delivery_json(delivery) if delivery else {"ok": True})


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="the body must be JSON") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def _delivery_json(delivery: Delivery) -> JSON:
    return {
        "ok": delivery.ok,
        "kind": delivery.kind,
        "status": delivery.status,
        "error": delivery.error,
        "elapsed_ms": round(delivery.elapsed * 1000, 1),
        "ack": delivery.body,
        "content_type": delivery.content_type,
    }


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The page shows these in a toast; a user or view it names may have gone since it last polled.
    try:
        return await handler(request)
    except NotFound as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=404)
    except web.HTTPBadRequest as exc:
        return web.json_response({"ok": False, "error": exc.text}, status=400)


async def run_playground(
    *, bot_url: str, signing_secret: str, bot_token: str, port: int = 3000, host: str = "127.0.0.1"
) -> None:
    """Serve the playground until cancelled."""
    async with Playground(
        bot_url=bot_url, signing_secret=signing_secret, bot_token=bot_token, port=port, host=host
    ):
        await asyncio.Event().wait()
