"""Serving the simulator: one port per PD member, all over the same model.

``SimulatorServer`` is an async context manager for tests (free ports on 127.0.0.1) and the
object ``serve()`` returns to the composition root and the CLI. A background task calls
``model.tick()`` every ``tick_interval`` seconds; ``faults.member_down(name)`` closes that
member's listening socket (connections are refused) and PD elects the next live member.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType

from aiohttp import web

from pd.simulator.app import build_app
from pd.simulator.faults import Faults
from pd.simulator.model import ClusterModel


class SimulatorServer:
    """The simulated PD cluster served over HTTP."""

    def __init__(
        self,
        model: ClusterModel | None = None,
        *,
        host: str = "127.0.0.1",
        ports: Sequence[int] | None = None,
        tick_interval: float | None = 0.05,
        faults: Faults | None = None,
        shutdown_timeout: float = 0.25,
    ) -> None:
        self.model = model if model is not None else ClusterModel.generate()
        self.faults = faults if faults is not None else Faults(seed=self.model.seed)
        self.host = host
        self.tick_interval = tick_interval
        self._wanted_ports = list(ports) if ports is not None else []
        self._ports: dict[str, int] = {}
        self._runners: dict[str, web.AppRunner] = {}
        self._shutdown_timeout = shutdown_timeout
        self._ticker: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    # -- addresses -------------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        """Base URLs of all members, in member order (``http://127.0.0.1:<port>``)."""
        return [f"http://{self.host}:{self._ports[m.name]}" for m in self.model.members]

    @property
    def url(self) -> str:
        """Base URL of the first member (the initial PD leader)."""
        return self.urls[0]

    def url_of(self, member: str) -> str:
        """Base URL of one member."""
        return f"http://{self.host}:{self._ports[member]}"

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every member's port and start ticking."""
        for index, member in enumerate(self.model.members):
            port = self._wanted_ports[index] if index < len(self._wanted_ports) else 0
            await self._start_member(member.name, port)
        self.faults.subscribe(self._on_member_change)
        if self.tick_interval:
            self._ticker = asyncio.create_task(self._tick_loop(self.tick_interval))

    async def _start_member(self, name: str, port: int) -> None:
        app = build_app(self.model, member=name, faults=self.faults)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, self.host, port, shutdown_timeout=self._shutdown_timeout)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        bound = runner.addresses[0][1]
        self._ports[name] = bound
        self._runners[name] = runner
        member = self.model.member(name)
        member.client_urls = [f"http://{self.host}:{bound}"]

    async def stop_member(self, name: str) -> None:
        """Close a member's port (connections are refused) and mark it dead in the model."""
        self.model.set_member_alive(name, False)
        runner = self._runners.pop(name, None)
        if runner is not None:
            await runner.cleanup()

    async def start_member(self, name: str) -> None:
        """Serve a stopped member again on its old port."""
        if name not in self._runners:
            await self._start_member(name, self._ports[name])
        self.model.set_member_alive(name, True)

    def _on_member_change(self, name: str, down: bool) -> None:
        if down:
            self.model.set_member_alive(name, False)
        task = asyncio.get_running_loop().create_task(
            self.stop_member(name) if down else self.start_member(name)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait until member stops/starts requested through ``faults`` have taken effect."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _tick_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.model.tick()

    async def close(self) -> None:
        """Stop ticking and close every port."""
        self.faults.unsubscribe(self._on_member_change)
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.settle()
        for name in list(self._runners):
            runner = self._runners.pop(name)
            await runner.cleanup()

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def serve(
    model: ClusterModel,
    *,
    host: str = "127.0.0.1",
    port: int = 2379,
    member_ports: Sequence[int] | None = None,
    tick_interval: float | None = 0.25,
    faults: Faults | None = None,
) -> SimulatorServer:
    """Start serving ``model``: the first member on ``port``, the others on ``member_ports``
    (default: free ports). The caller owns the returned server and must ``close()`` it."""
    others = list(member_ports) if member_ports is not None else [0] * (len(model.members) - 1)
    server = SimulatorServer(
        model, host=host, ports=[port, *others], tick_interval=tick_interval, faults=faults
    )
    await server.start()
    return server
