"""``python -m bot``: serve the bot (settings from the environment)."""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
