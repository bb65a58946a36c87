"""The agent depends inward only: never on pd/, store/, bot/ or Slack; only advisor.py talks to Claude."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agent"
FORBIDDEN = ("slack_bolt", "slack_sdk", "aiosqlite", "httpx", "pd", "store", "bot")
CLAUDE = ("anthropic", "httpx2")
ADVISOR = AGENT / "advisor.py"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_agent_imports_no_adapter_and_only_the_advisor_imports_claude() -> None:
    """No module under agent/ imports pd, store, bot, Slack or SQLite; anthropic/httpx2 only in advisor.py."""
    offenders = set()
    for path in sorted(AGENT.rglob("*.py")):
        allowed_claude = path == ADVISOR
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN or (top in CLAUDE and not allowed_claude):
                offenders.add(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == set()
    assert {"anthropic", "httpx2"} <= _imported_modules(ADVISOR)


def test_the_loop_without_the_advisor_loads_no_claude_library() -> None:
    """Importing the loop, rules and findings in a fresh interpreter leaves anthropic and httpx2 unloaded."""
    code = (
        "import sys, json; import agent.loop, agent.rules, agent.findings, agent.observe; "
        "names = ('anthropic', 'httpx2', 'aiosqlite', 'pd', 'store'); "
        "print(json.dumps(sorted(m for m in names if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []
