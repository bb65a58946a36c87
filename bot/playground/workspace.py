"""The fake workspace's state and the operations the Web API methods and the playground apply to it.

No HTTP here: ``webapi`` maps Web API arguments onto these operations and ``fake_slack`` serves
them. Ids, ``ts`` values, trigger ids and hashes come from counters, so a run is reproducible:
``ts`` starts at ``1730000000.000100`` and grows by 100 µs per message, unique across channels.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.playground.errors import MethodError, NotFound
from bot.playground.model import (
    JSON,
    BotIdentity,
    Channel,
    Ephemeral,
    Message,
    Team,
    UploadedFile,
    User,
    Usergroup,
    View,
)

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TS_START = 1_730_000_000_000_100  # microseconds
_TS_STEP = 100
VIEW_STACK_LIMIT = 3  # views.push refuses a fourth modal
RESPONSE_URL_USES = 5  # "up to 5 times within 30 minutes"
RESPONSE_URL_TTL = 30 * 60.0


@dataclass
class _Trigger:
    user: str
    issued: float
    used: bool = False


@dataclass
class _ResponseTarget:
    channel: str
    user: str
    created: float
    message_ts: str | None = None
    ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


def _short_id(n: int) -> str:
    # Slack's generated block and action ids are short mixed-case strings such as "hspI"; multiplying
    # by an odd number prime to 31 permutes 0..62**4-1, so the ids look scattered yet never collide.
    size = len(_ALPHABET)
    n = (n * 2654435761) % size**4
    chars = []
    for _ in range(4):
        n, rest = divmod(n, size)
        chars.append(_ALPHABET[rest])
    return "".join(chars)


def _elements(block: Mapping[str, Any]) -> Iterator[JSON]:
    """The interactive elements of one block: actions' elements, an accessory, an input's element."""
    for element in block.get("elements", []) if block.get("type") == "actions" else []:
        if isinstance(element, dict):
            yield element
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict):
            yield element


def find_element(
    blocks: Iterable[Mapping[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[str, JSON]:
    """The first element with ``action_id`` (in ``block_id`` when given) and its block's id."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id")), element
    where = f" in block {block_id!r}" if block_id else ""
    raise NotFound(f"no element with action_id {action_id!r}{where}")


class Workspace:
    """Users, groups, channels with histories and threads, ephemerals, modals, files, response URLs."""

    def __init__(
        self,
        *,
        team: Team,
        bot: BotIdentity,
        users: Iterable[User],
        usergroups: Iterable[Usergroup],
        channels: Iterable[Channel],
        clock: Callable[[], float],
        trigger_ttl: float = 3.0,
    ) -> None:
        self.team = team
        self.bot = bot
        self.base_url = ""
        self.version = 0
        self.on_change: Callable[[], None] | None = None
        self._clock = clock
        self._trigger_ttl = trigger_ttl
        self._users = {user.id: user for user in users}
        self._users.setdefault(bot.user_id, User(id=bot.user_id, name=bot.name, is_bot=True))
        self._groups = {group.id: group for group in usergroups}
        self._channels = {channel.id: channel for channel in channels}
        self._history: dict[str, list[Message]] = {channel: [] for channel in self._channels}
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}  # user -> the view id of their published Home tab
        self._triggers: dict[str, _Trigger] = {}
        self._responses: dict[str, _ResponseTarget] = {}
        self._files: dict[str, UploadedFile] = {}
        self._ts = _TS_START
        self._seq = 0

    # ids and change notification

    def next_ts(self) -> str:
        """A fresh message timestamp, later than every one handed out before."""
        self._ts += _TS_STEP
        seconds, micros = divmod(self._ts, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-style id such as ``V00000001A``."""
        self._seq += 1
        return f"{prefix}{self._seq:09X}"

    def _short(self) -> str:
        self._seq += 1
        return _short_id(self._seq)

    def touch(self) -> None:
        """Record that something observable changed, and tell the listener."""
        self.version += 1
        if self.on_change is not None:
            self.on_change()

    # directory

    @property
    def users(self) -> tuple[User, ...]:
        """Every user, the bot's own user included."""
        return tuple(self._users.values())

    @property
    def usergroups(self) -> tuple[Usergroup, ...]:
        """Every user group."""
        return tuple(self._groups.values())

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every channel, direct messages the bot opened included."""
        return tuple(self._channels.values())

    def find_user(self, user_id: str) -> User | None:
        """The user with this id, if there is one."""
        return self._users.get(user_id)

    def add_user(self, user: User) -> None:
        """Add (or replace) a person, e.g. one from another organisation in a shared channel."""
        self._users[user.id] = user
        self.touch()

    def user(self, user_id: str) -> User:
        """The user with this id; ``NotFound`` otherwise."""
        user = self._users.get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    def usergroup(self, group_id: str) -> Usergroup | None:
        """The user group with this id, if there is one."""
        return self._groups.get(group_id)

    def channel(self, ref: str) -> Channel | None:
        """A channel by id, by name (``tikv-ops`` or ``#tikv-ops``), or a user id's direct message."""
        if ref in self._channels:
            return self._channels[ref]
        name = ref.removeprefix("#")
        for channel in self._channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        user = self._users.get(ref)
        if user is not None and not user.deleted:
            # Posting to a user id opens the direct message with them, as Slack does.
            dm = Channel(id="D" + user.id[1:], name=user.id, is_im=True)
            self._channels.setdefault(dm.id, dm)
            self._history.setdefault(dm.id, [])
            return self._channels[dm.id]
        return None

    # messages

    def _with_ids(self, blocks: Iterable[Mapping[str, Any]]) -> list[JSON]:
        # Slack fills in a block_id for every block and an action_id for every element without one.
        filled = copy.deepcopy([dict(block) for block in blocks])
        for block in filled:
            block.setdefault("block_id", self._short())
            for element in _elements(block):
                if element.get("type") not in ("image", "plain_text", "mrkdwn"):
                    element.setdefault("action_id", self._short())
        return filled

    def post(
        self,
        channel: Channel,
        *,
        text: str,
        blocks: Iterable[Mapping[str, Any]] = (),
        user: str | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        attachments: Iterable[JSON] = (),
        files: Iterable[JSON] = (),
        metadata: JSON | None = None,
    ) -> Message:
        """Append a message (by the bot unless ``user`` is given); a ``thread_ts`` makes it a reply."""
        by_bot = user is None
        parent = self.find_message(channel.id, thread_ts) if thread_ts is not None else None
        if parent is not None and parent.is_reply:
            # A reply to a reply lands in the same thread, under the thread's parent.
            parent = self.find_message(channel.id, str(parent.thread_ts))
            thread_ts = parent.ts if parent is not None else thread_ts
        message = Message(
            channel=channel.id,
            ts=self.next_ts(),
            text=text,
            blocks=self._with_ids(blocks),
            user=self.bot.user_id if user is None else user,
            team=self.team.id,
            bot_id=self.bot.bot_id if by_bot else None,
            app_id=self.bot.app_id if by_bot else None,
            thread_ts=thread_ts,
            reply_broadcast=reply_broadcast and thread_ts is not None,
            attachments=copy.deepcopy(list(attachments)),
            files=copy.deepcopy(list(files)),
            metadata=copy.deepcopy(metadata),
        )
        if parent is not None:
            parent.reply_ts.append(message.ts)
            if message.user not in parent.reply_users:
                parent.reply_users.append(message.user)
        self._history.setdefault(channel.id, []).append(message)
        self.touch()
        return message

    def find_message(self, channel: str, ts: str) -> Message | None:
        """The message with this ``ts`` in this channel, replies included."""
        for message in self._history.get(channel, []):
            if message.ts == ts:
                return message
        return None

    def edit(
        self,
        message: Message,
        *,
        text: str,
        blocks: Iterable[Mapping[str, Any]],
        attachments: Iterable[JSON] | None = None,
        metadata: JSON | None = None,
    ) -> None:
        """Rewrite a message in place; blocks not resent are gone, as with ``chat.update``."""
        message.text = text
        message.blocks = self._with_ids(blocks)
        if attachments is not None:
            message.attachments = copy.deepcopy(list(attachments))
        if metadata is not None:
            message.metadata = copy.deepcopy(metadata)
        message.edited = {"user": self.bot.user_id, "ts": self.next_ts()}
        self.touch()

    def delete(self, message: Message) -> None:
        """Remove a message from its channel; its replies stay in the thread."""
        self._history[message.channel].remove(message)
        self.touch()

    def top_level(self, channel: str) -> list[Message]:
        """What the channel shows: messages that are not replies, plus replies broadcast to it."""
        return [m for m in self._history.get(channel, []) if not m.is_reply or m.reply_broadcast]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent then its replies, in order, as ``conversations.replies`` lists them."""
        history = self._history.get(channel, [])
        parent = [m for m in history if m.ts == ts]
        return parent + [m for m in history if m.is_reply and m.thread_ts == ts]

    # ephemerals

    def add_ephemeral(
        self,
        channel: str,
        user: str,
        *,
        text: str,
        blocks: Iterable[Mapping[str, Any]] = (),
        source: str,
        thread_ts: str | None = None,
        sender: str | None = None,
    ) -> Ephemeral:
        """Show ``user`` a message nobody else sees."""
        ephemeral = Ephemeral(
            channel=channel,
            user=user,
            ts=self.next_ts(),
            text=text,
            blocks=self._with_ids(blocks),
            source=source,
            thread_ts=thread_ts,
            sender=self.bot.user_id if sender is None else sender,
        )
        self._ephemerals.append(ephemeral)
        self.touch()
        return ephemeral

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        """Ephemerals in order, for one user and channel when given."""
        return [
            e
            for e in self._ephemerals
            if (user is None or e.user == user) and (channel is None or e.channel == channel)
        ]

    def find_ephemeral(self, user: str, ts: str) -> Ephemeral | None:
        """The ephemeral ``user`` sees with this ``ts``."""
        return next((e for e in self._ephemerals if e.user == user and e.ts == ts), None)

    # triggers

    def issue_trigger(self, user: str) -> str:
        """A trigger id for an interaction by ``user``; it works once, within the trigger TTL."""
        self._seq += 1
        digest = hashlib.sha256(f"{self.team.id}:{self._seq}".encode()).hexdigest()[:21]
        trigger_id = f"{self._seq}.{int(self._clock())}.{digest}"
        self._triggers[trigger_id] = _Trigger(user=user, issued=self._clock())
        return trigger_id

    def exchange_trigger(self, trigger_id: str) -> str:
        """Use a trigger id up and return its user; Slack's error codes when it cannot be used."""
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise MethodError("invalid_trigger_id")
        if trigger.used:
            raise MethodError("exchanged_trigger_id")
        if self._clock() - trigger.issued > self._trigger_ttl:
            raise MethodError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    # views

    def _new_hash(self) -> str:
        self._seq += 1
        return f"{int(self._clock())}.{hashlib.sha256(str(self._seq).encode()).hexdigest()[:8]}"

    def open_view(self, user: str, spec: Mapping[str, Any], *, trigger_id: str | None, push: bool) -> View:
        """Open a modal for ``user``: a fresh stack with ``views.open``, on top of it with ``views.push``."""
        stack = self._stacks.setdefault(user, [])
        if push and len(stack) >= VIEW_STACK_LIMIT:
            raise MethodError("push_limit_reached")
        if not push:
            self.clear_views(user, notify=False)
            stack = self._stacks.setdefault(user, [])
        previous = stack[-1] if stack else None
        view_id = self.new_id("V")
        view = View(
            id=view_id,
            user=user,
            team_id=self.team.id,
            app_id=self.bot.app_id,
            bot_id=self.bot.bot_id,
            spec={**copy.deepcopy(dict(spec)), "blocks": self._with_ids(spec.get("blocks", []))},
            hash=self._new_hash(),
            root_view_id=stack[0] if stack else view_id,
            trigger_id=trigger_id,
            previous_view_id=previous,
        )
        self._views[view_id] = view
        stack.append(view_id)
        self.touch()
        return view

    def publish_home(self, user: str, spec: Mapping[str, Any]) -> View:
        """``views.publish``: the user's Home tab, replaced whole (it keeps its view id)."""
        view_id = self._homes.get(user) or self.new_id("V")
        view = View(
            id=view_id,
            user=user,
            team_id=self.team.id,
            app_id=self.bot.app_id,
            bot_id=self.bot.bot_id,
            spec={**copy.deepcopy(dict(spec)), "blocks": self._with_ids(spec.get("blocks", []))},
            hash=self._new_hash(),
            root_view_id=view_id,
        )
        self._views[view_id] = view
        self._homes[user] = view_id
        self.touch()
        return view

    def home(self, user: str) -> View | None:
        """The Home tab published for ``user``, if any."""
        view_id = self._homes.get(user)
        return self._views[view_id] if view_id is not None else None

    def update_view(self, view: View, spec: Mapping[str, Any]) -> View:
        """Replace a view's content; what the user typed survives where block and action ids stay."""
        blocks = self._with_ids(spec.get("blocks", []))
        kept = {
            block_id: {
                action_id: value
                for action_id, value in actions.items()
                if _has_element(blocks, block_id, action_id)
            }
            for block_id, actions in view.state_values.items()
        }
        view.spec = {**copy.deepcopy(dict(spec)), "blocks": blocks}
        view.state_values = {block_id: actions for block_id, actions in kept.items() if actions}
        view.hash = self._new_hash()
        view.errors = {}
        view.notice = None
        self.touch()
        return view

    def find_view(self, view_id: str | None = None, external_id: str | None = None) -> View | None:
        """A view by id or by the bot's ``external_id``."""
        if view_id is not None:
            return self._views.get(view_id)
        return next(
            (v for v in self._views.values() if external_id and v.spec.get("external_id") == external_id),
            None,
        )

    def view(self, view_id: str) -> View:
        """The view with this id; ``NotFound`` otherwise."""
        view = self._views.get(view_id)
        if view is None:
            raise NotFound(f"no view {view_id!r}")
        return view

    def top_view(self, user: str) -> View | None:
        """The modal ``user`` is looking at, if any."""
        stack = self._stacks.get(user, [])
        return self._views[stack[-1]] if stack else None

    def close_view(self, view: View) -> None:
        """Close a view and any pushed on top of it."""
        stack = self._stacks.get(view.user, [])
        if view.id in stack:
            for view_id in stack[stack.index(view.id) :]:
                self._views[view_id].closed = True
            del stack[stack.index(view.id) :]
        view.closed = True
        self.touch()

    def clear_views(self, user: str, *, notify: bool = True) -> None:
        """Close every modal ``user`` has open."""
        for view_id in self._stacks.pop(user, []):
            self._views[view_id].closed = True
        if notify:
            self.touch()

    def views(self, user: str | None = None) -> list[View]:
        """Every view ever opened, in order, for one user when given."""
        return [v for v in self._views.values() if user is None or v.user == user]

    # response_url

    def response_url(
        self,
        channel: str,
        user: str,
        *,
        message_ts: str | None = None,
        ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        """A response URL on the fake for one interaction; ``message_ts`` names the source message."""
        target_id = self.new_id("R")
        self._responses[target_id] = _ResponseTarget(
            channel=channel,
            user=user,
            created=self._clock(),
            message_ts=message_ts,
            ephemeral=ephemeral,
            thread_ts=thread_ts,
        )
        # Shaped like Slack's (https://hooks.slack.com/actions/T…/<id>/<secret>), so whatever treats
        # those as secrets (the bot's log redaction) treats these alike.
        secret = hashlib.sha256(f"{target_id}:{self._seq}".encode()).hexdigest()[:24]
        return f"{self.base_url}/response/actions/{self.team.id}/{target_id}/{secret}"

    def respond(self, target_id: str, body: Mapping[str, Any]) -> tuple[int, str]:
        """Apply a response_url post; the HTTP status and plain-text body Slack answers with."""
        target = self._responses.get(target_id)
        if target is None or self._clock() - target.created > RESPONSE_URL_TTL:
            return 404, "expired_url"
        if target.uses >= RESPONSE_URL_USES:
            return 404, "used_url"
        target.uses += 1
        text = str(body.get("text") or "")
        blocks = body.get("blocks") or []
        if not isinstance(blocks, list):
            return 400, "invalid_blocks"
        source = self._response_source(target)
        if body.get("delete_original") is True:
            if source is None:
                return 404, "message_not_found"
            self._remove(source)
            return 200, "ok"
        if not text and not blocks:
            return 400, "no_text"
        if body.get("replace_original") is True and source is not None:
            if isinstance(source, Message):
                self.edit(source, text=text, blocks=blocks)
            else:
                source.text, source.blocks = text, self._with_ids(blocks)
                self.touch()
            return 200, "ok"
        thread_ts = body.get("thread_ts") or target.thread_ts
        channel = self._channels.get(target.channel)
        if body.get("response_type") == "in_channel" and channel is not None:
            self.post(channel, text=text, blocks=blocks, thread_ts=thread_ts)
        else:
            self.add_ephemeral(
                target.channel,
                target.user,
                text=text,
                blocks=blocks,
                source="response_url",
                thread_ts=thread_ts,
            )
        return 200, "ok"

    def _response_source(self, target: _ResponseTarget) -> Message | Ephemeral | None:
        if target.message_ts is None:
            return None
        if target.ephemeral:
            return self.find_ephemeral(target.user, target.message_ts)
        return self.find_message(target.channel, target.message_ts)

    def _remove(self, source: Message | Ephemeral) -> None:
        if isinstance(source, Message):
            self.delete(source)
        else:
            self._ephemerals.remove(source)
            self.touch()

    # files

    def start_upload(
        self, filename: str, length: int, *, alt_txt: str | None = None, snippet_type: str | None = None
    ) -> UploadedFile:
        """Reserve a file id and its upload URL (``files.getUploadURLExternal``)."""
        upload = UploadedFile(
            id=self.new_id("F"), name=filename, length=length, alt_txt=alt_txt, snippet_type=snippet_type
        )
        self._files[upload.id] = upload
        return upload

    def upload_url(self, upload: UploadedFile) -> str:
        """Where the file's bytes go, on the fake."""
        return f"{self.base_url}/upload/{upload.id}"

    def receive_upload(self, file_id: str, content: bytes) -> UploadedFile:
        """Store the bytes posted to a file's upload URL."""
        upload = self._files.get(file_id)
        if upload is None:
            raise NotFound(f"no upload {file_id!r}")
        upload.content = content
        upload.length = len(content)
        self.touch()
        return upload

    def complete_uploads(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        channel: Channel | None,
        thread_ts: str | None,
        initial_comment: str | None,
    ) -> list[UploadedFile]:
        """Finish uploads and share them to a channel (as one message) when one is named."""
        done: list[UploadedFile] = []
        for item in items:
            upload = self._files.get(str(item.get("id")))
            if upload is None or upload.content is None:
                raise MethodError("file_not_found")
            upload.title = str(item.get("title") or upload.name)
            done.append(upload)
        for upload in done:
            upload.completed = True
            upload.channel = channel.id if channel else None
            upload.thread_ts = thread_ts
            upload.initial_comment = initial_comment
        if channel is not None:
            files = [self.file_json(upload) for upload in done]
            self.post(channel, text=initial_comment or "", files=files, thread_ts=thread_ts)
        else:
            self.touch()
        return done

    def file_json(self, upload: UploadedFile) -> JSON:
        """The file object Slack answers with."""
        return upload.to_slack(user=self.bot.user_id, permalink_base=f"https://{self.team.domain}.slack.com")

    def files(self) -> list[UploadedFile]:
        """Every upload started, in order."""
        return list(self._files.values())


def _has_element(blocks: Iterable[Mapping[str, Any]], block_id: str, action_id: str) -> bool:
    try:
        find_element(blocks, action_id, block_id)
    except NotFound:
        return False
    return True
