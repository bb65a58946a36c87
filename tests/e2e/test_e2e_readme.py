"""The README's examples, typed as written on the cluster `make run` starts (the embedded simulator).

Every ``/tikv …`` the README shows is sent through the playground as Slack would send it (signed);
placeholders in the command synopsis get ids that exist on the embedded cluster. The headline example
is then taken to its end: Alice proposes ``transfer-leader 12 3``, Bob approves, PD moves the leader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from conftest import ALICE, BOB, CHANNEL, eventually

from bot import texts
from bot.main import running
from bot.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
# Ids standing in for the synopsis' placeholders: they exist on the embedded cluster.
PLACEHOLDERS = {"R": "12", "S": "3", "N": "5", "T": "1"}
FAILURE_MARKS = ("Usage:", "🚫", "PD could not", "did not answer", "does not know", "Something went wrong")


def readme_commands() -> list[str]:
    """The text after ``/tikv`` of every command the README shows, synopses expanded."""
    found: list[str] = []
    for span in re.findall(r"`/tikv ([^`]*)`", README.read_text(encoding="utf-8")):
        if "<" in span:
            continue  # `/tikv <action> <args>`: a shape, shown by the concrete examples
        if "|" not in span:
            found.append(span)
            continue
        # `help | status | region R | … | audit [N|region R|…]`: each alternative, optional parts dropped.
        for alternative in re.split(r" \| ", re.sub(r"\s*\[[^\]]*\]", "", span)):
            words = [PLACEHOLDERS.get(w, w) for w in alternative.split()]
            found.append(" ".join(words))
    return list(dict.fromkeys(found))


def _text(blocks: Any) -> str:
    return str(blocks)


def _answers(fake: Any) -> list[Any]:
    """What the bot answered Alice through response URLs (not the relay's echo of an ack)."""
    return [e for e in fake.ephemerals(user=ALICE) if e.source == "response_url"]


def test_the_readme_commands_are_found() -> None:
    """The extraction sees the headline example, the reads and the expanded synopsis."""
    commands = readme_commands()
    assert "dry-run transfer-leader 12 3" in commands and "transfer-leader 12 3" in commands
    assert {"status", "region 12", "store 3", "pending", "audit", "config show schedule", "members"} <= set(
        commands
    )


async def test_every_readme_command_works_on_the_embedded_cluster(tmp_path: Path) -> None:
    """Each README command answers without a refusal; the headline proposal moves region 12's leader to 3."""
    settings = Settings.load(
        {"HOST": "127.0.0.1", "PORT": "0", "PLAYGROUND_PORT": "0", "TIKV_CHATOPS_DB": str(tmp_path / "x.db")}
    )
    async with running(settings) as bot:
        playground = bot.playground
        fake = playground.fake
        proposal_text = "transfer-leader 12 3"
        for command in readme_commands():
            if command == proposal_text:
                continue  # proposed below, and approved
            before_eph = len(_answers(fake))
            before_msgs = len(fake.messages(CHANNEL))
            delivery = await playground.relay.command(ALICE, command)
            assert delivery.ok, (command, delivery)
            if command.startswith("dry-run"):
                header = await eventually(
                    lambda since=before_msgs: [
                        m for m in fake.messages(CHANNEL)[since:] if m.text.startswith(f"<@{ALICE}> ran")
                    ],
                    limit=20,
                )
                parent = header[-1].ts
                replies = await eventually(
                    lambda ts=parent: len(fake.thread(CHANNEL, ts)) >= 3 and fake.thread(CHANNEL, ts)[1:],
                    limit=20,
                )
                shown = _text(replies[0].blocks)
                assert "would be accepted now" in shown, (command, shown)
                assert replies[1].text.startswith("🔎")  # the data behind the checks, not inline
                continue
            answers = await eventually(lambda since=before_eph: _answers(fake)[since:], limit=20)
            shown = answers[-1].text + _text(answers[-1].blocks)
            assert not any(mark in shown for mark in FAILURE_MARKS), (command, shown)

        # The headline: propose, another person approves, PD moves the leader.
        before = len(fake.messages(CHANNEL))
        assert (await playground.relay.command(ALICE, proposal_text)).ok
        card = (
            await eventually(
                lambda: [
                    m
                    for m in fake.messages(CHANNEL)[before:]
                    if m.text.startswith("Proposal #") and "region 12 to store 3" in m.text
                ],
                limit=20,
            )
        )[-1]
        assert f"<@{ALICE}>" in _text(card.blocks)
        delivery = await playground.relay.click(
            BOB, action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
        )
        assert delivery.ok

        async def leader_of_12() -> int | None:
            async with httpx.AsyncClient() as http:
                answer = await http.get(f"{bot.pd_url}/pd/api/v1/region/id/12")
            store = answer.json()["leader"]["store_id"]
            return store if store == 3 else None

        assert await eventually(leader_of_12, limit=30) == 3
        succeeded = await eventually(
            lambda: "Succeeded" in _text(fake.message(CHANNEL, card.ts).blocks), limit=30
        )
        assert succeeded
