"""Settings: read once from a mapping, typed, secrets never printed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import SLACK_API_URL, Settings

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-very-secret-token",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "SLACK_APP_TOKEN": "xapp-app-level-secret",
    "ANTHROPIC_API_KEY": "sk-ant-secret-key",
}


def test_defaults_need_no_environment() -> None:
    """With nothing set, the bot runs on the embedded simulator and the playground on port 8080."""
    settings = Settings.load({})
    assert settings.port == 8080
    assert settings.pd_endpoints == ()
    assert settings.slack_api_url == SLACK_API_URL
    assert not settings.has_slack_credentials
    assert not settings.socket_mode
    assert settings.tikv_chatops_db == "tikv-chatops.db"
    assert settings.tikv_chatops_policy is None
    assert settings.agent_enabled is True and settings.agent_interval == 60.0


def test_reads_every_documented_name() -> None:
    """Each variable of the README's configuration table lands in its typed field; PD_URL splits on commas."""
    settings = Settings.load(
        {
            **SECRETS,
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "PD_URL": "http://pd-0:2379, http://pd-1:2379/ ,",
            "TIKV_CHATOPS_DB": "/data/ops.db",
            "TIKV_CHATOPS_POLICY": "/etc/policy.yml",
            "TIKV_CHATOPS_CLUSTERS": "/etc/clusters.yml",
            "ANTHROPIC_MODEL": "claude-test",
            "PROPOSAL_CHANNEL": "C0OPS",
            "PORT": "9090",
            "PD_TIMEOUT": "2.5",
            "PD_CACERT": "/tls/ca.pem",
            "DRY_RUN_EPHEMERAL": "true",
            "AGENT_ENABLED": "false",
            "AGENT_INTERVAL": "15",
        }
    )
    assert settings.pd_endpoints == ("http://pd-0:2379", "http://pd-1:2379")
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.tikv_chatops_db == "/data/ops.db"
    assert settings.tikv_chatops_policy == Path("/etc/policy.yml")
    assert settings.tikv_chatops_clusters == Path("/etc/clusters.yml")
    assert settings.anthropic_model == "claude-test"
    assert settings.proposal_channel == "C0OPS"
    assert settings.port == 9090
    assert settings.pd_timeout == 2.5
    assert settings.pd_cacert == Path("/tls/ca.pem")
    assert settings.dry_run_ephemeral is True
    assert settings.agent_enabled is False and settings.agent_interval == 15.0
    assert settings.socket_mode and settings.has_slack_credentials
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret-token"


def test_names_are_case_insensitive_and_empty_values_are_unset() -> None:
    """``port=…`` counts like ``PORT=…``; an empty variable is the same as an absent one."""
    settings = Settings.load({"port": "7000", "SLACK_APP_TOKEN": "", "PD_URL": ""})
    assert settings.port == 7000
    assert settings.slack_app_token is None


def test_secrets_are_masked_in_repr_str_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    """No secret value appears in repr(), str() or a log line of the settings."""
    settings = Settings.load(SECRETS)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s / %r", settings, settings)
    shown = repr(settings) + str(settings) + caplog.text + str(settings.model_dump())
    for secret in SECRETS.values():
        assert secret not in shown
    assert "**********" in repr(settings)


def test_the_real_environment_is_ignored_when_a_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping replaces the environment entirely: nothing leaks in from os.environ."""
    monkeypatch.setenv("PORT", "1234")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = Settings.load({})
    assert settings.port == 8080
    assert settings.slack_bot_token is None
    assert Settings.load().port == 1234


def test_invalid_values_fail_loudly() -> None:
    """A port that is not a number is a configuration error, not a silent default."""
    with pytest.raises(ValidationError):
        Settings.load({"PORT": "eighty"})
