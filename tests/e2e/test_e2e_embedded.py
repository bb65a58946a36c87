"""Nothing configured: the bot starts the seeded PD simulator and the playground, and answers through it."""

from __future__ import annotations

from pathlib import Path

from conftest import ALICE, eventually

from bot.main import running
from bot.settings import Settings


async def test_with_no_configuration_the_playground_and_simulator_stand_in(tmp_path: Path) -> None:
    """`/tikv status` typed on the playground reaches the bot, which reads the embedded PD's problems."""
    settings = Settings.load(
        {
            "HOST": "127.0.0.1",
            "PORT": "0",
            "METRICS_PORT": "0",
            "PLAYGROUND_PORT": "0",
            "TIKV_CHATOPS_DB": str(tmp_path / "x.db"),
        }
    )
    assert not settings.has_slack_credentials and settings.pd_endpoints == ()
    async with running(settings) as bot:
        playground = bot.playground
        assert playground is not None and bot.slack_api_url == playground.api_url
        delivery = await playground.relay.command(ALICE, "status")
        assert delivery.ok and delivery.status == 200  # signed with the secret generated for this run
        [answer] = await eventually(lambda: playground.fake.ephemerals(user=ALICE))
        shown = str(answer.blocks)
        assert "Cluster status" in answer.text
        assert "1 Down" in shown and "store 5" in shown
        assert "auth.test" in {c.method for c in playground.fake.calls()}
