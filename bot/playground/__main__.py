"""``python -m bot.playground --bot-url http://127.0.0.1:8080 --port 3000``: the playground on its own.

Start the bot with ``SLACK_API_URL=http://127.0.0.1:3000/api/`` and the same token and signing
secret; then open the page, pick a user and type ``/tikv help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.playground.fake_slack import DEFAULT_TOKEN
from bot.playground.server import run_playground

DEFAULT_SECRET = "playground-signing-secret"


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve the playground until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.playground",
        description="A page standing in for a Slack channel, with the fake Slack Web API the bot calls.",
    )
    parser.add_argument(
        "--bot-url", default="http://127.0.0.1:8080/slack/events", help="where the bot listens"
    )
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--signing-secret", default=DEFAULT_SECRET, help="the bot's SLACK_SIGNING_SECRET")
    parser.add_argument("--bot-token", default=DEFAULT_TOKEN, help="the bot's SLACK_BOT_TOKEN")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(
        f"playground: http://{args.host}:{args.port}/ — run the bot with SLACK_API_URL="
        f"http://{args.host}:{args.port}/api/ SLACK_BOT_TOKEN={args.bot_token} "
        f"SLACK_SIGNING_SECRET={args.signing_secret}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_playground(
                bot_url=args.bot_url,
                signing_secret=args.signing_secret,
                bot_token=args.bot_token,
                port=args.port,
                host=args.host,
            )
        )


if __name__ == "__main__":
    main()
