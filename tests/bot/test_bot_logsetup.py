"""Logging: secrets and response URLs are redacted on every logger at every level; LOG_FORMAT=json."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logsetup import REDACTED, configure_logging, install_redaction, redact
from bot.settings import Settings

RESPONSE_URL = "https://hooks.slack.com/actions/T0TIKV/1234567890123/Abc123SecretPart"
COMMANDS_URL = "https://hooks.slack.com/commands/T0TIKV/9876543210/ZyxSecretToo"
BOT_TOKEN = "xoxb-1234-5678-SECRETBOTTOKEN"
APP_TOKEN = "xapp-1-A0TIKV-SECRETAPPTOKEN"
USER_TOKEN = "xoxp-99-SECRETUSERTOKEN"
API_KEY = "sk-ant-api03-SECRETAPIKEY_x-y"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
SETTINGS = Settings.load(
    {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ANTHROPIC_API_KEY": API_KEY,
        "LOG_LEVEL": "DEBUG",
    }
)
EVERYTHING = (RESPONSE_URL, COMMANDS_URL, BOT_TOKEN, APP_TOKEN, USER_TOKEN, API_KEY, SIGNING_SECRET)


# The loggers _emit_everywhere writes to. Bolt gives its app logger the root's level of the moment the
# app is made, so a test that built an app earlier would leave it at WARNING, and its DEBUG line unsaid.
EMITTERS = (
    "slack_sdk.webhook.async_client",
    "slack_bolt.AsyncApp",
    "slack_sdk.socket_mode",
    "bot",
    "anthropic._base_client",
    "bot.listeners",
)


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in EMITTERS}
    for name in EMITTERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)


def _emit_everywhere() -> None:
    """Lines the way slack_sdk, Bolt and the bot log them, with a traceback carrying secrets too."""
    logging.getLogger("slack_sdk.webhook.async_client").debug(
        "Sending a request - url: %s, body: %s, headers: %s",
        RESPONSE_URL,
        {"text": "hi"},
        {"Authorization": f"Bearer {BOT_TOKEN}"},
    )
    logging.getLogger("slack_bolt.AsyncApp").debug(
        "payload: %s", json.dumps({"response_url": COMMANDS_URL, "token": "x"})
    )
    logging.getLogger("slack_sdk.socket_mode").info("connecting with %s", APP_TOKEN)
    logging.getLogger("bot").warning("form body: response_url=%s&user_token=%s", COMMANDS_URL, USER_TOKEN)
    logging.getLogger("anthropic._base_client").debug("key %s secret %s", API_KEY, SIGNING_SECRET)
    try:
        raise RuntimeError(f"failed posting to {RESPONSE_URL} with {BOT_TOKEN}")
    except RuntimeError:
        logging.getLogger("bot.listeners").exception("a listener failed")


def test_every_secret_and_response_url_is_redacted_at_debug_in_text_lines(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(SETTINGS)
    _emit_everywhere()
    log = capsys.readouterr().err
    assert "DEBUG slack_sdk.webhook.async_client" in log and "Traceback" in log
    assert [secret for secret in EVERYTHING if secret in log] == []
    assert "SECRET" not in log and "Abc123" not in log and "ZyxSecret" not in log
    assert REDACTED in log and "a listener failed" in log


def test_log_format_json_gives_one_object_a_line_redacted(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(SETTINGS.model_copy(update={"log_format": "json"}))
    _emit_everywhere()
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(entries) == 6
    assert {e["logger"] for e in entries} >= {"slack_sdk.webhook.async_client", "bot.listeners"}
    assert set(entries[0]) >= {"time", "level", "logger", "message"}
    assert "Traceback" in entries[-1]["exception"]
    assert [secret for secret in EVERYTHING if any(secret in line for line in lines)] == []


def test_a_handler_added_before_start_is_redacted_too(restore_root: None) -> None:
    """``install_redaction`` (the composition root calls it) covers handlers already on the root."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        install_redaction([SIGNING_SECRET])
        _emit_everywhere()
    finally:
        logging.getLogger().removeHandler(handler)
    assert [secret for secret in EVERYTHING if secret in captured.getvalue()] == []


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "POST http://127.0.0.1:2379/pd/api/v1/operators -> 200; store 3 leads region 12 (xoxo)"
    assert redact(text) == text


def test_redaction_is_linear_in_the_line_length() -> None:
    """A long line of path segments (a fuzzed command, a body) is redacted at once, not backtracked over."""
    import time

    started = time.perf_counter()
    for line in ("/ab" * 30_000, "/actions/" * 20_000, "x" * 100_000, "response_url=" * 10_000):
        redact(line)
    assert time.perf_counter() - started < 5.0  # about 0.1 s; a backtracking pattern takes minutes
