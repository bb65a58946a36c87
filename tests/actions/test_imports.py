"""The action core stays pure: no Slack, HTTP, SQLite or Claude libraries, and no adapters."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = ROOT / "actions"
FORBIDDEN = (
    "slack_bolt",
    "slack_sdk",
    "httpx",
    "httpx2",
    "aiosqlite",
    "anthropic",
    "pd",
    "store",
    "bot",
    "agent",
)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _is_forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


def test_no_module_under_actions_imports_io_libraries_or_adapters() -> None:
    """Every import statement under actions/ (including ones inside functions) names only pure modules."""
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(ACTIONS.rglob("*.py"))
        for module in _imported_modules(path)
        if _is_forbidden(module)
    }
    assert offenders == set()
    assert len(list(ACTIONS.rglob("*.py"))) > 5  # the walk really saw the package


def test_importing_every_actions_module_loads_no_io_library() -> None:
    """In a fresh interpreter, importing all of actions/ leaves the forbidden libraries out of sys.modules."""
    modules = sorted(
        "actions." + ".".join(p.relative_to(ACTIONS).with_suffix("").parts)
        for p in ACTIONS.rglob("*.py")
        if p.name != "__init__.py"
    )
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(json.dumps({'loaded': len(sys.modules), 'bad': bad}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["bad"] == []
    assert "actions.operations" in modules and "actions.executor" in modules
