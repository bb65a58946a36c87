"""``python -m bot``: ``tikv-chatops serve`` for a checkout and the tests, which run no console script."""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
