"""``HttpHop``: a transparent HTTP hop in front of a PD (the simulator, in tests and benchmarks).

Every request is read whole and relayed to ``target`` with its method, path, query, headers (less
the hop-by-hop ones) and body; PD's answer comes back as it was, compressed bytes included. A
subclass overrides ``_forward`` to look at, delay, hold or drop a request, and calls ``relay`` to
pass it on.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from aiohttp import web

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


@dataclass
class HttpHop:
    """Relays everything to ``target``; ``url`` is where to send requests once started."""

    target: str
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        return await self.relay(request, await request.read())

    async def relay(self, request: web.Request, body: bytes) -> web.Response:
        """Send ``request`` (whose ``body`` was read already) to ``target`` and return PD's answer."""
        assert self._session is not None, "start() the hop first"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method, self.target + request.path_qs, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=answer.status, body=payload, headers=kept)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
