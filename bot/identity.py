"""Who clicked: a Slack user id turned into an ``actions.models.Actor``, or a refusal.

``users.info`` says whether the account may act at all: deactivated accounts, bots and guests
(``is_restricted`` / ``is_ultra_restricted``) are refused. Group membership comes from
``usergroups.users.list`` for the groups the policy names. Both are cached for a TTL (user groups are a
Tier 2 method, about 20 calls a minute); a failed group lookup counts as "not a member" — it can only
take permissions away, never grant them.

It also gathers the facts ``actions.membership`` needs to decide whether the person belongs to the
workspace the app is installed in: the installation's team (and Enterprise Grid organisation) from
``auth.test`` (asked once, lazily, and kept), the person's own team and ``is_stranger`` from
``users.info``, and the team the request came through (``RequestOrigin``, read from the payload).
The Slack fields used are described in docs/identity-and-edits.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actions.models import Actor, Membership
from bot import texts
from bot.errors import IdentityRefused

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    expires: float


class _TTLCache(Generic[T]):
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry[T]] = {}

    def get(self, key: str) -> T | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self._clock():
            return None
        return entry.value

    def put(self, key: str, value: T) -> None:
        self._entries[key] = _Entry(value, self._clock() + self._ttl)


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    """The workspace (and Enterprise Grid organisation) a request says it came from."""

    team_id: str = ""
    enterprise_id: str = ""


@dataclass(frozen=True, slots=True)
class Installation:
    """The workspace the app is installed in, as ``auth.test`` reports it."""

    team_id: str
    enterprise_id: str = ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class SlackIdentity:
    """Resolves Slack users to Actors; one per process, shared by every listener."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        groups: Iterable[str] = (),
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        on_name: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._on_name = on_name  # told each name users.info gives, so the audit export can show it
        self._groups = tuple(sorted(set(groups)))
        self._users: _TTLCache[dict[str, Any]] = _TTLCache(ttl, clock)
        self._members: _TTLCache[frozenset[str]] = _TTLCache(ttl, clock)
        self._locks: dict[str, asyncio.Lock] = {}
        self._installation: Installation | None = None
        self._installation_lock = asyncio.Lock()

    async def actor(self, user_id: str, origin: RequestOrigin | None = None) -> Actor:
        """The Actor for ``user_id``; raises ``IdentityRefused`` (a message for that person).

        ``origin`` (the payload's team) is recorded with the person's own team and the installation's,
        for ``actions.membership`` to judge; None records the request as coming from the installation.
        """
        installation = await self.installation()
        info = await self._user(user_id)
        if info.get("deleted"):
            raise IdentityRefused(texts.IDENTITY_DELETED)
        if info.get("is_bot") or info.get("is_app_user"):
            raise IdentityRefused(texts.IDENTITY_BOT)
        if info.get("is_restricted") or info.get("is_ultra_restricted"):
            raise IdentityRefused(texts.IDENTITY_GUEST)
        profile = info.get("profile") or {}
        name = str(profile.get("display_name") or info.get("real_name") or info.get("name") or user_id)
        group_ids = frozenset([g for g in self._groups if user_id in await self._group_members(g)])
        enterprise_user = info.get("enterprise_user")
        request = origin or RequestOrigin(installation.team_id, installation.enterprise_id)
        membership = Membership(
            home_team_id=installation.team_id,
            home_enterprise_id=installation.enterprise_id,
            user_team_id=_text(info.get("team_id")),
            user_enterprise_id=(
                _text(enterprise_user.get("enterprise_id")) if isinstance(enterprise_user, dict) else ""
            ),
            is_stranger=bool(info.get("is_stranger")),
            request_team_id=request.team_id,
            request_enterprise_id=request.enterprise_id,
        )
        return Actor(user_id=user_id, name=name, group_ids=group_ids, membership=membership)

    async def installation(self) -> Installation:
        """The installation's team, from ``auth.test`` (once; a failure is retried at the next request)."""
        if self._installation is not None:
            return self._installation
        async with self._installation_lock:
            if self._installation is not None:
                return self._installation
            try:
                response = await self._client.auth_test()
            except SlackApiError as exc:
                error = (
                    exc.response.get("error", "unknown error")
                    if exc.response is not None
                    else "unknown error"
                )
                raise IdentityRefused(texts.IDENTITY_NO_WORKSPACE.format(error=error)) from exc
            team_id = _text(response.get("team_id"))
            if not team_id:
                raise IdentityRefused(texts.IDENTITY_NO_WORKSPACE.format(error="no team_id in auth.test"))
            self._installation = Installation(team_id, _text(response.get("enterprise_id")))
            return self._installation

    async def _user(self, user_id: str) -> dict[str, Any]:
        cached = self._users.get(user_id)
        if cached is not None:
            return cached
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            error = (
                exc.response.get("error", "unknown error") if exc.response is not None else "unknown error"
            )
            raise IdentityRefused(texts.IDENTITY_UNKNOWN.format(error=error)) from exc
        info = response.get("user")
        if not isinstance(info, dict):
            raise IdentityRefused(texts.IDENTITY_UNKNOWN.format(error="no user in the answer"))
        self._users.put(user_id, info)
        if self._on_name is not None:
            profile = info.get("profile") or {}
            name = str(profile.get("display_name") or info.get("real_name") or info.get("name") or "")
            if name:
                try:
                    await self._on_name(user_id, name)
                except Exception:  # a name for the export is never worth refusing the person
                    logger.warning("could not keep the name of %s", user_id, exc_info=True)
        return info

    async def _group_members(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None:
            return cached
        # One lookup per group at a time: a burst of clicks must not spend the Tier 2 budget.
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            cached = self._members.get(group_id)
            if cached is not None:
                return cached
            try:
                response = await self._client.usergroups_users_list(usergroup=group_id)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                logger.warning(
                    "usergroups.users.list %s failed (%s); counting nobody as a member", group_id, error
                )
                return frozenset()
            members = frozenset(str(u) for u in response.get("users") or ())
            self._members.put(group_id, members)
            return members
