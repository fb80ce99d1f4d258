"""The case store's write functions keep history, deadlines and closure figures right."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from casework.settings import Settings
from store.cases import history, open_case, require_case, set_category, set_status
from store.db import session_scope
from store.enums import Category, Status


def test_open_case_numbers_and_due_date(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        first = open_case(
            session,
            settings=settings,
            category=Category.FOI,
            received_at=datetime(2013, 3, 15, 10, tzinfo=UTC),
            subject="Staff numbers",
        )
        second = open_case(
            session,
            settings=settings,
            category="complaint",
            received_at=datetime(2013, 3, 16, 10, tzinfo=UTC),
        )
    assert first.reference == "WMOPC-2013-000001"
    assert second.reference == "WMOPC-2013-000002"
    assert first.due_on == date(2013, 4, 17)


def test_closing_records_days_taken_and_reopening_clears_them(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        case = open_case(
            session,
            settings=settings,
            category="correspondence",
            received_at=datetime(2013, 3, 15, 10, tzinfo=UTC),
        )
        set_status(
            session, case=case, status=Status.CLOSED, actor="U1", at=datetime(2013, 4, 17, 16, tzinfo=UTC)
        )
        assert (case.days_taken, case.working_days_taken) == (33, 20)
        set_status(session, case=case, status=Status.IN_PROGRESS, actor="intake")
        assert case.closed_at is None and case.days_taken is None
    with session_scope(engine) as session:
        case = require_case(session, case.reference)
        kinds = [(e.kind, e.new_value, e.actor) for e in history(session, case=case)]
    # the stage follows the status, each change its own row (store.lifecycle)
    assert kinds == [
        ("created", "open", "intake"),
        ("status", "closed", "U1"),
        ("stage", "closed", "U1"),
        ("status", "in_progress", "intake"),
        ("stage", "allocated", "intake"),
    ]


def test_recategorising_moves_the_due_date_and_stores_a_label(engine: Engine, settings: Settings) -> None:
    policy = settings.model_copy(update={"deadline_policy": {"complaint": 10}})
    with session_scope(engine) as session:
        case = open_case(
            session,
            settings=policy,
            category="correspondence",
            received_at=datetime(2013, 3, 15, 10, tzinfo=UTC),
        )
        assert set_category(
            session,
            case=case,
            category="complaint",
            actor="U1",
            settings=policy,
            label_text="I want to complain",
        )
        assert case.due_on == date(2013, 4, 3)
