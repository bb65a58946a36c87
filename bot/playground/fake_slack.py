"""A fake Slack Web API on 127.0.0.1 that records every call; the e2e tests and the playground share it.

Point the unchanged bot at it with ``AsyncWebClient(token=…, base_url=fake.url + "/api/")``. It
serves the methods in ``webapi.METHODS`` under ``/api/<method>`` (GET or POST; query string, form
or JSON bodies), the response URLs it hands out under ``/response/actions/<team>/<id>/<secret>`` (the
path of Slack's own), and file upload URLs under
``/upload/<file id>``. Answers have Slack's shapes; ``fail_next`` injects 429s, 5xx and error codes.

Use it standalone (``async with FakeSlack() as fake``) or mounted into another aiohttp app
(``fake.add_routes(app)`` then ``fake.bind(url)`` once that app listens), as the playground does.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from bot.playground import webapi
from bot.playground.errors import MethodError, NotFound, WaitTimeout
from bot.playground.model import (
    DEFAULT_CHANNELS,
    DEFAULT_USERGROUPS,
    DEFAULT_USERS,
    BotIdentity,
    Call,
    Channel,
    Ephemeral,
    Message,
    Team,
    UploadedFile,
    User,
    Usergroup,
    View,
)
from bot.playground.workspace import Workspace

T = TypeVar("T")

DEFAULT_TOKEN = "xoxb-playground"
SCOPES = "chat:write,commands,users:read,usergroups:read,files:write,channels:read"
RESPONSE_URL = "response_url"  # the method name calls to a response URL are recorded under
UPLOAD_URL = "upload_url"  # the method name calls to a file upload URL are recorded under


@dataclass(frozen=True)
class Fault:
    """An answer to give instead of the real one: an HTTP status, Slack's error code, a Retry-After."""

    error: str
    status: int
    retry_after: int | None

    def headers(self) -> dict[str, str]:
        """The Retry-After header a 429 (or a 503) carries."""
        if self.retry_after is None or self.status not in (429, 503):
            return {}
        return {"Retry-After": str(self.retry_after)}


class FakeSlack:
    """The fake Web API: a workspace, the aiohttp routes serving it, the record of calls, fault knobs."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        users: Iterable[User] = DEFAULT_USERS,
        usergroups: Iterable[Usergroup] = DEFAULT_USERGROUPS,
        channels: Iterable[Channel] = DEFAULT_CHANNELS,
        team: Team | None = None,
        bot: BotIdentity | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        trigger_ttl: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.workspace = Workspace(
            team=team or Team(),
            bot=bot or BotIdentity(),
            users=users,
            usergroups=usergroups,
            channels=channels,
            clock=clock,
            trigger_ttl=trigger_ttl,
        )
        self.workspace.on_change = self._wake
        self.app = web.Application()
        self.add_routes(self.app)
        self._calls: list[Call] = []
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._waiters: set[asyncio.Future[None]] = set()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._stopping = False

    # lifecycle

    def add_routes(self, app: web.Application) -> None:
        """Serve the fake's endpoints from ``app`` (its own, or the playground's)."""
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{target}", self._response_url)
        # The shape Slack's own response URLs have (hooks.slack.com/actions/T…/<id>/<secret>).
        app.router.add_post("/response/actions/{team}/{target}/{secret}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)

    def bind(self, url: str) -> None:
        """Say where the fake is reachable, so response and upload URLs point back at it."""
        self._url = url.rstrip("/")
        self.workspace.base_url = self._url

    async def start(self) -> None:
        """Listen on ``host:port`` (a free port when 0)."""
        self._stopping = False
        runner = web.AppRunner(self.app, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.bind(f"http://{self.host}:{port}")

    async def stop(self) -> None:
        """Stop listening and release every ``wait_for``/``changed`` waiter."""
        self._stopping = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The fake's base URL, e.g. ``http://127.0.0.1:40123``; the Web API is under ``/api/``."""
        if self._url is None:
            raise RuntimeError("FakeSlack is not listening yet: start() it or bind() its URL")
        return self._url

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``AsyncWebClient`` (and ``SLACK_API_URL``): ``{url}/api/``."""
        return f"{self.url}/api/"

    # what tests read

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received, in order; only those to ``method`` when given."""
        return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """The channel as people see it (no replies, but broadcasts), oldest first; copies."""
        return [copy.deepcopy(m) for m in self.workspace.top_level(channel)]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """A thread's parent followed by its replies; copies."""
        return [copy.deepcopy(m) for m in self.workspace.thread(channel, ts)]

    def message(self, channel: str, ts: str) -> Message:
        """One message (reply or not) as it is now; ``NotFound`` when there is none."""
        message = self.workspace.find_message(channel, ts)
        if message is None:
            raise NotFound(f"no message {ts} in {channel}")
        return copy.deepcopy(message)

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages (chat.postEphemeral, response URLs, acks shown by the relay); copies."""
        return [copy.deepcopy(e) for e in self.workspace.ephemerals(user, channel)]

    def views(self, user: str | None = None) -> list[View]:
        """Every modal opened (closed ones have ``closed=True``), in order; copies."""
        return [copy.deepcopy(v) for v in self.workspace.views(user)]

    def modal(self, user: str) -> View | None:
        """The modal ``user`` has in front of them, if any; a copy."""
        view = self.workspace.top_view(user)
        return copy.deepcopy(view) if view is not None else None

    def home(self, user: str) -> View | None:
        """The Home tab the bot published for ``user``, if any; a copy."""
        view = self.workspace.home(user)
        return copy.deepcopy(view) if view is not None else None

    def files(self) -> list[UploadedFile]:
        """Every upload started, with its bytes once posted; copies."""
        return [copy.deepcopy(f) for f in self.workspace.files()]

    # what tests arrange

    def fail_next(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with ``error`` and ``status`` instead.

        A 429 (or 503) carries ``Retry-After: retry_after``. Use ``status=200`` for an ``ok: false``
        answer such as ``channel_not_found``, ``status=500``/``503`` for server errors. ``method``
        may also be ``"response_url"`` or ``"upload_url"``.
        """
        for _ in range(times):
            self._faults[method].append(Fault(error=error, status=status, retry_after=retry_after))

    def issue_trigger(self, user: str) -> str:
        """A trigger id for ``user``, as an interaction would carry; ``views.open`` accepts it once."""
        return self.workspace.issue_trigger(user)

    def response_url(
        self,
        channel: str,
        user: str,
        *,
        message_ts: str | None = None,
        ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        """A response URL on the fake for an interaction by ``user`` (on message ``message_ts``)."""
        return self.workspace.response_url(
            channel, user, message_ts=message_ts, ephemeral=ephemeral, thread_ts=thread_ts
        )

    # waiting

    @property
    def version(self) -> int:
        """A counter that grows with every call and every change to the workspace."""
        return self.workspace.version

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def changed(self, since: int, wait: float) -> int:
        """Wait until ``version`` passes ``since``, for ``wait`` seconds at most; the version then."""
        if self.version > since or wait <= 0 or self._stopping:
            return self.version
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, wait)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)
        return self.version

    # A timeout argument rather than asyncio.timeout(): the failure then names the calls seen so far.
    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy and return its value; ``WaitTimeout`` at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(c.method for c in self._calls[-10:]) or "none"
                raise WaitTimeout(f"condition still false after {timeout}s; last calls: {recent}")
            await self.changed(self.version, remaining)

    # HTTP

    def _record(
        self, request: web.Request, method: str, args: dict[str, Any], status: int, response: Any
    ) -> None:
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        self._calls.append(
            Call(
                method=method,
                args=args,
                headers=headers,
                status=status,
                response=response,
                http_method=request.method,
                path=request.path,
                at=asyncio.get_running_loop().time(),
            )
        )
        self.workspace.touch()

    def _fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

    def _auth_error(self, request: web.Request, args: dict[str, Any]) -> str | None:
        header = request.headers.get("Authorization", "")
        # slack_sdk sends the token as a Bearer header; older clients send it as a "token" argument.
        token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else args.pop("token", None)
        if not token:
            return "not_authed"
        if token != self.token:
            return "invalid_auth"
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args = await _read_args(request)
        except MethodError as exc:
            self._record(request, method, {}, 200, {"ok": False, "error": exc.code})
            return web.json_response({"ok": False, "error": exc.code})
        status, headers = 200, {"X-OAuth-Scopes": SCOPES}
        fault = self._fault(method)
        auth_error = None if fault else self._auth_error(request, args)
        body: dict[str, Any]
        if fault is not None:
            status, body = fault.status, {"ok": False, "error": fault.error}
            headers.update(fault.headers())
        elif auth_error is not None:
            body = {"ok": False, "error": auth_error}
        else:
            try:
                body = webapi.call(self.workspace, method, args)
            except MethodError as exc:
                body = {"ok": False, "error": exc.code, **exc.extra}
        self._record(request, method, args, status, body)
        return web.json_response(body, status=status, headers=headers)

    async def _response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        fault = self._fault(RESPONSE_URL)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if fault is not None:
            status, text = fault.status, fault.error
        elif not isinstance(body, dict):
            status, text = 400, "invalid_payload"
        else:
            status, text = self.workspace.respond(request.match_info["target"], body)
        self._record(request, RESPONSE_URL, body if isinstance(body, dict) else {}, status, text)
        return web.Response(status=status, text=text, headers=fault.headers() if fault else None)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        content = await request.read()
        fault = self._fault(UPLOAD_URL)
        if fault is not None:
            status, text = fault.status, fault.error
        else:
            try:
                self.workspace.receive_upload(file_id, content)
                status, text = 200, f"OK - {len(content)}"
            except NotFound:
                status, text = 404, "file_not_found"
        self._record(request, UPLOAD_URL, {"file_id": file_id, "length": len(content)}, status, text)
        return web.Response(status=status, text=text)


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string merged with a form or JSON body; JSON-valued arguments decoded."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return webapi.decode_json_args(args)
    raw = await request.read()
    if raw and request.content_type == "application/json":
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise MethodError("invalid_json") from exc
        if not isinstance(body, dict):
            raise MethodError("json_not_object")
        args.update(body)
    elif raw:
        args.update(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    return webapi.decode_json_args(args)
