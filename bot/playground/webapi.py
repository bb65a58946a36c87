"""The Web API methods the fake answers: Slack's argument names in, Slack's response shapes out.

``call(workspace, method, args)`` returns the success body or raises ``MethodError`` with Slack's
error code; ``fake_slack`` turns that into ``{"ok": false, "error": …}``. Arguments arrive merged
from the query string and the form or JSON body, JSON-valued ones already decoded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from bot.playground import limits
from bot.playground.errors import MethodError
from bot.playground.model import JSON, Channel, Message
from bot.playground.workspace import Workspace

Args = Mapping[str, Any]
Handler = Callable[[Workspace, Args], JSON]

# chat.postMessage truncates past 40,000 characters; chat.update refuses past 4,000 (§4).
POST_TEXT_LIMIT = 40_000
UPDATE_TEXT_LIMIT = 4_000
# Arguments that hold JSON; a form-encoded request carries them as JSON strings.
JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata", "users")


def decode_json_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` with JSON-string arguments decoded; undecodable ones are left as they came."""
    decoded = dict(args)
    for name in JSON_ARGS:
        value = decoded.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                decoded[name] = json.loads(value)
            except ValueError:
                pass  # the method answers invalid_blocks_format / invalid_arguments for it
    return decoded


def _str(args: Args, name: str) -> str | None:
    value = args.get(name)
    return None if value is None or value == "" else str(value)


def _flag(args: Args, name: str) -> bool:
    value = args.get(name)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _channel(ws: Workspace, args: Args, name: str = "channel") -> Channel:
    ref = _str(args, name)
    channel = ws.channel(ref) if ref else None
    if channel is None:
        raise MethodError("channel_not_found")
    return channel


def _blocks(args: Args) -> list[JSON]:
    blocks = args.get("blocks")
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        raise MethodError("invalid_blocks_format")
    problems = limits.check_blocks(blocks)
    if problems:
        raise MethodError("invalid_blocks", errors=problems, response_metadata=_messages(problems))
    return blocks


def _messages(problems: list[str]) -> JSON:
    return {"messages": [f"[ERROR] {problem}" for problem in problems]}


def _text(args: Args, limit: int) -> str:
    text = str(args.get("text") or "")
    if len(text) > limit:
        raise MethodError("msg_too_long")
    return text


def _list(args: Args, name: str) -> list[JSON]:
    value = args.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MethodError("invalid_arguments")
    return value


def _message_reply(message: Message) -> JSON:
    return {"ok": True, "channel": message.channel, "ts": message.ts, "message": message.to_slack()}


def api_test(ws: Workspace, args: Args) -> JSON:
    return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}


def auth_test(ws: Workspace, args: Args) -> JSON:
    return {
        "ok": True,
        "url": f"https://{ws.team.domain}.slack.com/",
        "team": ws.team.name,
        "user": ws.bot.name,
        "team_id": ws.team.id,
        "user_id": ws.bot.user_id,
        "bot_id": ws.bot.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    if channel.is_archived:
        raise MethodError("is_archived")
    text = _text(args, POST_TEXT_LIMIT)
    blocks = _blocks(args)
    attachments = _list(args, "attachments")
    if not text and not blocks and not attachments:
        raise MethodError("no_text")
    message = ws.post(
        channel,
        text=text,
        blocks=blocks,
        thread_ts=_str(args, "thread_ts"),
        reply_broadcast=_flag(args, "reply_broadcast"),
        attachments=attachments,
        metadata=args.get("metadata") if isinstance(args.get("metadata"), dict) else None,
    )
    return _message_reply(message)


def _own_message(ws: Workspace, channel: Channel, ts: str | None) -> Message:
    message = ws.find_message(channel.id, ts) if ts else None
    if message is None:
        raise MethodError("message_not_found")
    if message.bot_id != ws.bot.bot_id:
        raise MethodError("cant_update_message")
    return message


def chat_update(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    message = _own_message(ws, channel, _str(args, "ts"))
    text = _text(args, UPDATE_TEXT_LIMIT)
    blocks = _blocks(args)
    if not text and not blocks and args.get("attachments") is None:
        raise MethodError("no_text")
    attachments = _list(args, "attachments") if "attachments" in args else None
    metadata = args.get("metadata") if isinstance(args.get("metadata"), dict) else None
    ws.edit(message, text=text, blocks=blocks, attachments=attachments, metadata=metadata)
    return {**_message_reply(message), "text": message.text}


def chat_delete(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    message = _own_message(ws, channel, _str(args, "ts"))
    ws.delete(message)
    return {"ok": True, "channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    user = ws.find_user(_str(args, "user") or "")
    if user is None or user.deleted or user.is_bot:
        raise MethodError("user_not_in_channel")
    text = _text(args, POST_TEXT_LIMIT)
    blocks = _blocks(args)
    if not text and not blocks and not _list(args, "attachments"):
        raise MethodError("no_text")
    ephemeral = ws.add_ephemeral(
        channel.id,
        user.id,
        text=text,
        blocks=blocks,
        source="chat.postEphemeral",
        thread_ts=_str(args, "thread_ts"),
    )
    return {"ok": True, "message_ts": ephemeral.ts}


def chat_get_permalink(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    message = ws.find_message(channel.id, _str(args, "message_ts") or "")
    if message is None:
        raise MethodError("message_not_found")
    permalink = f"https://{ws.team.domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        permalink += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": permalink}


def conversations_info(ws: Workspace, args: Args) -> JSON:
    return {"ok": True, "channel": _channel(ws, args).to_slack()}


def conversations_history(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    limit = int(args["limit"]) if str(args.get("limit", "")).isdigit() else 100
    messages = [m.to_slack() for m in reversed(ws.top_level(channel.id))][:limit]
    return {
        "ok": True,
        "messages": messages,
        "has_more": False,
        "pin_count": 0,
        "response_metadata": {"next_cursor": ""},
    }


def conversations_replies(ws: Workspace, args: Args) -> JSON:
    channel = _channel(ws, args)
    thread = ws.thread(channel.id, _str(args, "ts") or "")
    if not thread:
        raise MethodError("thread_not_found")
    return {"ok": True, "messages": [m.to_slack() for m in thread], "has_more": False}


def _view_spec(args: Args) -> JSON:
    view = args.get("view")
    if not isinstance(view, dict):
        raise MethodError(
            "invalid_arguments", response_metadata=_messages(["must be a view object [json-pointer:/view]"])
        )
    problems = limits.check_view(view)
    if problems:
        raise MethodError("invalid_arguments", response_metadata=_messages(problems))
    return view


def _open(ws: Workspace, args: Args, *, push: bool) -> JSON:
    trigger_id = _str(args, "trigger_id")
    if trigger_id is None:
        raise MethodError(
            "invalid_arguments", response_metadata=_messages(["missing required field: trigger_id"])
        )
    spec = _view_spec(args)
    user = ws.exchange_trigger(trigger_id)
    view = ws.open_view(user, spec, trigger_id=trigger_id, push=push)
    return {"ok": True, "view": view.to_slack()}


def views_open(ws: Workspace, args: Args) -> JSON:
    return _open(ws, args, push=False)


def views_push(ws: Workspace, args: Args) -> JSON:
    return _open(ws, args, push=True)


def views_publish(ws: Workspace, args: Args) -> JSON:
    user = _str(args, "user_id")
    if user is None:
        raise MethodError(
            "invalid_arguments", response_metadata=_messages(["missing required field: user_id"])
        )
    spec = _view_spec(args)
    if spec.get("type") != "home":
        raise MethodError("invalid_arguments", response_metadata=_messages(["must be a home view"]))
    if ws.find_user(user) is None:
        raise MethodError("user_not_found")
    return {"ok": True, "view": ws.publish_home(user, spec).to_slack()}


def views_update(ws: Workspace, args: Args) -> JSON:
    view_id, external_id = _str(args, "view_id"), _str(args, "external_id")
    if view_id is None and external_id is None:
        raise MethodError(
            "invalid_arguments", response_metadata=_messages(["must provide view_id or external_id"])
        )
    view = ws.find_view(view_id, external_id)
    if view is None or view.closed:
        raise MethodError("not_found")
    expected = _str(args, "hash")
    if expected is not None and expected != view.hash:
        raise MethodError("hash_conflict")
    ws.update_view(view, _view_spec(args))
    return {"ok": True, "view": view.to_slack()}


def users_info(ws: Workspace, args: Args) -> JSON:
    user = ws.find_user(_str(args, "user") or "")
    if user is None:
        raise MethodError("user_not_found")
    return {"ok": True, "user": user.to_slack(ws.team.id)}


def users_list(ws: Workspace, args: Args) -> JSON:
    members = [user.to_slack(ws.team.id) for user in ws.users]
    return {"ok": True, "members": members, "cache_ts": 0, "response_metadata": {"next_cursor": ""}}


def usergroups_users_list(ws: Workspace, args: Args) -> JSON:
    group = ws.usergroup(_str(args, "usergroup") or "")
    if group is None:
        raise MethodError("no_such_subteam")
    return {"ok": True, "users": list(group.members)}


def usergroups_list(ws: Workspace, args: Args) -> JSON:
    include_users = _flag(args, "include_users")
    return {
        "ok": True,
        "usergroups": [g.to_slack(ws.team.id, include_users=include_users) for g in ws.usergroups],
    }


def files_get_upload_url_external(ws: Workspace, args: Args) -> JSON:
    filename = _str(args, "filename")
    if filename is None:
        raise MethodError(
            "invalid_arguments", response_metadata=_messages(["missing required field: filename"])
        )
    try:
        length = int(args.get("length") or 0)
    except ValueError as exc:
        raise MethodError("invalid_arguments") from exc
    if length <= 0:
        raise MethodError("missing_argument")
    upload = ws.start_upload(
        filename, length, alt_txt=_str(args, "alt_txt"), snippet_type=_str(args, "snippet_type")
    )
    return {"ok": True, "upload_url": ws.upload_url(upload), "file_id": upload.id}


def files_complete_upload_external(ws: Workspace, args: Args) -> JSON:
    items = args.get("files")
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise MethodError("invalid_arguments", response_metadata=_messages(["missing required field: files"]))
    channel_ref = _str(args, "channel_id") or (_str(args, "channels") or "").split(",")[0]
    channel = ws.channel(channel_ref) if channel_ref else None
    if channel_ref and channel is None:
        raise MethodError("invalid_channel")
    done = ws.complete_uploads(
        items,
        channel=channel,
        thread_ts=_str(args, "thread_ts"),
        initial_comment=_str(args, "initial_comment"),
    )
    return {"ok": True, "files": [ws.file_json(upload) for upload in done]}


METHODS: dict[str, Handler] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}


def call(ws: Workspace, method: str, args: Args) -> JSON:
    """Run one Web API method against the workspace; ``MethodError`` carries Slack's error code."""
    handler = METHODS.get(method)
    if handler is None:
        raise MethodError("unknown_method", req_method=method)
    return handler(ws, args)
