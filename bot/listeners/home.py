"""The App Home tab: ``app_home_opened`` publishes the viewer's Home (``Operations.home`` decides what
it lists; ``bot.render.home`` draws it). Clicks on its buttons are the card's (``bot.listeners.buttons``),
which publish the Home again once they are done."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import IdentityRefused
from bot.notify_failures import SLACK_FAILURES
from bot.render.home import home_view
from bot.render.kit import validated_view
from bot.services import Services

logger = logging.getLogger(__name__)


async def publish_home(services: Services, client: AsyncWebClient, user_id: str) -> None:
    """Publish ``user_id``'s Home tab; failures are logged (the tab then shows its last version)."""
    try:
        actor = await services.identity.actor(user_id)
    except IdentityRefused:
        return  # guests, bots, deactivated accounts: nothing to approve or propose
    awaiting, own = await services.operations.home(actor)
    try:
        await client.views_publish(user_id=user_id, view=validated_view(home_view(awaiting, own)))
    except SLACK_FAILURES:
        logger.warning("publishing the Home tab of %s failed", user_id, exc_info=True)


def is_home_click(body: dict[str, Any]) -> bool:
    """Whether a click came from the Home tab (it has no message and no response URL)."""
    view = body.get("view") or {}
    return isinstance(view, dict) and view.get("type") == "home"


def register(app: AsyncApp, services: Services) -> None:
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(services, client, str(event.get("user") or ""))

    app.event("app_home_opened")(home_opened)
