"""The agent inside the running bot: it reads the seeded PD, posts its cards in the channel, and they work."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from conftest import ALICE, BOB, CHANNEL, eventually, open_e2e

from actions.models import ActionType, Proposal, ProposalState, Source
from bot import texts
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import Ephemeral, Message
from pd.observer import AGENT_CALLER_ID
from pd.simulator import ClusterModel
from pd.simulator.seeded import DOWN_STORE, IMBALANCED_STORE, PAUSED_SCHEDULER, seeded_model


def _shown(message: Message | Ephemeral) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def _leader(model: ClusterModel, region_id: int) -> int | None:
    leader = model.region(region_id).leader
    return leader.store_id if leader is not None else None


def _agent_cards(fake: FakeSlack) -> list[Message]:
    return [
        m for m in fake.messages(CHANNEL) if m.text.startswith("Proposal #") and "(the agent)" in _shown(m)
    ]


async def test_the_agents_cards_for_the_seeded_problems_appear_and_can_be_approved(tmp_path: Path) -> None:
    """Store 1 leads half the regions because balance-leader-scheduler was paused and forgotten: the agent
    proposes resuming it (not moving one leader by hand), with the finding and PD's evidence on the card;
    Bob approves and PD resumes it. Store 5, down past max-store-down-time, gets no evict-leader; /tikv
    status lists it as an open finding."""
    model = seeded_model(step_delay=0.05)
    async with open_e2e(tmp_path, model=model, AGENT_ENABLED="true", AGENT_INTERVAL="3600") as e2e:
        bot, fake, relay, tap = e2e.bot, e2e.fake, e2e.relay, e2e.tap
        assert bot.agent is not None
        cards = await fake.wait_for(lambda: c if len(c := _agent_cards(fake)) >= 1 else None, timeout=30)

        async def carded() -> list[Proposal] | None:
            # The store learns a card's ts just after Slack does.
            found = await bot.store.list_proposals(limit=50)
            return found if found and all(p.message_ts for p in found) else None

        proposals = {p.request.action: p for p in await eventually(carded)}
        assert set(proposals) == {ActionType.RESUME_SCHEDULER}
        assert all(p.request.source is Source.AGENT and p.channel == CHANNEL for p in proposals.values())
        resume = proposals[ActionType.RESUME_SCHEDULER]
        assert resume.request.params == {"scheduler": PAUSED_SCHEDULER}

        card = next(c for c in cards if c.ts == resume.message_ts)
        shown = _shown(card)
        assert "Finding:" in shown and f"scheduler-paused:{PAUSED_SCHEDULER}" in shown
        assert "Why:" in shown and "•" in shown  # the rationale and its evidence, fact by fact
        assert any(b.get("type") == "actions" for b in card.blocks)  # Approve / Reject / Edit
        # The agent read PD under its own caller id and wrote nothing.
        assert any(s.caller_id == AGENT_CALLER_ID for s in tap.seen)
        assert tap.writes() == []

        delivery = await relay.click(
            BOB, action_id=texts.ActionId.APPROVE, channel_id=CHANNEL, message_ts=card.ts
        )
        assert delivery.ok
        await eventually(lambda: not model.schedulers.paused(), limit=30)

        async def succeeded() -> Proposal | None:
            proposal = await bot.operations.get(resume.id)
            return proposal if proposal.state is ProposalState.SUCCEEDED else None

        await eventually(succeeded, limit=30)
        await eventually(lambda: "Succeeded" in _shown(fake.message(CHANNEL, card.ts)))

        assert (await relay.command(ALICE, "status")).ok
        [status] = await fake.wait_for(lambda: fake.ephemerals(user=ALICE))
        shown = _shown(status)
        assert "Open findings" in shown and f"Store {DOWN_STORE} has been down" in shown
        assert f"store {IMBALANCED_STORE} leads" in shown
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "agent"]  # stopped with the bot
