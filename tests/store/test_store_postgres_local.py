"""The throwaway PostgreSQL's launcher and the DSN redaction, without a server."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from store.postgres import local
from store.postgres.db import redact


def test_missing_binaries_give_one_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "find_bin_dir", lambda: None)
    with pytest.raises(local.PostgresUnavailable, match=r"no PostgreSQL server binaries .*make pg-deps"):
        local.start_local()


def test_a_failing_initdb_is_reported_with_its_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under /tmp, readable by all: as root the server's own account runs these.
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp)
        fake.chmod(0o755)
        for name in ("initdb", "postgres"):
            (fake / name).write_text("#!/bin/sh\necho 'initdb: disk on fire' >&2\nexit 1\n")
            (fake / name).chmod(0o755)
        monkeypatch.setattr(local, "find_bin_dir", lambda: fake)
        with pytest.raises(local.PostgresUnavailable, match="initdb failed: initdb: disk on fire"):
            local.start_local()


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://chatops:s3cret@db:5432/x") == "postgresql://chatops:***@db:5432/x"
    assert redact("postgresql://chatops@db/x") == "postgresql://chatops@db/x"
    assert redact("postgres://db/x") == "postgres://db/x"
