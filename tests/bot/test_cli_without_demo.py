"""Without the demo extra (no simulator, no playground), the console script says what to install.

The production wheel leaves out ``pd.simulator`` and ``bot.playground``; here they are made
uninstalled the way Python knows it (``None`` in ``sys.modules``: importing them raises
``ModuleNotFoundError`` naming them), so the check runs as it does in the production image.
"""

from __future__ import annotations

import sys

import pytest

from bot import cli

INSTALL = "pip install 'tikv-chatops[demo]'"


def _uninstall(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    for package in packages:
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, package, None)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_serve_without_pd_url_or_simulator_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No PD_URL and no simulator: one line naming PD_URL and the extra, exit code 2, nothing started."""
    _uninstall(monkeypatch, "pd.simulator", "bot.playground")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    assert cli.main(["serve"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == (
        "tikv-chatops: PD_URL is not set and the PD simulator is not installed: set PD_URL, or " + INSTALL
    )


def test_serve_without_slack_or_playground_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PD_URL set but no Slack credentials and no playground: the same kind of line, about Slack."""
    _uninstall(monkeypatch, "bot.playground")
    monkeypatch.setenv("PD_URL", "http://127.0.0.1:1")
    assert cli.main(["serve"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no Slack credentials are set and the Slack playground is not installed" in line
    assert "SLACK_BOT_TOKEN" in line and line.endswith(INSTALL)


@pytest.mark.parametrize("command", ["simulator", "playground"])
def test_demo_commands_without_the_demo_say_what_to_install(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tikv-chatops simulator|playground` without the extra: one line, exit code 2."""
    _uninstall(monkeypatch, "pd.simulator", "bot.playground")
    assert cli.main([command]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "is not installed" in line and line.endswith(INSTALL)


def test_a_configured_bot_does_not_need_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """With PD_URL and Slack credentials set, nothing of the demo is looked for."""
    _uninstall(monkeypatch, "pd.simulator", "bot.playground")
    settings = cli.Settings.load(
        {"PD_URL": "http://pd:2379", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}
    )
    assert cli._missing_stand_in(settings) is None
