"""Building the bolt ``App``: only wiring (listeners live in :mod:`bot.listeners`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import listeners
from bot.access import Access
from bot.deps import Deps
from casework.settings import Settings

log = logging.getLogger(__name__)


def web_client(settings: Settings, *, timeout: int = 10) -> WebClient:
    """A Web API client for the bot token, at ``CASEWORK_SLACK_API_URL``."""
    return WebClient(
        token=settings.slack_bot_token.get_secret_value() or None,
        base_url=settings.slack_api_url,
        timeout=timeout,
    )


def build_app(settings: Settings, engine: Engine, *, client: WebClient | None = None) -> App:
    client = client or web_client(settings)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # no auth.test at start-up: the service must start even while Slack is unreachable
        token_verification_enabled=False,
        logger=logging.getLogger("bot.bolt"),
    )
    listeners.register(app, Deps(settings=settings, engine=engine, access=Access(settings, client)))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        # the one place a fault in a listener ends up; bodies hold public text, so log only its kind
        log.error("listener failed on a %s request", body.get("type") or body.get("command"), exc_info=error)

    return app
