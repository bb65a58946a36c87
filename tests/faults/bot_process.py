"""The bot as a real process (``python -m bot``), configured only through its environment.

PD (the simulator behind a ``HoldingTap``) and Slack (``FakeSlack``) are served by the test process, so
their state outlives the bot: a SIGKILLed bot is restarted on the same database file and finds PD as it
left it. stderr is collected line by line (the bot logs there) so tests can read what it logged.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0  # importing the bot (Bolt, pydantic, anthropic) takes seconds on a busy CI core


def free_port() -> int:
    """A port nothing listens on right now (the kernel's choice for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    """One ``python -m bot`` child: its URL, its stderr lines, and how to stop it."""

    process: asyncio.subprocess.Process
    url: str
    ops_url: str
    stderr: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.stderr.append(line.decode(errors="replace"))

    async def wait_ready(self) -> None:
        """Until ``/livez`` answers (the bot reconciles at start, then serves)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log}")
                try:
                    async with session.get(self.ops_url + "/livez") as answer:
                        if answer.status in (200, 503):
                            return
                except aiohttp.ClientError:
                    pass
                if loop.time() > deadline:
                    raise AssertionError(f"the bot did not serve within {START_TIMEOUT}s:\n{self.log}")
                await asyncio.sleep(0.05)

    @property
    def log(self) -> str:
        return "".join(self.stderr)

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        assert self.process.returncode == -signal.SIGKILL
        await self._drain()

    async def stop(self) -> None:
        """SIGTERM, as a supervisor stops it; the bot closes everything and exits 0."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self._drain()

    async def _drain(self) -> None:
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)


async def start_bot(env: dict[str, str]) -> BotProcess:
    """Start ``python -m bot`` with ``env`` added to this process's environment; return once it serves."""
    port, ops_port = free_port(), free_port()
    child_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_PORT": str(ops_port),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=ROOT,
        env=child_env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = BotProcess(process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ops_port}")
    bot._reader = asyncio.create_task(bot._read())
    try:
        await bot.wait_ready()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return bot
