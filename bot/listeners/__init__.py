"""The listeners: one ``register`` per Slack surface, composed once with the services they use."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import buttons, commands, errors, home, views
from bot.services import Services


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Register every command, action and view listener, and the one error handler."""
    commands.register(app, services)
    buttons.register(app, services)
    views.register(app, services)
    home.register(app, services)
    errors.register(app)
