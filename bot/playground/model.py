"""What the fake workspace holds: its people, channels, messages, modals and recorded calls.

Directory entries (team, bot, users, groups, channels) are frozen; messages, ephemerals, views and
files change as the bot calls the Web API, so they are plain dataclasses that only the workspace
mutates. Every record renders itself in Slack's JSON shape with ``to_slack()``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# A fixed creation date keeps every rendered object stable from run to run.
CREATED = 1_730_000_000


@dataclass(frozen=True)
class Team:
    """The one workspace the fake plays."""

    id: str = "T0TIKV"
    domain: str = "tikv-playground"
    name: str = "TiKV Playground"


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot token belongs to, as ``auth.test`` reports it."""

    user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    app_id: str = "A0TIKVOPS"
    name: str = "tikv-chatops"


@dataclass(frozen=True)
class User:
    """A member of the workspace; ``is_restricted`` marks a guest, ``deleted`` a deactivated account.

    ``team_id`` set to another team plays a person of another organisation reaching the workspace
    through a shared channel (Slack Connect); ``is_stranger`` is how ``users.info`` marks such a person.
    """

    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_admin: bool = False
    team_id: str = ""  # the person's own team; "" is the workspace's
    is_stranger: bool = False

    def home_team(self, workspace_team_id: str) -> str:
        return self.team_id or workspace_team_id

    def to_slack(self, team_id: str) -> JSON:
        """The ``user`` object of ``users.info``."""
        team_id = self.home_team(team_id)
        real_name = self.real_name or self.name
        profile: JSON = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": team_id,
        }
        if not self.is_bot:
            profile["email"] = f"{self.name}@example.com"
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": real_name,
            "tz": "Etc/UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": CREATED,
        } | ({"is_stranger": True} if self.is_stranger else {})


@dataclass(frozen=True)
class Usergroup:
    """A user group (``S…``) and its members, as ``usergroups.users.list`` answers them."""

    id: str
    handle: str
    name: str
    members: tuple[str, ...] = ()
    description: str = ""

    def to_slack(self, team_id: str, *, include_users: bool) -> JSON:
        """One entry of ``usergroups.list``; Slack reports ``user_count`` as a string."""
        group: JSON = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": CREATED,
            "date_update": CREATED,
            "date_delete": 0,
            "auto_type": None,
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": str(len(self.members)),
        }
        if include_users:
            group["users"] = list(self.members)
        return group


@dataclass(frozen=True)
class Channel:
    """A conversation the bot may post in; ``is_im`` for the direct messages the fake opens itself."""

    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False

    def to_slack(self) -> JSON:
        """The ``channel`` object of ``conversations.info``."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_mpim": False,
            "is_private": self.is_private or self.is_im,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_member": True,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "created": CREATED,
            "creator": "U0ALICE",
            "name_normalized": self.name,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class Message:
    """A message in a channel's history; a reply has ``thread_ts`` set to its parent's ``ts``."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str
    team: str
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    reply_ts: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)
    edited: JSON | None = None
    attachments: list[JSON] = field(default_factory=list)
    files: list[JSON] = field(default_factory=list)
    metadata: JSON | None = None
    # Wall-clock time it was posted: the page shows it (``ts`` is a reproducible counter, not a time).
    posted_at: float = field(default_factory=time.time)

    @property
    def is_reply(self) -> bool:
        """Whether the message lives in a thread under another message."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def reply_count(self) -> int:
        """How many replies the thread under this message holds."""
        return len(self.reply_ts)

    def to_slack(self) -> JSON:
        """The message as ``conversations.history`` and ``chat.postMessage``'s echo render it."""
        msg: JSON = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": self.team,
        }
        if self.bot_id is not None:
            msg["bot_id"] = self.bot_id
            msg["app_id"] = self.app_id
        if self.blocks:
            msg["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            msg["attachments"] = copy.deepcopy(self.attachments)
        if self.files:
            msg["files"] = copy.deepcopy(self.files)
            msg["upload"] = False
        if self.reply_broadcast:
            msg["subtype"] = "thread_broadcast"
        if self.is_reply:
            msg["thread_ts"] = self.thread_ts
        elif self.reply_ts:
            msg["thread_ts"] = self.ts
            msg["reply_count"] = self.reply_count
            msg["reply_users"] = list(self.reply_users)
            msg["reply_users_count"] = len(self.reply_users)
            msg["latest_reply"] = self.reply_ts[-1]
        if self.edited is not None:
            msg["edited"] = dict(self.edited)
        if self.metadata is not None:
            msg["metadata"] = copy.deepcopy(self.metadata)
        return msg


@dataclass
class Ephemeral:
    """A message only ``user`` sees; ``source`` says who sent it (a Web API call, a response_url, an ack)."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON]
    source: str
    thread_ts: str | None = None
    sender: str = ""
    posted_at: float = field(default_factory=time.time)

    def to_slack(self) -> JSON:
        """The ephemeral as the playground page draws it."""
        data: JSON = {
            "type": "message",
            "ts": self.ts,
            "user": self.sender,
            "text": self.text,
            "source": self.source,
            "is_ephemeral": True,
            "posted_at": self.posted_at,
        }
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        return data


@dataclass
class View:
    """A modal opened for one user; ``errors`` and ``notice`` are what Slack's client shows on it."""

    id: str
    user: str
    team_id: str
    app_id: str
    bot_id: str
    spec: JSON
    hash: str
    root_view_id: str
    trigger_id: str | None = None
    previous_view_id: str | None = None
    state_values: JSON = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None
    closed: bool = False

    @property
    def callback_id(self) -> str:
        """The id Bolt routes ``view_submission`` on."""
        return str(self.spec.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        """The string the bot stored on the view."""
        return str(self.spec.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JSON]:
        """The view's blocks, with Slack's generated block and action ids."""
        blocks: list[JSON] = self.spec.get("blocks", [])
        return blocks

    def to_slack(self) -> JSON:
        """The ``view`` object ``views.open`` answers and a ``view_submission`` carries."""
        spec = copy.deepcopy(self.spec)
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": spec.get("type", "modal"),
            "blocks": spec.get("blocks", []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash,
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


@dataclass
class UploadedFile:
    """A file the bot uploaded: getUploadURLExternal, a POST to the upload URL, completeUploadExternal."""

    id: str
    name: str
    length: int
    title: str = ""
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None

    def to_slack(self, *, user: str, permalink_base: str) -> JSON:
        """The ``file`` object completeUploadExternal answers with."""
        return {
            "id": self.id,
            "created": CREATED,
            "timestamp": CREATED,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "text/plain" if self.snippet_type else "application/octet-stream",
            "filetype": self.snippet_type or "binary",
            "user": user,
            "size": self.length,
            "mode": "hosted",
            "is_external": False,
            "is_public": self.channel is not None,
            "url_private": f"{permalink_base}/files/{self.id}/{self.name}",
            "permalink": f"{permalink_base}/files/{user}/{self.id}/{self.name}",
            "shares": {},
            "channels": [self.channel] if self.channel else [],
        }


@dataclass(frozen=True)
class Call:
    """One request the fake received, in arrival order.

    ``method`` is the Web API method name, or ``"response_url"`` / ``"upload_url"`` for the two
    non-API endpoints. ``args`` merges the query string with the form or JSON body, with the
    JSON-valued arguments (``blocks``, ``view``, ``files``…) decoded.
    """

    method: str
    args: Mapping[str, Any]
    headers: Mapping[str, str]
    status: int
    response: Any
    http_method: str = "POST"
    path: str = ""
    at: float = 0.0  # the event loop's clock when the fake answered it

    @property
    def ok(self) -> bool:
        """Whether the fake answered with success."""
        if isinstance(self.response, Mapping):
            return self.status == 200 and bool(self.response.get("ok"))
        return self.status == 200


PLAYGROUND_CHANNEL = Channel(id="C0OPS", name="tikv-ops")

DEFAULT_USERS: tuple[User, ...] = (
    User(id="U0ALICE", name="alice", real_name="Alice Operator"),
    User(id="U0BOB", name="bob", real_name="Bob Operator"),
    User(id="U0CAROL", name="carol", real_name="Carol Approver"),
    User(id="U0GUEST", name="gus", real_name="Gus Guest", is_restricted=True),
    User(id="U0DAVE", name="dave", real_name="Dave Departed", deleted=True),
)

DEFAULT_USERGROUPS: tuple[Usergroup, ...] = (
    Usergroup(
        id="S0OPS",
        handle="ops",
        name="TiKV approvers",
        members=("U0CAROL",),
        description="May approve changes",
    ),
)

DEFAULT_CHANNELS: tuple[Channel, ...] = (PLAYGROUND_CHANNEL,)
