"""Helpers for the scheduler tests: cases with a chosen due date, the outbox as rows, and what
the outbox sender posts to a Slack stand-in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine, select

from bot.sender import OutboxSender
from casework.settings import Settings
from store.cases import assign, open_case, set_status
from store.db import session_scope
from store.models import Case, OutboxItem
from store.workdays import LONDON, is_working_day
from tests.support.slack_api import Call, fake_slack_api

#: every assignee these tests use: warnings and overdue lists go by DM to caseworkers only
SCHEDULER_CASEWORKERS = ["U0CASEWKR", "U0OTHER", "U0JANE", "U0RAJ", "U0CW0", "U0CW1", "U0CW2", "U0CW3"]


def london(day: date, at: time = time(10, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


def received_for(due: date, working_days: int = 20) -> date:
    """The receipt date whose 20-working-day deadline is ``due`` (a working day)."""
    day, count = due, working_days
    while count:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def make_case(
    engine: Engine,
    settings: Settings,
    *,
    due: date,
    subject: str = "Speeding on Hagley Road",
    category: str = "correspondence",
    assignee: str | None = "U0CASEWKR",
    status: str | None = None,
    note: str = "",
) -> str:
    with session_scope(engine) as session:
        case = open_case(
            session,
            settings=settings,
            category=category,
            received_at=london(received_for(due)),
            subject=subject,
        )
        assert case.due_on == due, (case.due_on, due)
        if assignee:
            assign(session, case=case, assignee=assignee, actor="test")
        if status:
            at = london(case.received_on)
            set_status(session, case=case, status=status, actor="test", note=note, at=at)
        return case.reference


def outbox(engine: Engine) -> list[OutboxItem]:
    with session_scope(engine) as session:
        return list(session.execute(select(OutboxItem).order_by(OutboxItem.key)).scalars())  # type: ignore[arg-type]


def keys(engine: Engine) -> list[str]:
    return [item.key for item in outbox(engine)]


def case_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(list(session.execute(select(Case.id)).scalars()))  # type: ignore[call-overload]


def delivered(engine: Engine, settings: Settings, *, today: date) -> list[Call]:
    """Send every due outbox row as the service does, rendering warnings as of ``today``; the
    ``chat.postMessage`` calls Slack received (a DM's channel is ``D`` + the user id's tail)."""
    with fake_slack_api() as api:
        client = WebClient(token="xoxb-test", base_url=api.base_url)
        sender = OutboxSender(settings, engine, client, today=lambda: today)
        while sender.drain_once():
            pass
        return api.of("chat.postMessage")
