"""The bot SIGKILLed at three points of an action, then restarted on the same database.

    after approve     the approval and the "about to call PD" row are committed; the write is held
                      in front of PD and never reaches it             -> settled failed, nothing sent
    after the write   PD created the operator; its answer is held     -> settled from PD's operator
    while following   the result is recorded; the operator still runs -> followed again to its end

The bot runs as ``python -m bot``; PD (the simulator, behind a tap that can hold a write) and Slack
(FakeSlack) are served by this test process, so they outlive it. Each point is detected from outside:
the tap holding the write, or the database file read by a connection of the test's own. After the
restart the proposal is settled by the reconciler from PD, PD accepted the write at most once, and the
record is whole: one transition per step, one intent row with one result.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from bot_process import BotProcess, start_bot
from faults_support import (
    ALICE,
    BOB,
    CHANNEL,
    SECRET,
    HoldingTap,
    count_admin_operators,
    eventually,
    healthy_regions,
    model_for_faults,
    read_rows,
)

from bot import texts
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Message
from bot.playground.relay import BotRelay
from pd.simulator import ClusterModel, SimulatorServer
from tests.timing import RELAY_ACK_TIMEOUT

pytestmark = pytest.mark.slow


@dataclass
class World:
    """What outlives the bot: Slack, PD (with the tap in front) and the database file."""

    fake: FakeSlack
    sim: SimulatorServer
    tap: HoldingTap
    db: Path
    operators: list[tuple[str, int]]

    @property
    def model(self) -> ClusterModel:
        return self.sim.model

    def environment(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.fake.api_url,
            "PD_URL": self.tap.url,
            "TIKV_CHATOPS_DB": str(self.db),
            "PROPOSAL_CHANNEL": CHANNEL,
            "PD_TIMEOUT": "2",
            "OPERATOR_POLL_SECONDS": "0.05",
            "OPERATOR_FOLLOW_SECONDS": "20",
            "SWEEP_SECONDS": "3600",
            "AGENT_ENABLED": "false",
        }

    @asynccontextmanager
    async def bot(self) -> AsyncIterator[tuple[BotProcess, BotRelay]]:
        """A bot process and a relay signing requests to it; SIGTERMed on the way out if still alive."""
        process = await start_bot(self.environment())
        try:
            async with BotRelay(
                self.fake, bot_url=process.url, signing_secret=SECRET, ack_timeout=RELAY_ACK_TIMEOUT
            ) as relay:
                yield process, relay
        finally:
            await process.stop()

    def cards(self) -> list[Message]:
        return [m for m in self.fake.messages(CHANNEL) if m.text.startswith("Proposal #")]

    def state(self, proposal_id: int) -> str | None:
        rows = read_rows(self.db, "SELECT state FROM proposals WHERE id = ?", proposal_id)
        return str(rows[0]["state"]) if rows else None

    def result(self, proposal_id: int) -> dict[str, object] | None:
        rows = read_rows(self.db, "SELECT result_json FROM proposals WHERE id = ?", proposal_id)
        return json.loads(rows[0]["result_json"]) if rows and rows[0]["result_json"] else None

    def moves(self, proposal_id: int) -> list[tuple[str | None, str]]:
        rows = read_rows(
            self.db, "SELECT from_state, to_state FROM events WHERE proposal_id = ? ORDER BY id", proposal_id
        )
        return [(r["from_state"], r["to_state"]) for r in rows]

    def intents(self, proposal_id: int) -> list[dict[str, object]]:
        """The audit rows that say "about to call PD" for the proposal, with their results."""
        rows = read_rows(
            self.db,
            "SELECT result_json, executed_at FROM action_log WHERE proposal_id = ? AND caller_id = ?",
            proposal_id,
            f"tikv-chatops/{proposal_id}",
        )
        return [
            {
                "result": json.loads(r["result_json"]) if r["result_json"] else None,
                "executed_at": r["executed_at"],
            }
            for r in rows
        ]

    def writes_reaching_pd(self) -> int:
        """Admin operators PD accepted (every action here creates one)."""
        return len(self.operators)


@asynccontextmanager
async def world(tmp_path: Path, *, step_delay: float = 0.05) -> AsyncIterator[World]:
    model = model_for_faults(step_delay=step_delay)
    operators = count_admin_operators(model)
    async with FakeSlack() as fake, SimulatorServer(model, tick_interval=0.02) as sim:
        tap = HoldingTap(target=sim.url)
        await tap.start()
        try:
            yield World(fake, sim, tap, tmp_path / "chatops.db", operators)
        finally:
            tap.release.set()
            await tap.stop()


async def _propose_and_approve(w: World, relay: BotRelay, text: str) -> tuple[int, Message]:
    """Alice proposes, Bob clicks Approve; returns the proposal id and its card."""
    assert (await relay.command(ALICE, text)).ok
    [card] = await w.fake.wait_for(w.cards, timeout=30)
    proposal_id = int(card.text.split("#", 1)[1].split(" ", 1)[0])
    delivery = await relay.click(
        BOB, action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
    )
    assert delivery.ok, delivery
    return proposal_id, card


def _card_says(w: World, card: Message, state: str) -> Callable[[], bool]:
    return lambda: f"({state})" in w.fake.message(CHANNEL, card.ts).text


def _assert_whole_record(w: World, proposal_id: int, final: str) -> dict[str, object]:
    """One transition per step, ending in ``final``; one intent row, with one result; returns it."""
    assert w.moves(proposal_id) == [
        (None, "pending"),
        ("pending", "approved"),
        ("approved", "executing"),
        ("executing", final),
    ]
    [intent] = w.intents(proposal_id)
    result = intent["result"]
    assert isinstance(result, dict) and result["state"] == final
    assert intent["executed_at"] is not None
    return result


async def test_a_kill_after_approve_before_pd_saw_the_write_settles_failed_and_sends_nothing(
    tmp_path: Path,
) -> None:
    """Killed with the write held in front of PD: on restart PD shows no operator, so the proposal is failed
    with "nothing was resent", the card says so, and PD never receives the write."""
    async with world(tmp_path) as w:
        region, leader, followers = healthy_regions(w.model)[0]
        w.tap.hold_writes = True
        async with w.bot() as (process, relay):
            proposal_id, card = await _propose_and_approve(
                w, relay, f"transfer-leader {region} {followers[0]}"
            )
            await eventually(w.tap.held.wait, limit=30)
            assert w.state(proposal_id) == "executing"
            assert [i["result"] for i in w.intents(proposal_id)] == [None]
            await process.kill()
        w.tap.hold_writes = False
        w.tap.release.set()

        async with w.bot():
            assert w.state(proposal_id) == "failed"  # settled before the restarted bot served
            await w.fake.wait_for(_card_says(w, card, "failed"), timeout=30)
        result = _assert_whole_record(w, proposal_id, "failed")
        assert "Nothing was resent" in str(result["message"])
        assert w.writes_reaching_pd() == 0 and w.model.region(region).leader.store_id == leader


async def test_a_kill_after_the_pd_write_settles_from_the_operator_without_resending(tmp_path: Path) -> None:
    """Killed after PD created the operator but before the bot heard back: on restart the reconciler finds
    PD's operator and records success; the write reached PD exactly once."""
    async with world(tmp_path) as w:
        region, _leader, followers = healthy_regions(w.model)[0]
        w.tap.hold_answers = True
        async with w.bot() as (process, relay):
            proposal_id, card = await _propose_and_approve(
                w, relay, f"transfer-leader {region} {followers[0]}"
            )
            await eventually(w.tap.held.wait, limit=30)
            assert w.writes_reaching_pd() == 1
            assert w.state(proposal_id) == "executing"
            await process.kill()
        w.tap.hold_answers = False
        w.tap.release.set()

        async with w.bot():
            await w.fake.wait_for(_card_says(w, card, "succeeded"), timeout=30)
        result = _assert_whole_record(w, proposal_id, "succeeded")
        assert result["operator"] == "SUCCESS"
        assert w.writes_reaching_pd() == 1 and len(w.tap.writes()) == 1
        assert w.model.region(region).leader.store_id == followers[0]


async def test_a_kill_while_following_the_operator_resumes_following_after_restart(tmp_path: Path) -> None:
    """Killed while the operator still runs (the result says RUNNING): the restarted bot follows it again,
    reports its end in the thread and on the card, and sends nothing."""
    async with world(tmp_path, step_delay=2.0) as w:
        region, _leader, followers = healthy_regions(w.model)[0]
        async with w.bot() as (process, relay):
            proposal_id, card = await _propose_and_approve(
                w, relay, f"transfer-leader {region} {followers[0]}"
            )

            def following() -> bool:
                result = w.result(proposal_id)
                return result is not None and result.get("operator") == "RUNNING"

            await eventually(following, limit=30)
            assert w.state(proposal_id) == "succeeded" and w.model.operators.get(region) is not None
            await process.kill()

        async with w.bot():

            def reported() -> list[Message]:
                return [
                    r
                    for r in w.fake.thread(CHANNEL, card.ts)[1:]
                    if r.text.startswith(f"✅ #{proposal_id} succeeded")
                ]

            [reply] = await w.fake.wait_for(reported, timeout=15)
            assert "PD finished the operator" in reply.text
            await w.fake.wait_for(_card_says(w, card, "succeeded"), timeout=30)
        moves = w.moves(proposal_id)
        assert moves == [
            (None, "pending"),
            ("pending", "approved"),
            ("approved", "executing"),
            ("executing", "succeeded"),
        ]
        [intent] = w.intents(proposal_id)
        assert isinstance(intent["result"], dict) and intent["result"]["operator"] == "SUCCESS"
        assert w.writes_reaching_pd() == 1 and len(w.tap.writes()) == 1
