"""Suite-wide fixtures: keep every test hermetic (no real environment leaks into settings)."""

from __future__ import annotations

import os

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
