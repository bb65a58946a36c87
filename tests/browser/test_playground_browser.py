"""The whole product as a newcomer meets it: `python -m bot` with nothing configured, driven in Chromium.

One bot process starts the embedded PD simulator, the bot and the playground (exactly what
`make run` does); headless Chromium then uses the playground page as a person would: a dry-run, a
proposal typed by one user, approved by another, and the result read in the card's thread.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STARTUP_BUDGET_S = 60.0

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Product:
    playground_url: str
    bot_url: str
    ops_url: str
    pd_url: str
    startup_seconds: float
    log: Path


def _wait_for_log(log: Path, pattern: str, proc: subprocess.Popen[bytes], deadline: float) -> re.Match[str]:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the bot exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        match = re.search(pattern, log.read_text())
        if match:
            return match
        time.sleep(0.1)
    pytest.fail(f"no {pattern!r} in the bot's log within {STARTUP_BUDGET_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    """`python -m bot` with no Slack and no PD configured: the embedded defaults of `make run`."""
    workdir = tmp_path_factory.mktemp("make-run")
    log = workdir / "bot.log"
    port, playground_port, ops_port = _free_port(), _free_port(), _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "PD_URL", "TIKV_CHATOPS_", "ANTHROPIC_", "PROPOSAL_CHANNEL"))
    }
    env.update(
        PORT=str(port),
        PLAYGROUND_PORT=str(playground_port),
        METRICS_PORT=str(ops_port),
        TIKV_CHATOPS_DB=str(workdir / "chatops.db"),
        HOST="127.0.0.1",
    )
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = started + STARTUP_BUDGET_S
        pd = _wait_for_log(log, r"embedded PD simulator on (http://[\d.:]+)", proc, deadline)
        playground_url = f"http://127.0.0.1:{playground_port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(playground_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the playground did not answer within {STARTUP_BUDGET_S} s")
        yield Product(
            playground_url=playground_url,
            bot_url=f"http://127.0.0.1:{port}",
            ops_url=f"http://127.0.0.1:{ops_port}",
            pd_url=pd.group(1),
            startup_seconds=time.monotonic() - started,
            log=log,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_make_run_serves_the_playground_within_a_minute(product: Product) -> None:
    """From nothing configured to a page that answers, within the 60 s the issue allows."""
    assert product.startup_seconds < STARTUP_BUDGET_S
    assert httpx.get(f"{product.ops_url}/livez", timeout=5).status_code == 200
    deadline = time.monotonic() + 30
    while (ready := httpx.get(f"{product.ops_url}/readyz", timeout=5)).status_code != 200:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.2)
    health = ready.json()
    assert health["ok"] is True
    assert health["pd"]["leader"]


def test_dry_run_propose_and_approve_in_chromium(product: Product) -> None:
    """Alice dry-runs and proposes a leader transfer, Bob approves it, the thread shows SUCCESS."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (make test installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    # The README's own example: region 12's leader moves to store 3 on the cluster `make run` starts.
    region, store = 12, 3
    peers = httpx.get(f"{product.pd_url}/pd/api/v1/region/id/{region}").json()["peers"]
    assert store in {p["store_id"] for p in peers}, "the embedded cluster must make the README true"
    ARTIFACTS.mkdir(exist_ok=True)

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.goto(product.playground_url)
            expect = playwright.expect
            expect(page.get_by_test_id("connection-status")).not_to_have_text("connecting…", timeout=10_000)

            def send(text: str) -> None:
                page.get_by_test_id("composer").fill(text)
                page.get_by_test_id("composer-send").click()

            page.get_by_test_id("user-picker").select_option("U0ALICE")
            send(f"/tikv dry-run transfer-leader {region} {store}")
            # The dry-run answers in the thread of the command: open it and read the pd-ctl line.
            ran = page.get_by_test_id("message").filter(has_text=f"dry-run transfer-leader {region} {store}")
            ran.last.get_by_test_id("thread-link").click(timeout=15_000)
            thread = page.get_by_test_id("thread-panel")
            expect(thread).to_contain_text(f"operator add transfer-leader {region} {store}", timeout=15_000)
            expect(thread).to_contain_text("to_store_id")
            page.screenshot(path=str(ARTIFACTS / "1-dry-run.png"), full_page=True)
            page.get_by_test_id("thread-close").click()

            send(f"/tikv transfer-leader {region} {store}")
            approve_button = page.locator("[data-action-id='tikv_approve']")
            # Her card, not one the agent may post meanwhile about the seeded problems.
            card = (
                page.get_by_test_id("message")
                .filter(has=approve_button)
                .filter(has_text=f"region {region}")
                .last
            )
            expect(card).to_be_visible(timeout=15_000)
            # The card's first reply (the data behind its checks) redraws it: click once it has settled.
            expect(card.get_by_test_id("thread-link")).to_be_visible(timeout=15_000)

            # Alice may not approve her own request: the refusal reaches only her, nothing runs.
            card.locator("[data-action-id='tikv_approve']").click()
            expect(page.get_by_test_id("ephemeral").last).to_contain_text("someone else", timeout=10_000)

            page.get_by_test_id("user-picker").select_option("U0BOB")
            # Bob's Home tab lists the proposal waiting for his approval, with its buttons.
            page.get_by_test_id("home-button").click()
            home = page.get_by_test_id("home-tab")
            expect(home).to_contain_text(f"region {region} to store {store}", timeout=15_000)
            expect(home.locator("[data-action-id='tikv_approve']").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "3-home.png"), full_page=True)
            page.get_by_test_id("channel-button").first.click()
            card = page.get_by_test_id("message").filter(has_text=f"region {region} to store {store}").last
            card.locator("[data-action-id='tikv_approve']").click()
            if page.get_by_test_id("confirm-dialog").is_visible():
                page.get_by_test_id("confirm-ok").click()

            # The card is rewritten in place (no buttons) and the thread carries the outcome.
            expect(card.locator("[data-action-id='tikv_approve']")).to_have_count(0, timeout=15_000)
            card.get_by_test_id("thread-link").click()
            thread = page.get_by_test_id("thread-panel")
            expect(thread).to_contain_text("SUCCESS", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "2-approved.png"), full_page=True)
        finally:
            browser.close()

    region_info = httpx.get(f"{product.pd_url}/pd/api/v1/region/id/{region}").json()
    assert region_info["leader"]["store_id"] == store


@pytest.fixture(autouse=True, scope="module")
def _no_stray_browser_profile() -> Iterator[None]:
    """Playwright makes a temporary profile per launch; make sure a crash leaves none behind."""
    yield
    for leftover in Path("/tmp").glob("playwright_chromiumdev_profile-*"):
        shutil.rmtree(leftover, ignore_errors=True)
