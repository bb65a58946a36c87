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
import statistics
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
ROUNDS = int(os.environ.get("BENCH_ACK_ROUNDS", "3"))


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


def _measure(url: str, kind: str, concurrency: int) -> loadgen.Latency:
    body = _kinds()[kind]
    return asyncio.run(loadgen.measure(url, body, secret=SECRET, concurrency=concurrency, requests=REQUESTS))


def _median(rounds: list[loadgen.Latency]) -> loadgen.Latency:
    """The median p50 and p99 of the rounds (this machine's noise moves single rounds by 2x)."""
    return loadgen.Latency(
        count=sum(r.count for r in rounds),
        errors=sum(r.errors for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        max_ms=max(r.max_ms for r in rounds),
    )


def _interleaved(urls: dict[str, str], settle: Callable[[str], None]) -> dict[str, Results]:
    """Every row measured on every app in turn, ROUNDS times, so drift on the machine hits all alike."""
    samples: dict[str, dict[tuple[str, int], list[loadgen.Latency]]] = {name: {} for name in urls}
    for _round in range(ROUNDS):
        for kind in _kinds():
            for concurrency in CONCURRENCY:
                for name, url in urls.items():
                    samples[name].setdefault((kind, concurrency), []).append(_measure(url, kind, concurrency))
                    settle(name)
    return {name: {row: _median(r) for row, r in rows.items()} for name, rows in samples.items()}


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


_WORK_DEPTH = re.compile(r"^tikv_chatops_work_depth (\S+)$", re.MULTILINE)


def _wait_until_idle(ops_url: str, timeout: float = 60.0) -> None:
    """Let the background work a load left behind finish, so it does not colour the next figure: the
    bot's own work-depth gauge reads 0 three times in a row."""
    deadline = time.monotonic() + timeout
    idle = 0
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline and idle < 3:
            match = _WORK_DEPTH.search(client.get(f"{ops_url}/metrics").text)
            idle = idle + 1 if match and float(match.group(1)) == 0 else 0
            time.sleep(0.1)


def _latest_proposal(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM proposals").fetchone()
    return int(row[0])


def _wait_for_proposal(db: Path, after: int, timeout: float = 30.0) -> int:
    """The id of the first pending proposal newer than ``after`` (the one the command just made)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute(
                "SELECT id FROM proposals WHERE id > ? AND state = 'pending' ORDER BY id LIMIT 1", (after,)
            ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.02)
    raise RuntimeError(f"no proposal after #{after} appeared")


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
            latest = _latest_proposal(db)
            client.post(url, content=body, headers=loadgen.signed_headers(SECRET, body)).raise_for_status()
            proposal_id = _wait_for_proposal(db, latest)
            click = loadgen.button_click_body("tikv_approve", f"{proposal_id}:1", user_id="U0BOB")
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


Results = dict[tuple[str, int], loadgen.Latency]


def _table(bare: Results, bare_pbr: Results, ours: Results) -> str:
    lines = [
        "| request | concurrent | bare Bolt, default mode p50 / p99 (ms) "
        "| bare Bolt, process_before_response p50 / p99 (ms) | tikv-chatops p50 / p99 (ms) "
        "| p99 ratio to default-mode bare | p99 ratio to the faster bare | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (kind, concurrency), mine in ours.items():
        slow, fast = bare[kind, concurrency], bare_pbr[kind, concurrency]
        faster = min(slow.p99_ms, fast.p99_ms)
        lines.append(
            f"| {kind} | {concurrency} | {slow.p50_ms:.1f} / {slow.p99_ms:.1f} "
            f"| {fast.p50_ms:.1f} / {fast.p99_ms:.1f} "
            f"| {mine.p50_ms:.1f} / {mine.p99_ms:.1f} | {mine.p99_ms / slow.p99_ms:.2f}x "
            f"| {mine.p99_ms / faster:.2f}x | {mine.errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    pd_port, slack_port, bot_port, bare_port, pbr_port, sink_port, ops_port = (
        loadgen.free_port() for _ in range(7)
    )
    pd_url = f"http://127.0.0.1:{pd_port}"
    bot_url = f"http://127.0.0.1:{bot_port}"
    ops_url = f"http://127.0.0.1:{ops_port}"  # /livez, /readyz, /metrics
    db = workdir / "chatops.db"
    # Replies to a response URL go to a sink that answers as Slack does (the load generator's
    # requests carry no response URL the fake Slack issued).
    loadgen.RESPONSE_URL = f"http://127.0.0.1:{sink_port}/response/bench"

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
        "METRICS_PORT": str(ops_port),
        "HOST": "127.0.0.1",
        "TIKV_CHATOPS_DB": str(db),
        # The agent's cycles would land at random points of the measurement; bench_agent measures them.
        "AGENT_ENABLED": "false",
    }
    bare_url, pbr_url = (f"http://127.0.0.1:{port}" for port in (bare_port, pbr_port))
    bare_args = ("--secret", SECRET)
    with (
        _process("bench.bare_bolt", "--port", str(bare_port), *bare_args, ready_url=bare_url),
        _process(
            "bench.bare_bolt",
            "--port",
            str(pbr_port),
            *bare_args,
            "--process-before-response",
            ready_url=pbr_url,
        ),
        _process("pd.simulator", *sim_args, ready_url=pd_url),
        _process("bench.sink", "--port", str(sink_port), ready_url=f"http://127.0.0.1:{sink_port}"),
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
        _process("bot", ready_url=f"{ops_url}/livez", env=bot_env, log=str(workdir / "bot.log")) as bot_pid,
    ):
        time.sleep(1.0)
        idle_rss = loadgen.rss_mib(bot_pid)
        urls = {
            "bare": f"{bare_url}/slack/events",
            "pbr": f"{pbr_url}/slack/events",
            "ours": f"{bot_url}/slack/events",
        }

        def settle(name: str) -> None:
            if name == "ours":  # the work the load left behind must not colour the next figure
                _wait_until_idle(ops_url)

        with RssSampler(bot_pid) as sampler:
            results = _interleaved(urls, settle)
        bare, bare_pbr, ours = results["bare"], results["pbr"], results["ours"]
        delays = sorted(_approve_to_write(bot_url, pd_url, db))

    print(f"<!-- logs in {workdir} -->")
    print("## Ack latency: tikv-chatops beside a bare Bolt AsyncApp\n")
    print(
        f"{REQUESTS} signed requests per row and app, over loopback; median p50 and p99 of {ROUNDS} rounds, "
        "the three apps measured in turn within each round. All apps on aiohttp. The bare apps only ack; "
        "the bot acks the same way (process_before_response) and then does the request's work in a "
        "lazy listener on the same event loop (status reads PD and answers; a stale Approve reads the "
        "store and answers through the response URL). "
        "Targets: p99 <= 1.5x bare Bolt and < 50 ms at 50 concurrent.\n"
    )
    print(_table(bare, bare_pbr, ours))
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
