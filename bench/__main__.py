"""Run every benchmark in its own process and collect their Markdown into bench/results.md.

Each ``bench/bench_*.py`` prints a Markdown section (a heading and a table) on stdout. A separate
process per benchmark keeps one benchmark's memory and event loop from colouring the next, and
lets the RSS figures mean what they say.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.md"


def _modules(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    return names


def main(argv: list[str]) -> int:
    sections: list[str] = []
    failed: list[str] = []
    for name in _modules(argv):
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        elapsed = time.perf_counter() - started
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            failed.append(name)
            sys.stderr.write(proc.stderr[-4000:])
            sections.append(f"## {name}\n\nFAILED (exit {proc.returncode}); see `make bench` output.\n")
        else:
            sections.append(proc.stdout.strip() + f"\n\n_{name} took {elapsed:.1f} s._\n")
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}.\n"
    )
    RESULTS.write_text(header + "\n" + "\n".join(sections))
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
