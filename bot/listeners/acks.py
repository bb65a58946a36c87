"""The one way listeners acknowledge: ``ack`` first, then let Bolt's runner see it.

In Bolt's default mode the listener runs as a task and the runner polls ``ack.response`` every 10 ms
(slack_bolt/listener/asyncio_runner.py). If the listener raises before that poll, Bolt's error path
resets ``ack.response`` and the request ends as a 404 after 3 s although the listener did ack
(reference/slack-contract.md §1.3). Sleeping a little longer than one poll after ``ack()`` makes the
runner's (earlier) timer fire first, so the ack is always sent; only the slow work waits for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

# Longer than the runner's 10 ms poll: its timer was armed first and so fires first.
ACK_FLUSH_SECONDS = 0.02


async def ack_first(ack: AsyncAck, **kwargs: Any) -> None:
    """``await ack(**kwargs)`` and yield until Bolt has taken the ack to answer Slack with."""
    await ack(**kwargs)
    await asyncio.sleep(ACK_FLUSH_SECONDS)
