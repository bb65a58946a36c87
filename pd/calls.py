"""``PDCalls``: the one way this project reads PD (and sends the executor's writes) over ``PDClient``.

Every user of PD (the action core's ``PDCluster``, the agent's ``PDObserver``, the bot's read-only
views in ``bot/reads.py``) hands its ``PDClient`` call to ``call`` or ``find``, which:

* counts it in ``requests_made`` (a read the client retried counts once);
* bounds it by ``timeout`` when one is given (past it: ``ClusterUnavailable``, "PD did not answer");
* turns PD's errors into the domain's (``pd.convert.translate``), so no caller sees this package's
  error tree — except, with ``find``, the "it is not there" answers it names, returned as values.

The call is passed as a function and made here, inside the caller's task: a coroutine made by the
caller and handed to a task cancelled before it starts (a timeout, a shutdown) would never be awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from actions.errors import ClusterUnavailable
from pd.convert import translate
from pd.errors import PDError

T = TypeVar("T")


class PDCalls:
    """Counted, optionally bounded calls to PD whose failures are ``actions.errors.ClusterError``s."""

    def __init__(self, *, timeout: float | None = None) -> None:
        self._timeout = timeout
        self._requests = 0

    @property
    def requests_made(self) -> int:
        """PD requests made through this object so far."""
        return self._requests

    async def call(self, fetch: Callable[[], Awaitable[T]]) -> T:
        """``fetch()``'s answer; raises ``ClusterUnavailable`` or ``ClusterRejected``."""
        found = await self.find(fetch)
        assert not isinstance(found, PDError)  # nothing was named missing
        return found

    async def find(self, fetch: Callable[[], Awaitable[T]], *missing: type[PDError]) -> T | PDError:
        """As ``call``, but PD's answer that the thing is not there (one of ``missing``) is returned."""
        self._requests += 1
        try:
            async with asyncio.timeout(self._timeout):
                return await fetch()
        except missing as exc:
            return exc
        except TimeoutError as exc:
            if self._timeout is None:
                raise  # not ours: PDClient's own timeouts are PDUnavailable
            raise ClusterUnavailable(f"PD did not answer within {self._timeout:g}s") from exc
        except PDError as exc:
            raise translate(exc) from exc
