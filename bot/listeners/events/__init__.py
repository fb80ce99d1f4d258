"""App Home: each user's cases by due date, the team's overdue count, quick links."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import blocks, queries
from bot.deps import Deps
from store.db import session_scope

log = logging.getLogger(__name__)


def home_for(deps: Deps, user: str) -> dict[str, Any]:
    today = deps.today()
    if not deps.access.may_act(user):
        return blocks.home_view(
            user_id=user, allowed=False, mine=None, overdue_total=0, settings=deps.settings, today=today
        )
    with session_scope(deps.engine) as session:
        mine = queries.mine(session, user=user)
        overdue_total = queries.overdue_count(session, today=today)
    return blocks.home_view(
        user_id=user,
        allowed=True,
        mine=mine,
        overdue_total=overdue_total,
        settings=deps.settings,
        today=today,
    )


def register(app: App, deps: Deps) -> None:
    from bot.listeners.events import thread

    thread.register(app, deps)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        client.views_publish(user_id=user, view=home_for(deps, user))
        log.info("App Home published for %s", user)
