"""Code-health figures: lines of product code per package, and the longest functions of actions/ and bot/.

``python -m bench.code_health [--root DIR] [--top N]`` prints two Markdown tables: the lines (as
``wc -l`` counts them) of the ``.py`` files of each package, and the N longest functions (methods and
nested functions included, from ``def`` to their last line, by ``ast``) under ``actions/`` and
``bot/``. ``--root`` measures another checkout (``git worktree add /tmp/base <commit>``), so two
commits can be compared with the same script. Not part of ``make bench``: it measures code, not runs.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each row counts its directory without the rows nested in it (pd without pd/simulator, …).
PACKAGES = ("actions", "agent", "bot", "bot/playground", "pd", "pd/simulator", "store")
LONGEST_IN = ("actions", "bot")


@dataclass(frozen=True)
class Function:
    lines: int
    where: str  # path:qualified.name


def _python_files(root: Path, package: str) -> list[Path]:
    base = root / package
    nested = [root / p for p in PACKAGES if p != package and p.startswith(package + "/")]
    return sorted(
        path
        for path in base.rglob("*.py")
        if not any(path.is_relative_to(inner) for inner in nested) and "__pycache__" not in path.parts
    )


def _wc_l(path: Path) -> int:
    """Newlines, as ``wc -l`` counts them."""
    return path.read_bytes().count(b"\n")


def package_lines(root: Path) -> list[tuple[str, int, int]]:
    """(package, files, lines) for each of ``PACKAGES``."""
    rows = []
    for package in PACKAGES:
        files = _python_files(root, package)
        rows.append((package, len(files), sum(_wc_l(f) for f in files)))
    return rows


Def = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, Def]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            yield name, node
            yield from _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def longest_functions(root: Path, top: int) -> list[Function]:
    """The ``top`` longest functions under ``LONGEST_IN``, longest first."""
    found: list[Function] = []
    for package in LONGEST_IN:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            relative = path.relative_to(root).as_posix()
            for name, node in _functions(tree):
                end = node.end_lineno if node.end_lineno is not None else node.lineno
                found.append(Function(end - node.lineno + 1, f"{relative}:{name}"))
    return sorted(found, key=lambda f: (-f.lines, f.where))[:top]


def report(root: Path, top: int) -> str:
    lines = [
        f"## Code health ({root})",
        "",
        "Lines of the `.py` files (`wc -l`); a row leaves out the rows nested in it.",
        "",
        "| package | files | lines |",
        "| --- | ---: | ---: |",
    ]
    rows = package_lines(root)
    lines += [f"| {package} | {files} | {count} |" for package, files, count in rows]
    lines.append(f"| **total** | {sum(r[1] for r in rows)} | {sum(r[2] for r in rows)} |")
    lines += [
        "",
        f"The {top} longest functions in {' and '.join(p + '/' for p in LONGEST_IN)} (`def` to last line):",
        "",
        "| lines | function |",
        "| ---: | --- |",
    ]
    lines += [f"| {f.lines} | `{f.where}` |" for f in longest_functions(root, top)]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.code_health", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--top", type=int, default=10, help="how many of the longest functions")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "actions").is_dir() or not (root / "bot").is_dir():
        print(f"code_health: {root} is not a tikv-chatops checkout", file=sys.stderr)
        return 2
    print(report(root, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
