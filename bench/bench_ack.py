"""Ack latency of the bot beside a bare Bolt app, approve -> PD write latency, and the bot's RSS.

Four processes, as in production: the PD simulator, the fake Slack Web API (the playground), the
bot under test (or the bare-Bolt baseline) and this load generator. Requests are signed exactly as
Slack signs them and sent over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import loadgen

SECRET = "bench-signing-secret"
TOKEN = "xoxb-playground"
CONCURRENCY = (1, 10, 50)
REQUESTS = int(os.environ.get("BENCH_ACK_REQUESTS", "400"))
APPROVALS = int(os.environ.get("BENCH_APPROVALS", "30"))


@contextmanager
def _process(
    module: str, *args: str, ready_url: str, env: dict[str, str] | None = None, log: str = os.devnull
) -> Iterator[int]:
    proc = loadgen.start_server(module, *args, ready_url=ready_url, env=env, log=log)
    try:
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class RssSampler:
    """Samples a process's RSS every 50 ms in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, loadgen.rss_mib(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _kinds() -> dict[str, Callable[[int], bytes]]:
    return {
        "slash command (/tikv status)": lambda i: loadgen.slash_command_body("status", n=i),
        "button click (Approve, stale card)": lambda i: loadgen.button_click_body("tikv_approve", "999999:1"),
    }


def _measure_all(url: str) -> dict[tuple[str, int], loadgen.Latency]:
    results: dict[tuple[str, int], loadgen.Latency] = {}
    for kind, body in _kinds().items():
        for concurrency in CONCURRENCY:
            results[kind, concurrency] = asyncio.run(
                loadgen.measure(url, body, secret=SECRET, concurrency=concurrency, requests=REQUESTS)
            )
    return results


_CREATE_AT = re.compile(r"createAt:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) \+0000 UTC")


def _go_time(text: str) -> float:
    stamp, _, frac = text.partition(".")
    when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    return when.timestamp() + (float("0." + frac) if frac else 0.0)


def _movable_regions(pd_url: str, count: int) -> list[tuple[int, int]]:
    """Regions whose leader can move to another Up voter, one target store each."""
    stores = httpx.get(f"{pd_url}/pd/api/v1/stores").json()["stores"]
    up = {s["store"]["id"] for s in stores if s["store"]["state_name"] == "Up"}
    regions = httpx.get(f"{pd_url}/pd/api/v1/regions/size", params={"limit": 1000}).json()["regions"]
    picked: list[tuple[int, int]] = []
    for region in regions:
        leader = region["leader"].get("store_id")
        targets = [
            p["store_id"] for p in region.get("peers", []) if p["store_id"] != leader and p["store_id"] in up
        ]
        if leader in up and targets and not region.get("down_peers") and not region.get("pending_peers"):
            picked.append((region["id"], targets[0]))
        if len(picked) == count:
            break
    return picked


def _wait_until_idle(bot_url: str, timeout: float = 120.0) -> None:
    """Let the background work a load left behind finish, so it does not colour the next figure."""
    deadline = time.monotonic() + timeout
    quick = 0
    while time.monotonic() < deadline and quick < 5:
        started = time.perf_counter()
        httpx.get(f"{bot_url}/healthz", timeout=30)
        quick = quick + 1 if time.perf_counter() - started < 0.05 else 0
        time.sleep(0.2)


def _wait_for_proposal(db: Path, proposal_id: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT state FROM proposals WHERE id = ?", (proposal_id,)).fetchone()
        if row and row[0] == "pending":
            return
        time.sleep(0.02)
    raise RuntimeError(f"proposal {proposal_id} did not appear")


def _approve_to_write(bot_url: str, pd_url: str, db: Path) -> list[float]:
    """Seconds from sending Approve until PD created the operator (PD's own createAt)."""
    url = f"{bot_url}/slack/events"
    targets = _movable_regions(pd_url, APPROVALS)
    delays: list[float] = []
    with httpx.Client(timeout=10) as client:
        for number, (region, store) in enumerate(targets, start=1):
            body = loadgen.slash_command_body(
                f"transfer-leader {region} {store}", user_id="U0ALICE", n=number
            )
            client.post(url, content=body, headers=loadgen.signed_headers(SECRET, body)).raise_for_status()
            _wait_for_proposal(db, number)
            click = loadgen.button_click_body("tikv_approve", f"{number}:1", user_id="U0BOB")
            sent = time.time()
            client.post(url, content=click, headers=loadgen.signed_headers(SECRET, click)).raise_for_status()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                status = client.get(f"{pd_url}/pd/api/v1/operators/{region}")
                match = _CREATE_AT.search(status.text) if status.status_code == 200 else None
                if match:
                    delays.append(_go_time(match.group(1)) - sent)
                    break
                time.sleep(0.002)
    return delays


def _table(bare: dict[tuple[str, int], loadgen.Latency], ours: dict[tuple[str, int], loadgen.Latency]) -> str:
    lines = [
        "| request | concurrent | bare Bolt p50 / p99 (ms) | tikv-chatops p50 / p99 (ms) "
        "| p99 ratio | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (kind, concurrency), mine in ours.items():
        base = bare[kind, concurrency]
        lines.append(
            f"| {kind} | {concurrency} | {base.p50_ms:.1f} / {base.p99_ms:.1f} | "
            f"{mine.p50_ms:.1f} / {mine.p99_ms:.1f} | {mine.p99_ms / base.p99_ms:.2f}x | {mine.errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    pd_port, slack_port, bot_port, bare_port = (loadgen.free_port() for _ in range(4))
    pd_url = f"http://127.0.0.1:{pd_port}"
    bot_url = f"http://127.0.0.1:{bot_port}"
    db = workdir / "chatops.db"
    loadgen.RESPONSE_URL = f"http://127.0.0.1:{slack_port}/response/bench"

    with _process(
        "bench.bare_bolt",
        "--port",
        str(bare_port),
        "--secret",
        SECRET,
        ready_url=f"http://127.0.0.1:{bare_port}",
    ):
        bare = _measure_all(f"http://127.0.0.1:{bare_port}/slack/events")

    sim_args = (
        "--port",
        str(pd_port),
        "--members",
        "1",
        "--stores",
        "5",
        "--regions",
        "1000",
        "--step-delay",
        "0.05",
    )
    bot_env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
        "PD_URL": pd_url,
        "PORT": str(bot_port),
        "HOST": "127.0.0.1",
        "TIKV_CHATOPS_DB": str(db),
    }
    with (
        _process("pd.simulator", *sim_args, ready_url=pd_url),
        _process(
            "bot.playground",
            "--port",
            str(slack_port),
            "--bot-url",
            f"{bot_url}/slack/events",
            "--signing-secret",
            SECRET,
            "--bot-token",
            TOKEN,
            ready_url=f"http://127.0.0.1:{slack_port}",
        ),
        _process("bot", ready_url=bot_url, env=bot_env, log=str(workdir / "bot.log")) as bot_pid,
    ):
        time.sleep(1.0)
        idle_rss = loadgen.rss_mib(bot_pid)
        with RssSampler(bot_pid) as sampler:
            ours = _measure_all(f"{bot_url}/slack/events")
        _wait_until_idle(bot_url)
        delays = sorted(_approve_to_write(bot_url, pd_url, db))

    print(f"<!-- logs in {workdir} -->")
    print("## Ack latency: tikv-chatops beside a bare Bolt AsyncApp\n")
    print(
        f"{REQUESTS} signed requests per row over loopback; both apps on aiohttp, default Bolt mode. "
        "Targets: p99 <= 1.5x bare Bolt and < 50 ms at 50 concurrent.\n"
    )
    print(_table(bare, ours))
    print("\n## Approve -> PD write, and memory\n")
    print("| measure | value | target |")
    print("| --- | ---: | ---: |")
    if delays:
        p50 = delays[len(delays) // 2] * 1000
        print(f"| approve click -> PD operator created, p50 of {len(delays)} (ms) | {p50:.1f} | < 30 |")
        print(f"| approve click -> PD operator created, max (ms) | {delays[-1] * 1000:.1f} | |")
    else:
        print("| approve click -> PD operator created | no operator seen | < 30 |")
    print(f"| bot RSS idle (MiB) | {idle_rss:.1f} | < 120 |")
    print(f"| bot RSS peak under load (MiB) | {sampler.peak:.1f} | |")


if __name__ == "__main__":
    main()
