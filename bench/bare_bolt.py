"""The baseline: a bare Bolt AsyncApp that only acks, served on aiohttp exactly as the bot is.

``python -m bench.bare_bolt --port N --secret S [--process-before-response]``

It listens to the same command and action id as the bot, so both answer the same requests. Bolt's
default mode polls for the ack every 10 ms; ``--process-before-response`` (the bot's mode) answers as
soon as the listener returns, the fastest a Bolt app can ack.
"""

from __future__ import annotations

import argparse
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build_app(secret: str, port: int, *, process_before_response: bool = False) -> AsyncApp:
    # Bolt calls auth.test once (then caches it); the same process answers it so the baseline needs
    # nothing else running.
    app = AsyncApp(
        signing_secret=secret,
        client=AsyncWebClient(token="xoxb-bench", base_url=f"http://127.0.0.1:{port}/api/"),
        process_before_response=process_before_response,
    )

    async def only_ack(ack: Any) -> None:
        await ack()

    app.command("/tikv")(only_ack)
    app.action("tikv_approve")(only_ack)
    return app


async def auth_test(_request: web.Request) -> web.Response:
    return web.json_response(
        {
            "ok": True,
            "team_id": "T0TEAM",
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
            "team": "bench",
            "user": "bot",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--process-before-response", action="store_true")
    args = parser.parse_args()
    bolt = build_app(args.secret, args.port, process_before_response=args.process_before_response)

    async def events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_post("/api/auth.test", auth_test)
    web.run_app(web_app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
