"""Secrets never appear in logs, nor in anything the bot posts to Slack.

Issue requirement: "Secrets never appear in logs (the test captures the logs and searches them for the
tokens)."

The bot runs with distinctive values for every secret it takes (the Slack bot token, the signing
secret, the Anthropic API key; the Slack app token only in Socket Mode, so it is checked through
``Settings``), with every logger at DEBUG (root, Bolt, slack_sdk, aiohttp, httpx, httpcore,
anthropic) into one captured handler, tracebacks included. It is then put through commands, clicks,
an approval that writes PD, refused requests, a Slack API failure, PD down, and the agent's Claude
advisor answering with an error, and the log text and every Slack message are searched for the
secrets. The searches are shown to work: the fake Slack saw the bot token as a Bearer header and the
advisor's stand-in received the API key, so the values were in play.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from faults_support import ALICE, BOB, CHANNEL, HoldingTap, eventually, healthy_regions, settings_for

from bot.main import RunningBot, running
from bot.playground import signing
from bot.playground.fake_slack import FakeSlack
from bot.playground.relay import BotRelay
from bot.settings import Settings
from pd.simulator import SimulatorServer
from pd.simulator.seeded import seeded_model
from tests.timing import RELAY_ACK_TIMEOUT

BOT_TOKEN = "xoxb-4242-SECRETBOTTOKEN-q9v8w7"
SIGNING_SECRET = "SECRETSIGNING-5e1f0c9a7b3d"
APP_TOKEN = "xapp-1-SECRETAPPTOKEN-a1b2c3"
API_KEY = "sk-ant-api03-SECRETAPIKEY-z7y6x5"
SECRETS = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "ANTHROPIC_API_KEY": API_KEY}
# Distinctive middles, so a secret cut, quoted or re-encoded in a log line is still found.
FRAGMENTS = ("SECRETBOTTOKEN", "SECRETSIGNING", "SECRETAPPTOKEN", "SECRETAPIKEY")
LOGGERS = ("", "slack_bolt", "slack_sdk", "aiohttp", "httpx", "httpcore", "anthropic", "bot", "agent", "pd")


def leaks(text: str) -> list[str]:
    """The secrets (whole, or their distinctive middle) found in ``text``."""
    found = [name for name, value in SECRETS.items() if value in text]
    found += [fragment for fragment in FRAGMENTS if fragment in text]
    found += ["Bearer header"] if f"Bearer {BOT_TOKEN}" in text or f"Bearer {API_KEY}" in text else []
    return found


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Every logger named in LOGGERS at DEBUG into one handler, formatted with tracebacks."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in LOGGERS]
    before = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    # A logger that does not propagate would bypass the root's handler: give it the handler too.
    lonely = [lg for lg in loggers[1:] if not lg.propagate]
    for lg in lonely:
        lg.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        for lg in lonely:
            lg.removeHandler(handler)
        for lg, (level, _propagate) in zip(loggers, before, strict=True):
            lg.setLevel(level)


@dataclass
class FailingClaude:
    """A stand-in for Anthropic's API that refuses every call (529 overloaded), recording the keys sent."""

    keys: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _messages(self, request: web.Request) -> web.Response:
        self.keys.append(
            request.headers.get("x-api-key")
            or request.headers.get("Authorization", "").removeprefix("Bearer ")
        )
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return web.json_response(error, status=529)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class SecretEnv:
    fake: FakeSlack
    sim: SimulatorServer
    tap: HoldingTap
    bot: RunningBot
    relay: BotRelay
    claude: FailingClaude
    settings: Settings


@asynccontextmanager
async def secret_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SecretEnv]:
    """The real composition root with the distinctive secrets, the seeded (problematic) cluster so the
    agent asks its advisor at once, and the advisor pointed at ``FailingClaude``."""
    claude = FailingClaude()
    await claude.start()
    # The Anthropic client reads its base URL from the environment when none is given.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude.url)
    model = seeded_model(step_delay=0.05)
    try:
        async with FakeSlack(token=BOT_TOKEN) as fake, SimulatorServer(model, tick_interval=0.02) as sim:
            tap = HoldingTap(target=sim.url)
            await tap.start()
            try:
                settings = settings_for(
                    fake,
                    tap,
                    tmp_path / "chatops.db",
                    SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    ANTHROPIC_API_KEY=API_KEY,
                    AGENT_ENABLED="true",
                    AGENT_INTERVAL="3600",
                    LOG_LEVEL="DEBUG",
                )
                async with (
                    running(settings) as bot,
                    BotRelay(
                        fake, bot_url=bot.url, signing_secret=SIGNING_SECRET, ack_timeout=RELAY_ACK_TIMEOUT
                    ) as relay,
                ):
                    yield SecretEnv(fake, sim, tap, bot, relay, claude, settings)
            finally:
                await tap.stop()
    finally:
        await claude.stop()


def test_settings_repr_and_str_hide_every_secret() -> None:
    """``Settings`` built with every secret (the app token too) shows none of them in repr, str,
    its field values' reprs or a model dump, yet hands the real values out where a client needs them."""
    settings = Settings.load({**SECRETS, "SLACK_APP_TOKEN": APP_TOKEN, "PD_URL": "http://pd:2379"})
    shown = "\n".join(
        [
            repr(settings),
            str(settings),
            f"{settings}",
            repr(settings.model_dump()),
            settings.model_dump_json(),
            *(repr(getattr(settings, name)) for name in type(settings).model_fields),
        ]
    )
    assert not leaks(shown), leaks(shown)
    assert APP_TOKEN[:10] not in shown
    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == BOT_TOKEN
    assert settings.slack_app_token is not None and settings.slack_app_token.get_secret_value() == APP_TOKEN


async def test_no_secret_in_debug_logs_or_slack_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug_log: io.StringIO
) -> None:
    """With every logger at DEBUG, the bot starts, answers commands, a proposal is approved and written
    to PD, a click and a modal fail in their ways, requests with bad signatures are refused, a Slack
    call fails, PD goes down under a command, and the agent's advisor is refused by Claude: neither the
    captured log (tracebacks included) nor any message, ephemeral or modal the bot sent Slack contains
    the bot token, the signing secret or the API key."""
    async with secret_env(tmp_path, monkeypatch) as env:
        logging.getLogger("test").info("startup settings: %r", env.settings)
        # The agent's first cycle asks Claude about the seeded problems; Claude is overloaded.
        await eventually(lambda: env.claude.keys, limit=20)
        assert env.claude.keys[0] == API_KEY  # the key really was in play

        for text in (
            "help",
            "status",
            "region 1",
            "pending",
            "audit",
            "dry-run transfer-leader 1 2",
            "x y z",
        ):
            delivery = await env.relay.command(ALICE, text)
            assert delivery.ok, (text, delivery)
        region, _leader, followers = healthy_regions(env.sim.model)[0]
        before = len(env.fake.messages(CHANNEL))
        await env.relay.command(ALICE, f"transfer-leader {region} {followers[0]}")
        card = await env.fake.wait_for(
            lambda: next(
                (m for m in env.fake.messages(CHANNEL)[before:] if m.text.startswith("Proposal #")), None
            )
        )
        await env.relay.click(BOB, action_id="tikv_approve", channel_id=CHANNEL, message_ts=card.ts)
        await eventually(lambda: env.tap.writes(), limit=30)
        await env.relay.click(
            ALICE, action_id="tikv_approve", channel_id=CHANNEL, message_ts=card.ts, value="abc"
        )
        # A listener fails unexpectedly: its traceback is logged (and searched below).
        real_get = env.bot.operations.get

        async def broken_get(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("a bug in the bot")

        monkeypatch.setattr(env.bot.operations, "get", broken_get)
        proposal_id = card.text.removeprefix("Proposal #").split(" ", 1)[0]
        await env.relay.click(
            ALICE, action_id="tikv_reject", channel_id=CHANNEL, message_ts=card.ts, value=f"{proposal_id}:1"
        )
        await eventually(lambda: "a listener failed" in debug_log.getvalue(), limit=30)
        monkeypatch.setattr(env.bot.operations, "get", real_get)

        # Refused requests: Bolt logs the signature, timestamp and body of each.
        body = b"command=%2Ftikv&text=status&user_id=U0ALICE"
        async with aiohttp.ClientSession() as session:
            for headers in (
                signing.sign_request("wrong-secret", body),
                signing.sign_request(SIGNING_SECRET, body, timestamp=1),
                {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
            ):
                async with session.post(env.relay.bot_url, data=body, headers=headers) as answer:
                    assert answer.status == 401

        # Slack fails a call the bot makes (the card post of a new proposal); then PD goes away.
        env.fake.fail_next("chat.postMessage", error="invalid_auth", status=200)
        env.fake.fail_next("chat.postMessage", error="invalid_auth", status=200)
        await env.relay.command(ALICE, "offline-store 2")
        env.tap.down = True
        await env.relay.command(ALICE, "status")
        await env.relay.command(ALICE, "transfer-leader 3 1")
        await quiesce(env)
        env.tap.down = False

    log = debug_log.getvalue()
    assert "DEBUG slack_sdk" in log and "DEBUG slack_bolt" in log, "the DEBUG logs were not captured"
    assert "Traceback" in log  # the failures were logged with their tracebacks, and searched too
    assert any(call.headers.get("Authorization") == f"Bearer {BOT_TOKEN}" for call in env.fake.calls())
    assert not leaks(log), [line for line in log.splitlines() if leaks(line)][:5]
    posted = "\n".join(repr(call.args) for call in env.fake.calls())
    posted += "\n".join(repr(e) for e in env.fake.ephemerals())
    posted += "\n".join(repr(m) for m in env.fake.messages(CHANNEL))
    assert not leaks(posted), leaks(posted)


async def quiesce(env: SecretEnv, quiet: float = 0.5, limit: float = 15.0) -> None:
    """Until the bot has not talked to Slack for ``quiet`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    version = env.fake.version
    while loop.time() < deadline:
        now = await env.fake.changed(version, quiet)
        if now == version:
            return
        version = now
