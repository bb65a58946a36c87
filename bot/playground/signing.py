"""The requests Slack sends a bot, built and signed the way Slack does it.

``sign_request`` produces Slack's v0 signature headers: HMAC-SHA256, keyed with the signing secret,
of ``v0:{timestamp}:{raw body}`` (the percent-encoded bytes, exactly as sent). The builders produce
the bodies: a slash command is a flat form (fields in Slack's order); an interaction is a form with
one ``payload`` field holding compact JSON in the shapes of the contract's §2.2 and §2.3.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

JSON = dict[str, Any]

FORM = "application/x-www-form-urlencoded"
JSON_BODY = "application/json"
# Slack's legacy verification token travels in every request; Bolt ignores it, signatures replace it.
VERIFICATION_TOKEN = "playground-verification-token"

# Which key of an element's state holds the user's choice, per element type.
_STATE_KEYS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "multi_static_select": "selected_options",
    "checkboxes": "selected_options",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
_INITIAL_KEYS = {
    "value": "initial_value",
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_channel": "initial_channel",
}


def sign_request(
    secret: str, body: bytes, timestamp: int | None = None, *, content_type: str = FORM
) -> dict[str, str]:
    """The headers Slack sends with ``body``: Content-Type, X-Slack-Request-Timestamp, X-Slack-Signature.

    Args:
        timestamp: Unix seconds; now when not given. Bolt refuses anything more than 5 minutes off.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


@dataclass(frozen=True)
class Actor:
    """Who acts, in which workspace, towards which app: the fields every request from Slack repeats."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str
    api_app_id: str
    token: str = VERIFICATION_TOKEN
    user_team_id: str = ""  # the person's own team when it is not ``team_id`` (Slack Connect)

    def user_json(self) -> JSON:
        """The ``user`` object of an interaction payload."""
        return {
            "id": self.user_id,
            "username": self.user_name,
            "name": self.user_name,
            "team_id": self.user_team_id or self.team_id,
        }

    def team_json(self) -> JSON:
        """The ``team`` object of an interaction payload."""
        return {"id": self.team_id, "domain": self.team_domain}


def slash_command_body(
    actor: Actor,
    *,
    text: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str,
    command: str = "/tikv",
) -> bytes:
    """A slash command's form body, every field of §2.1 in the order Slack sends them."""
    fields = [
        ("token", actor.token),
        ("team_id", actor.team_id),
        ("team_domain", actor.team_domain),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", actor.user_id),
        ("user_name", actor.user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", actor.api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urlencode(fields).encode()


def interaction_body(payload: Mapping[str, Any]) -> bytes:
    """An interaction's form body: one ``payload`` field holding the JSON, percent-encoded."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"), ensure_ascii=False)}).encode()


def _option(element: Mapping[str, Any], value: Any) -> JSON | None:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    return next((copy.deepcopy(o) for o in options if o.get("value") == value), None)


def element_state(element: Mapping[str, Any], value: Any) -> JSON:
    """One element's entry in ``state.values``: ``value`` for text inputs, ``selected_option`` for selects…

    ``value`` is what the user entered or chose (an option's ``value`` for selects, a list of them
    for multi-selects); ``None`` means nothing, which Slack reports as ``null``.
    """
    kind = str(element.get("type"))
    key = _STATE_KEYS.get(kind, "value")
    state: JSON = {"type": kind}
    if key == "selected_option":
        state[key] = _option(element, value) if value is not None else None
    elif key == "selected_options":
        chosen = [_option(element, v) for v in value or []]
        state[key] = [o for o in chosen if o is not None]
    elif key == "value":
        state[key] = value if value not in (None, "") else None
    else:
        state[key] = value
    return state


def _initial(element: Mapping[str, Any]) -> Any:
    initial = element.get(_INITIAL_KEYS[_STATE_KEYS.get(str(element.get("type")), "value")])
    if isinstance(initial, dict):
        return initial.get("value")
    if isinstance(initial, list):
        return [o.get("value") if isinstance(o, dict) else o for o in initial]
    return initial


def state_values(blocks: Iterable[Mapping[str, Any]], entered: Mapping[str, Mapping[str, Any]]) -> JSON:
    """Slack's ``state.values`` for the stateful elements of ``blocks``.

    ``entered`` maps block_id → action_id → what the user entered; an element missing from it keeps
    its initial value, as Slack reports what the user sees.
    """
    values: JSON = {}
    for block in blocks:
        elements: list[Mapping[str, Any]] = []
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            elements.append(block["element"])
        elif block.get("type") == "actions":
            elements.extend(e for e in block.get("elements", []) if e.get("type") in _STATE_KEYS)
        block_id = str(block.get("block_id"))
        for element in elements:
            action_id = str(element.get("action_id"))
            given = entered.get(block_id, {})
            value = given[action_id] if action_id in given else _initial(element)
            values.setdefault(block_id, {})[action_id] = element_state(element, value)
    return values


def action_json(element: Mapping[str, Any], *, block_id: str, action_ts: str, value: Any = None) -> JSON:
    """One entry of a ``block_actions`` payload's ``actions`` for a click on (or choice in) ``element``."""
    kind = str(element.get("type"))
    action: JSON = {"action_id": element.get("action_id"), "block_id": block_id}
    if kind == "button":
        action["text"] = {**copy.deepcopy(element.get("text", {})), "emoji": True}
        chosen = element.get("value") if value is None else value
        if chosen is not None:
            action["value"] = chosen
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "external_select", "overflow", "radio_buttons"):
        action["selected_option"] = _option(element, value)
        if "placeholder" in element:
            action["placeholder"] = copy.deepcopy(element["placeholder"])
    else:
        action.update({k: v for k, v in element_state(element, value).items() if k != "type"})
    action["type"] = kind
    action["action_ts"] = action_ts
    return action


def block_actions_payload(
    actor: Actor,
    *,
    action: Mapping[str, Any],
    trigger_id: str,
    channel_id: str | None = None,
    channel_name: str | None = None,
    message: Mapping[str, Any] | None = None,
    message_ts: str | None = None,
    is_ephemeral: bool = False,
    response_url: str | None = None,
    view: Mapping[str, Any] | None = None,
    state: Mapping[str, Any] | None = None,
) -> JSON:
    """A ``block_actions`` payload for a click in a message (``channel_id``, ``message_ts``) or a ``view``.

    A click in a channel message carries the ``message`` (its blocks as Slack shows them); one in an
    ephemeral message carries none; one in a modal carries the ``view`` instead of ``channel``,
    ``message`` and ``response_url``.
    """
    payload: JSON = {
        "type": "block_actions",
        "user": actor.user_json(),
        "api_app_id": actor.api_app_id,
        "token": actor.token,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
    else:
        container: JSON = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        }
        thread_ts = message.get("thread_ts") if message is not None else None
        if thread_ts is not None:
            container["thread_ts"] = thread_ts
        payload["container"] = container
    payload.update(
        {
            "trigger_id": trigger_id,
            "team": actor.team_json(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
    )
    if view is not None:
        payload["view"] = copy.deepcopy(dict(view))
    else:
        payload["channel"] = {"id": channel_id, "name": channel_name}
        if message is not None and not is_ephemeral:
            payload["message"] = copy.deepcopy(dict(message))
    payload["state"] = {"values": copy.deepcopy(dict(state or {}))}
    if view is None and response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [copy.deepcopy(dict(action))]
    return payload


def view_submission_payload(
    actor: Actor, *, view: Mapping[str, Any], state: Mapping[str, Any], trigger_id: str
) -> JSON:
    """A ``view_submission`` payload for ``view`` (as ``views.open`` answered it) with ``state.values``."""
    submitted = copy.deepcopy(dict(view))
    submitted["state"] = {"values": copy.deepcopy(dict(state))}
    return {
        "type": "view_submission",
        "team": actor.team_json(),
        "user": actor.user_json(),
        "api_app_id": actor.api_app_id,
        "token": actor.token,
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed_payload(actor: Actor, *, view: Mapping[str, Any]) -> JSON:
    """A ``view_closed`` payload: Slack sends it when a modal with ``notify_on_close`` is dismissed."""
    return {
        "type": "view_closed",
        "team": actor.team_json(),
        "user": actor.user_json(),
        "api_app_id": actor.api_app_id,
        "token": actor.token,
        "view": copy.deepcopy(dict(view)),
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_body(actor: Actor, event: Mapping[str, Any], *, bot_user_id: str) -> bytes:
    """An Events API ``event_callback`` carrying ``event``, as Slack POSTs it (JSON)."""
    now = time.time()
    payload = {
        "token": actor.token,
        "team_id": actor.team_id,
        "api_app_id": actor.api_app_id,
        "event": {**event, "event_ts": f"{now:.6f}"},
        "type": "event_callback",
        "event_id": f"Ev{int(now * 1_000_000):X}",
        "event_time": int(now),
        "authorizations": [
            {"team_id": actor.team_id, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(payload).encode()
