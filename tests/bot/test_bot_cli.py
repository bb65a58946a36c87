"""The tikv-chatops console script: subcommands, help and errors; the embedded simulator's seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from pd.simulator.seeded import DOWN_STORE, IMBALANCED_STORE, PAUSED_SCHEDULER, seeded_model


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    """--help names serve, simulator, playground and audit export."""
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("serve", "simulator", "playground", "audit export"):
        assert word in out


def test_unknown_commands_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A typo is a usage error, with a hint."""
    assert cli.main(["serv"]) == 2
    assert "unknown command 'serv'" in capsys.readouterr().err
    assert cli.main(["audit"]) == 2


def test_audit_export_runs_the_stores_exporter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`audit export` hands its arguments to store.export (which reports a missing database)."""
    missing = tmp_path / "nothing.db"
    assert cli.main(["audit", "export", "--db", str(missing)]) == 1
    assert "no database" in capsys.readouterr().err


def test_the_embedded_cluster_is_seeded_with_problems() -> None:
    """No PD_URL: the simulator starts with a leader imbalance behind a paused balance-leader-scheduler
    and a store down for an hour."""
    model = seeded_model()
    assert [s.name for s in model.schedulers.paused()] == [PAUSED_SCHEDULER]
    leaders = {s: len(model.leaders_on_store(s)) for s in model.stores}
    assert leaders[IMBALANCED_STORE] >= len(model.regions) // 2 - 5
    assert leaders[IMBALANCED_STORE] > 2 * max(n for s, n in leaders.items() if s != IMBALANCED_STORE)
    assert model.is_down(model.store(DOWN_STORE)) and leaders[DOWN_STORE] == 0
