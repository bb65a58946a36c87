"""The identity facts the bot gathers for ``actions.membership``, and the edit lines on the card."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import bot_samples as samples
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from actions.models import Membership, ParamChange, ProposalEdit
from bot.errors import IdentityRefused
from bot.identity import RequestOrigin, SlackIdentity
from bot.playground.fake_slack import FakeSlack
from bot.playground.limits import check_blocks
from bot.playground.model import DEFAULT_USERS, User
from bot.render.proposal import proposal_card


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    users = (*DEFAULT_USERS, User(id="U0ERIN", name="erin", team_id="T0OTHERORG", is_stranger=True))
    async with FakeSlack(users=users) as slack:
        yield slack


def _client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.token, base_url=fake.api_url)


async def test_the_actor_carries_the_installation_the_person_and_the_request(fake: FakeSlack) -> None:
    """auth.test names the installation (asked once); users.info the person's team and is_stranger."""
    identity = SlackIdentity(_client(fake))
    team = fake.workspace.team.id
    alice = await identity.actor("U0ALICE", RequestOrigin(team_id=team))
    erin = await identity.actor("U0ERIN", RequestOrigin(team_id=team))
    assert alice.membership == Membership(home_team_id=team, user_team_id=team, request_team_id=team)
    assert erin.membership == Membership(
        home_team_id=team, user_team_id="T0OTHERORG", is_stranger=True, request_team_id=team
    )
    await identity.actor("U0CAROL", RequestOrigin(team_id="T0ELSEWHERE"))
    assert len(fake.calls("auth.test")) == 1


async def test_without_auth_test_nobody_is_let_through(fake: FakeSlack) -> None:
    """When the bot cannot learn its own workspace it refuses, and asks again at the next request."""
    fake.fail_next("auth.test", error="invalid_auth", status=200)
    identity = SlackIdentity(_client(fake))
    with pytest.raises(IdentityRefused, match="could not confirm which Slack workspace"):
        await identity.actor("U0ALICE")
    assert (await identity.actor("U0ALICE")).membership is not None


def test_the_card_names_each_editor_and_escapes_what_they_typed() -> None:
    """ "Edited by @bob (revision 2): …" with the diff, the bot's re-check line, and values escaped."""
    base = samples.proposal("set-config leader-schedule-limit 8", revision=3)
    edits = (
        ProposalEdit(
            revision=2,
            editor="U0BOB",
            changes=(ParamChange(name="value", before="8", after="<!channel> 4"),),
            at=samples.NOW,
        ),
        ProposalEdit(revision=3, editor="tikv-chatops/preflight", system=True, at=samples.NOW + timedelta(1)),
    )
    card = proposal_card(base.model_copy(update={"edits": edits}))
    payload = card.payload()
    assert check_blocks(payload["blocks"]) == []
    shown = json.dumps(payload["blocks"], ensure_ascii=False)
    assert "Edited by <@U0BOB> (revision 2): value 8 → &lt;!channel&gt; 4" in shown
    assert "Re-checked by the bot (revision 3)" in shown
    assert "<!channel>" not in shown
