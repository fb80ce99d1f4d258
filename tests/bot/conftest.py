"""A running bot for tests: the fake Slack Web API, a migrated store, and the HTTP server.

``bot`` starts ``casework serve``'s front door (uvicorn, :mod:`casework.web`) on a free port
(in a thread) against a fresh
SQLite or PostgreSQL database, with the Web API pointed at :mod:`tests.support.slack_api`.
Access: ``U_CW`` is a caseworker, ``U_MGR`` a manager, ``U_GRP`` a caseworker through the
user group ``S_TEAM``, and ``U_OUT`` nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.app import build_app
from casework.settings import Settings
from casework.web import app as web_app
from casework.web.server import Running, start_in_thread
from store.cases import get_or_create_correspondent, open_case
from store.db import session_scope
from store.models import Case, Message
from tests.conftest import make_settings
from tests.support.slack_api import FakeSlackAPI, fake_slack_api
from tests.support.slack_requests import Response, event_body, interactive_body, post, slash_command_body

SECRET = "test-signing-secret-0123456789"
CASEWORKER, MANAGER, GROUP_MEMBER, OUTSIDER = "U_CW", "U_MGR", "U_GRP", "U_OUT"


@dataclass
class RunningBot:
    api: FakeSlackAPI
    server: Running
    settings: Settings
    engine: Engine
    client: WebClient

    @property
    def url(self) -> str:
        return f"{self.server.url}/slack/events"

    def command(self, text: str, *, user: str = CASEWORKER, wait: bool = True) -> dict[str, Any]:
        """Run ``/casework text`` and return the JSON posted to its response_url."""
        before = len(self.api.responses())
        answer = post(
            self.url,
            slash_command_body(text, user_id=user, response_url=self.api.response_url()),
            secret=SECRET,
        )
        assert answer.status == 200, answer.body
        if not wait:
            return {}
        self.api.wait_for("/response/", before + 1)
        return self.api.responses()[before].body

    def interact(self, payload: dict[str, Any]) -> Response:
        return post(self.url, interactive_body(payload), secret=SECRET)

    def event(self, event: dict[str, Any]) -> Response:
        return post(self.url, event_body(event), secret=SECRET, content_type="application/json")


def bot_settings(database_url: str, api: FakeSlackAPI, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SECRET,
        "slack_api_url": api.base_url,
        "triage_channel": "C_TRIAGE",
        "caseworkers": [CASEWORKER, "S_TEAM"],
        "managers": [MANAGER],
    }
    values.update(overrides)
    return make_settings(database_url, **values)


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    with fake_slack_api() as fake:
        fake.usergroups["S_TEAM"] = [GROUP_MEMBER]
        yield fake


@contextmanager
def serving(settings: Settings, api: FakeSlackAPI) -> Iterator[RunningBot]:
    """``casework serve``'s front door with the bot on ``settings``, on a free port."""
    from store.db import make_engine

    engine = make_engine(settings.database_url)
    client = WebClient(token="xoxb-test", base_url=api.base_url, timeout=2)
    bolt = build_app(settings, engine, client=client)
    server = start_in_thread(web_app.build(settings, bolt=bolt, engine=engine), settings)
    try:
        yield RunningBot(api=api, server=server, settings=settings, engine=engine, client=client)
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture
def bot(database_url: str, api: FakeSlackAPI) -> Iterator[RunningBot]:
    with serving(bot_settings(database_url, api), api) as running:
        yield running


def make_case(
    engine: Engine,
    settings: Settings,
    *,
    subject: str = "Speeding on Bristol Road",
    body: str = "Cars race past the school every morning.\nPlease do something.",
    received: datetime | None = None,
    category: str = "correspondence",
    email: str = "jane@example.org",
    name: str = "Jane Public",
    assignee: str | None = None,
    messages: int = 1,
    reasons: list[str] | None = None,
) -> str:
    """Open a case with ``messages`` messages; returns its reference."""
    received = received or datetime.now(UTC)
    with session_scope(engine) as session:
        person = get_or_create_correspondent(session, email=email, name=name)
        case = open_case(
            session,
            settings=settings,
            category=category,
            received_at=received,
            subject=subject,
            correspondent=person,
            confidence=0.82,
            reasons=reasons or ["mentions 'speeding'", "from a member of the public"],
        )
        case.assignee = assignee
        assert isinstance(case, Case)
        for number in range(messages):
            session.add(
                Message(
                    case_id=case.id,
                    correspondent_id=person.id,
                    message_id=f"<m{number}.{case.reference}@example.org>",
                    raw_sha256=f"{case.reference}-{number}".ljust(64, "0")[:64],
                    from_addr=email,
                    from_name=name,
                    subject=subject if number == 0 else f"Re: {subject} ({number})",
                    body_text=body,
                    received_at=received,
                    raw=b"raw",
                )
            )
        return case.reference
