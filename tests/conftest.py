"""Suite-wide fixtures: keep every test hermetic (no real environment leaks into settings, no
logging set-up outlives its test)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["pg"]  # a session PostgreSQL for the tests that need one

_PREFIXES = (
    "SLACK_",
    "PD_URL",
    "TIKV_CHATOPS_",
    "ANTHROPIC_",
    "PROPOSAL_CHANNEL",
    "PORT",
    "METRICS_PORT",
    "READY_PROBE_SECONDS",
    "LOG_",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the bot's configuration variables so a developer's shell cannot change a test."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger back as it was after each test.

    ``tikv-chatops serve`` configures logging with a handler on the ``sys.stderr`` of the moment,
    which under pytest is the test's capture stream; left on the root, every later log line hit a
    closed file and printed ``--- Logging error ---`` into the run.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
