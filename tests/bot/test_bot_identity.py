"""Identity: Slack users become Actors; deactivated accounts, bots and guests are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import IdentityRefused
from bot.identity import SlackIdentity
from bot.playground.fake_slack import FakeSlack
from bot.playground.model import DEFAULT_USERS, User


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    users = (
        *DEFAULT_USERS,
        User(id="U0ROBOT", name="robot", is_bot=True),
        User(id="U0SINGLE", name="sc", is_ultra_restricted=True),
    )
    async with FakeSlack(users=users) as slack:
        yield slack


def _client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.token, base_url=fake.api_url)


async def test_a_member_becomes_an_actor_with_their_groups(fake: FakeSlack) -> None:
    """users.info names the person; usergroups.users.list puts them in the policy's groups."""
    identity = SlackIdentity(_client(fake), groups=["S0OPS"])
    carol = await identity.actor("U0CAROL")
    alice = await identity.actor("U0ALICE")
    assert carol.user_id == "U0CAROL" and carol.name == "carol"
    assert carol.group_ids == frozenset({"S0OPS"})
    assert alice.group_ids == frozenset()
    assert not carol.is_agent


@pytest.mark.parametrize(
    ("user_id", "words"),
    [("U0DAVE", "deactivated"), ("U0ROBOT", "Bots"), ("U0GUEST", "Guest"), ("U0SINGLE", "Guest")],
)
async def test_deleted_bots_and_guests_are_refused(fake: FakeSlack, user_id: str, words: str) -> None:
    """Each kind of account that may not act gets its own clear sentence."""
    identity = SlackIdentity(_client(fake))
    with pytest.raises(IdentityRefused, match=words):
        await identity.actor(user_id)


async def test_an_unknown_user_is_refused_with_slacks_reason(fake: FakeSlack) -> None:
    """users.info's error code is in the refusal, so the person can tell the team."""
    identity = SlackIdentity(_client(fake))
    with pytest.raises(IdentityRefused, match="user_not_found"):
        await identity.actor("U0NOBODY")


async def test_lookups_are_cached_until_the_ttl_passes(fake: FakeSlack) -> None:
    """Repeated clicks cost one users.info and one usergroups.users.list per TTL."""
    now = [0.0]
    identity = SlackIdentity(_client(fake), groups=["S0OPS"], ttl=60, clock=lambda: now[0])
    for _ in range(3):
        await identity.actor("U0CAROL")
    assert len(fake.calls("users.info")) == 1
    assert len(fake.calls("usergroups.users.list")) == 1
    now[0] = 61.0
    await identity.actor("U0CAROL")
    assert len(fake.calls("users.info")) == 2
    assert len(fake.calls("usergroups.users.list")) == 2


async def test_a_failed_group_lookup_grants_nothing(fake: FakeSlack) -> None:
    """When usergroups.users.list fails, the person is in no group (never in more)."""
    fake.fail_next("usergroups.users.list", error="plan_upgrade_required", status=200)
    identity = SlackIdentity(_client(fake), groups=["S0OPS"])
    carol = await identity.actor("U0CAROL")
    assert carol.group_ids == frozenset()


async def test_each_name_users_info_gives_is_handed_on_for_the_audit_export(fake: FakeSlack) -> None:
    """The names the bot sees are passed to ``on_name`` (the store keeps them for exports), once per
    lookup, and a failing keeper does not refuse the person."""
    seen: list[tuple[str, str]] = []

    async def keep(user_id: str, name: str) -> None:
        seen.append((user_id, name))
        raise RuntimeError("disk full")

    identity = SlackIdentity(_client(fake), on_name=keep)
    carol = await identity.actor("U0CAROL")
    await identity.actor("U0CAROL")  # cached: not looked up, not handed on again
    assert carol.name == "carol"
    assert seen == [("U0CAROL", "carol")]
