"""The fast path: pure acks, the slow work in lazy listeners, bounded by the work limiter.

Busy answers come at once and in the ack where Slack shows it; what a lazy listener raises still
reaches the person through the one error path; a burst of commands cannot exhaust PD's connections.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from conftest import ALICE, BOB, CAROL, E2E, eventually, open_e2e

from bot import texts


def _busy_ephemerals(e2e: E2E, user: str) -> list[str]:
    return [t for t in e2e.ephemeral_texts(user) if "busy" in t]


async def _readyz(e2e: E2E) -> int:
    async with aiohttp.ClientSession() as session, session.get(e2e.bot.ops_url + "/readyz") as answer:
        return answer.status


async def test_with_every_place_taken_commands_clicks_and_submissions_are_told_busy_at_once(
    tmp_path: Path,
) -> None:
    """One slot, no queue, PD hanging: the second command's ack says busy, a click is told busy, a modal
    submission gets busy under its input (and stays open); once PD answers, everything is served."""
    async with open_e2e(tmp_path, WORK_CONCURRENCY="1", WORK_QUEUE="0", PD_TIMEOUT="30") as e2e:
        region, _leader, followers = e2e.region_with_followers()
        card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")
        await eventually(lambda: _slot_free(e2e), limit=30)  # the proposal's job ends after its card
        await e2e.click(CAROL, card, texts.ActionId.REJECT)
        modal = await e2e.fake.wait_for(lambda: e2e.fake.modal(CAROL))
        await e2e.quiesce(quiet=0.2)

        e2e.sim.faults.hang = True
        try:
            first = await e2e.relay.command(ALICE, "status")  # takes the only slot, waits for PD
            assert first.ok and first.body == ""
            second = await e2e.relay.command(BOB, "status")
            assert second.ok  # told busy, not queued behind a PD held past the relay's patience
            assert "busy" in str(second.json() or second.body)
            click = await e2e.click(BOB, card, texts.ActionId.APPROVE)
            assert click.ok and click.body == ""
            await e2e.fake.wait_for(lambda: _busy_ephemerals(e2e, BOB) or None)
            reason = {texts.BlockId.REASON: {texts.INPUT_ACTION: "not now"}}
            submitted = await e2e.relay.submit(CAROL, view_id=modal.id, values=reason)
            ack = submitted.json() or {}
            assert ack.get("response_action") == "errors" and "busy" in str(ack.get("errors"))
            shown = e2e.fake.modal(CAROL)
            assert shown is not None and shown.id == modal.id and texts.BlockId.REASON in shown.errors
        finally:
            e2e.sim.faults.hang = False

        # The first status is answered (with what PD did not say), then the slot is free again.
        await e2e.fake.wait_for(
            lambda: [e for e in e2e.fake.ephemerals(user=ALICE) if e.text.startswith("Cluster status")],
            timeout=30,
        )
        await eventually(lambda: e2e.bot.app is not None and _slot_free(e2e), limit=30)
        again = await e2e.relay.command(BOB, "status")
        assert again.ok and again.body == ""
        await e2e.fake.wait_for(
            lambda: [e for e in e2e.fake.ephemerals(user=BOB) if e.text.startswith("Cluster status")],
            timeout=30,
        )
        submitted = await e2e.relay.submit(CAROL, view_id=modal.id, values=reason)
        assert submitted.ok and submitted.body == ""
        await eventually(lambda: "not now" in str(e2e.card(card).blocks))
        exposition = e2e.bot.metrics.exposition().decode()
        assert 'tikv_chatops_busy_total{kind="command"} 1.0' in exposition
        assert 'tikv_chatops_busy_total{kind="click"} 1.0' in exposition
        assert 'tikv_chatops_busy_total{kind="submission"} 1.0' in exposition


def _slot_free(e2e: E2E) -> bool:
    return e2e.bot.work.depth == 0


async def test_what_a_lazy_listener_raises_reaches_the_clicking_user(
    e2e: E2E, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception after the ack: the click was acked, the person gets the fixed sentence
    (never the exception's text), the log has the traceback."""
    region, _leader, followers = e2e.region_with_followers()
    card = await e2e.propose(ALICE, f"transfer-leader {region} {followers[0]}")

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("internal detail nobody should see")

    monkeypatch.setattr(e2e.bot.operations, "approve", broken)
    click = await e2e.click(BOB, card, texts.ActionId.APPROVE)
    assert click.ok and click.status == 200 and click.body == ""
    answer = await e2e.fake.wait_for(
        lambda: [t for t in e2e.ephemeral_texts(BOB) if "Something went wrong" in t] or None
    )
    assert answer and not any("internal detail" in t for t in e2e.ephemeral_texts(BOB))
    assert "a listener failed" in caplog.text and "internal detail nobody should see" in caplog.text


async def test_a_command_mentioning_payload_reaches_its_lazy_listener_intact(e2e: E2E) -> None:
    """Bolt's copy of the request for the lazy listener keeps the body as parsed (not re-read as empty)."""
    delivery = await e2e.relay.command(ALICE, "help payload")
    assert delivery.ok
    [answer] = await e2e.fake.wait_for(lambda: e2e.ephemeral_texts(ALICE))
    assert "payload" in answer and "Something went wrong" not in answer


async def test_a_burst_of_status_commands_is_bounded_and_pd_stays_usable(tmp_path: Path) -> None:
    """300 concurrent /tikv status: every one acked in time, the excess told busy, each admitted one
    answered; afterwards health is quick and green and no PD read waited for a connection in vain."""
    async with open_e2e(tmp_path, WORK_CONCURRENCY="4", WORK_QUEUE="8") as e2e:
        deliveries = await asyncio.gather(*(e2e.relay.command(ALICE, "status") for _ in range(300)))
        assert all(d.ok for d in deliveries), [d.error for d in deliveries if not d.ok][:3]
        busy = [d for d in deliveries if "busy" in d.body]
        admitted = [d for d in deliveries if d.body == ""]
        assert busy and admitted and len(busy) + len(admitted) == 300

        def answers() -> list[str]:
            return [t for t in e2e.ephemeral_texts(ALICE) if t.startswith("Cluster status")]

        await eventually(lambda: len(answers()) == len(admitted), limit=30)
        await eventually(lambda: e2e.bot.work.depth == 0, limit=30)  # the jobs' tails after answering
        assert await _readyz(e2e) == 200
        exposition = e2e.bot.metrics.exposition().decode()
        assert "PoolTimeout" not in exposition
        assert f'tikv_chatops_busy_total{{kind="command"}} {float(len(busy))}' in exposition
