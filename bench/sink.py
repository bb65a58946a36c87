"""A response-URL sink: answers every POST ``200 ok`` as Slack does, so the bot's replies cost what they cost
against Slack (one HTTP round trip) instead of a refused connection and its logged traceback.

``python -m bench.sink --port N``
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="ok")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/{tail:.*}", accept)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
