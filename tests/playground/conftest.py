"""Fixtures for the playground tests: a running fake Slack and a real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.fake_slack import DEFAULT_TOKEN, FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fake Slack listening on a free port of 127.0.0.1."""
    async with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    """slack_sdk's own client, as the bot builds it, aimed at the fake."""
    return AsyncWebClient(token=DEFAULT_TOKEN, base_url=fake.api_url)
