"""Best-effort notifier calls: telling people never changes what happened."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)


async def tell(call: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Await ``call(*args)``; log a failure (with its traceback) instead of raising it."""
    try:
        await call(*args)
    except Exception:
        logger.exception("telling people failed (%s)", getattr(call, "__name__", repr(call)))
