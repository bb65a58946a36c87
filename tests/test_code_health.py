"""bench/code_health.py: lines per package as wc -l counts them, and the longest functions by ast."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import code_health


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    method = "class C:\n    def method(self):\n" + "        x = 1\n" * 5 + "        return x\n"
    _write(tmp_path, "actions/a.py", "def short():\n    return 1\n\n\n" + method)  # 12 lines
    nested = "async def outer():\n    def inner():\n        return 2\n\n    return inner()\n"
    _write(tmp_path, "bot/b.py", nested)
    _write(tmp_path, "bot/playground/p.py", "X = 1\n")
    _write(tmp_path, "pd/client.py", "A = 1\nB = 2\n")
    _write(tmp_path, "pd/simulator/model.py", "A = 1\nB = 2\nC = 3\n")
    return tmp_path


def test_lines_per_package_leave_out_the_nested_rows(checkout: Path) -> None:
    """pd counts without pd/simulator, bot without bot/playground; a missing package counts zero."""
    rows = {package: (files, lines) for package, files, lines in code_health.package_lines(checkout)}
    assert rows["actions"] == (1, 12)
    assert rows["bot"] == (1, 5)
    assert rows["bot/playground"] == (1, 1)
    assert rows["pd"] == (1, 2)
    assert rows["pd/simulator"] == (1, 3)
    assert rows["agent"] == (0, 0) and rows["store"] == (0, 0)


def test_longest_functions_name_methods_and_nested_functions(checkout: Path) -> None:
    """Methods and nested functions are counted on their own, longest first, with file:qualified name."""
    found = code_health.longest_functions(checkout, top=3)
    assert [(f.lines, f.where) for f in found] == [
        (7, "actions/a.py:C.method"),
        (5, "bot/b.py:outer"),
        (2, "actions/a.py:short"),
    ]


def test_main_prints_both_tables(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert code_health.main(["--root", str(checkout), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "| pd/simulator | 1 | 3 |" in out and "| **total** | 5 | 23 |" in out
    assert "| 7 | `actions/a.py:C.method` |" in out and "actions/a.py:short" not in out
    assert code_health.main(["--root", str(checkout / "nothing")]) == 2
