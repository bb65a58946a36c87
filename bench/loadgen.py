"""A small load generator for Slack-style requests: signed bodies, N concurrent, latency percentiles.

Shared by the ack-latency and approve-latency benchmarks. The client runs in the benchmark process
while the server under test runs in a child process, so the two do not share an event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import aiohttp

from bot.playground.model import Team

# The workspace the fake Slack (bot.playground) plays: the bot refuses requests from any other.
TEAM_ID = Team().id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Where Slack-style replies go; the benchmark points it at its fake Slack (BENCH_RESPONSE_URL).
RESPONSE_URL = os.environ.get("BENCH_RESPONSE_URL", "http://127.0.0.1:9/response")


def signed_headers(
    secret: str, body: bytes, content_type: str = "application/x-www-form-urlencoded"
) -> dict[str, str]:
    """Headers exactly as Slack signs a request: v0 HMAC-SHA256 of ``v0:{ts}:{raw body}``."""
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    text: str, *, user_id: str = "U0ALICE", channel_id: str = "C0OPS", n: int = 0, response_url: str = ""
) -> bytes:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "team_domain": "bench",
            "channel_id": channel_id,
            "channel_name": "ops",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/tikv",
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": response_url or RESPONSE_URL,
            "trigger_id": f"{n}.1.bench",
        }
    ).encode()


def button_click_body(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0BOB",
    channel_id: str = "C0OPS",
    message_ts: str = "1.000100",
    response_url: str = "",
) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0BENCH",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": "1.1.bench",
        "team": {"id": TEAM_ID, "domain": "bench"},
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "ops"},
        "message": {"type": "message", "ts": message_ts, "text": "card", "blocks": []},
        "state": {"values": {}},
        "response_url": response_url or RESPONSE_URL,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "decision",
                "text": {"type": "plain_text", "text": action_id},
                "value": value,
                "type": "button",
                "action_ts": "1.1",
            }
        ],
    }
    return f"payload={quote(json.dumps(payload))}".encode()


@dataclass(frozen=True)
class Latency:
    count: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def summarize(samples: Sequence[float], errors: int) -> Latency:
    ordered = sorted(samples)
    if not ordered:
        return Latency(0, errors, float("nan"), float("nan"), float("nan"))
    p99_index = max(0, min(len(ordered) - 1, round(0.99 * len(ordered)) - 1))
    return Latency(
        count=len(ordered),
        errors=errors,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[p99_index] * 1000,
        max_ms=ordered[-1] * 1000,
    )


async def measure(
    url: str,
    make_body: Callable[[int], bytes],
    *,
    secret: str,
    concurrency: int,
    requests: int,
    warmup: int = 20,
) -> Latency:
    """Send ``requests`` signed POSTs with ``concurrency`` in flight; time until the HTTP answer."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> tuple[float, bool]:
            body = make_body(i)
            headers = signed_headers(secret, body)
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                return time.perf_counter() - started, resp.status == 200

        for i in range(warmup):
            await one(-1 - i)
        samples: list[float] = []
        errors = 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(i)

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                i = queue.get_nowait()
                elapsed, ok = await one(i)
                samples.append(elapsed)
                errors += 0 if ok else 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return summarize(samples, errors)


def start_server(
    module: str,
    *args: str,
    ready_url: str,
    env: dict[str, str] | None = None,
    log: str = os.devnull,
    timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start ``python -m module args`` (extra ``env`` on top of ours) and wait until ``ready_url`` answers."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env={**os.environ, "PYTHONHASHSEED": "0", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{module} exited with {proc.returncode} before it was ready")
        try:
            with socket.create_connection(_host_port(ready_url), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{module} did not start within {timeout} s")


def _host_port(url: str) -> tuple[str, int]:
    hostport = url.split("//", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
