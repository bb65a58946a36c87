"""The Slack app manifests validate against the parts of Slack's manifest schema they use.

The rules below are transcribed from slackapi/manifest-schema (schemas/manifest.schema.1.0.0.json):
only the objects our manifests touch, each with ``additionalProperties: false`` as in the original,
so a misspelt or misplaced key fails here instead of in Slack's app settings page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
URL = {"type": "string", "pattern": r"^https?:\/\/", "maxLength": 3000}
SCOPES = {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 255}

MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["display_information"],
    "additionalProperties": False,
    "properties": {
        "_metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                k: {"type": "integer"}
                for k in ("schema_version", "min_version", "major_version", "minor_version")
            },
        },
        "display_information": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 35},
                "description": {"type": "string", "minLength": 1, "maxLength": 140},
                "background_color": {"type": "string", "minLength": 4, "maxLength": 7},
                "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
            },
        },
        "features": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "app_home": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        k: {"type": "boolean"}
                        for k in (
                            "home_tab_enabled",
                            "messages_tab_enabled",
                            "messages_tab_read_only_enabled",
                        )
                    },
                },
                "bot_user": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["display_name"],
                    "properties": {
                        "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "always_online": {"type": "boolean"},
                    },
                },
                "slash_commands": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 50,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["command", "description"],
                        "properties": {
                            "command": {"type": "string", "minLength": 2, "maxLength": 32, "pattern": r"^\/"},
                            "url": URL,
                            "description": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "usage_hint": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "should_escape": {"type": "boolean"},
                        },
                    },
                },
            },
        },
        "oauth_config": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "scopes": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"bot": SCOPES, "user": SCOPES},
                }
            },
        },
        "settings": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "event_subscriptions": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "request_url": URL,
                        "bot_events": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
                        "user_events": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
                    },
                },
                "interactivity": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["is_enabled"],
                    "properties": {
                        "is_enabled": {"type": "boolean"},
                        "request_url": URL,
                        "message_menu_options_url": URL,
                    },
                },
                "org_deploy_enabled": {"type": "boolean"},
                "socket_mode_enabled": {"type": "boolean"},
                "token_rotation_enabled": {"type": "boolean"},
            },
        },
    },
}

REQUIRED_SCOPES = {"chat:write", "commands", "users:read", "usergroups:read"}


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.socket.yml"])
def test_manifest_validates_against_slack_schema(name: str) -> None:
    """Both manifests fit Slack's schema and declare /tikv, interactivity and the bot scopes."""
    manifest = _load(name)
    jsonschema.validate(manifest, MANIFEST_SCHEMA)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/tikv"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert REQUIRED_SCOPES <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_socket_variant_has_no_request_urls() -> None:
    """The Socket Mode manifest enables socket mode and carries no URL Slack would POST to."""
    manifest = _load("manifest.socket.yml")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert not re.search(r"https?://", (ROOT / "manifest.socket.yml").read_text())
    assert "request_url" not in manifest["settings"]["interactivity"]


def test_schema_rejects_a_command_without_slash() -> None:
    """The transcribed schema is strict enough to catch the classic mistake (command without '/')."""
    manifest = _load("manifest.yml")
    manifest["features"]["slash_commands"][0]["command"] = "tikv"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, MANIFEST_SCHEMA)


def test_the_home_tab_is_on_and_its_event_subscribed() -> None:
    """The Home tab lists proposals: Slack shows it and sends app_home_opened in both modes."""
    for name in ("manifest.yml", "manifest.socket.yml"):
        manifest = _load(name)
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True
        assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert _load("manifest.yml")["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.socket.yml"])
def test_the_usage_hint_names_every_read(name: str) -> None:
    """Slack shows the usage hint as people type ``/tikv``: each pd-ctl read the grammar knows is in it."""
    from bot.grammar_reads import HEADS

    (command,) = _load(name)["features"]["slash_commands"]
    hint = command["usage_hint"]
    named = {word.rstrip("s") for word in re.findall(r"[a-z]+", hint)}
    missing = {head.rstrip("s") for head in HEADS} - named
    assert missing == set(), f"{name}'s usage hint does not list {sorted(missing)}"
