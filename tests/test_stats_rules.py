"""Statistics rules the reference data does not exercise: history "as at", boundaries, rounding."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from casework.settings import Settings
from store.cases import open_case, set_status
from store.db import session_scope
from store.models import Call
from store.stats import board_tables, calls_table, months, round1, weeks


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def test_round_half_up_and_none_for_empty() -> None:
    assert round1(1, 40) == 0.0  # 0.025 → 0.0 (only the first decimal is kept)
    assert round1(5, 100) == 0.1  # 0.05 → 0.1: half-up, where round(0.05, 1) gives 0.1 or 0.0 by float luck
    assert round1(15, 100) == 0.2  # 0.15 → 0.2 (round(0.15, 1) == 0.1 on floats)
    assert round1(25, 10) == 2.5
    assert round1(1, 0) is None


def test_months_and_weeks_cover_the_range_with_overlaps() -> None:
    assert months(date(2012, 11, 20), date(2013, 2, 1)) == ["2012-11", "2012-12", "2013-01", "2013-02"]
    assert weeks(date(2012, 11, 1), date(2012, 11, 12)) == [
        date(2012, 10, 29),
        date(2012, 11, 5),
        date(2012, 11, 12),
    ]


def test_status_as_at_a_past_date_is_read_from_history(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        case = open_case(session, settings=settings, category="complaint", received_at=_at(2013, 1, 7))
        set_status(session, case=case, status="in_progress", actor="U1", at=_at(2013, 1, 20))
        set_status(session, case=case, status="closed", actor="U1", at=_at(2013, 2, 4), settings=settings)
        set_status(session, case=case, status="open", actor="intake", at=_at(2013, 3, 1))  # re-opened
        set_status(session, case=case, status="monitoring", actor="U2", at=_at(2013, 3, 5))

    def status_on(day: date) -> dict[str, int]:
        with session_scope(engine) as session:
            row = board_tables(session, start=date(2013, 1, 1), end=date(2013, 1, 31), as_of=day)["statuses"][
                0
            ]
        return {k: v for k, v in row.items() if k not in ("month", "total") and v}

    assert status_on(date(2013, 1, 10)) == {"open": 1}
    assert status_on(date(2013, 1, 25)) == {"in_progress": 1}
    assert status_on(date(2013, 2, 10)) == {"closed": 1}
    assert status_on(date(2013, 3, 2)) == {"open": 1}
    assert status_on(date(2013, 4, 1)) == {"monitoring": 1}


def test_aged_means_more_than_28_days_before_as_of(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        open_case(
            session, settings=settings, category="correspondence", received_at=_at(2013, 7, 10)
        )  # 29 days
        open_case(
            session, settings=settings, category="correspondence", received_at=_at(2013, 7, 11)
        )  # 28 days
        tables = board_tables(session, start=date(2013, 7, 1), end=date(2013, 7, 31), as_of=date(2013, 8, 8))
    assert tables["aged_unclosed"][0]["open"] == 1
    assert tables["statuses"][0]["open"] == 2


def test_closure_times_group_by_month_closed_and_count_working_days(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        quick = open_case(session, settings=settings, category="foi", received_at=_at(2013, 3, 15))
        set_status(session, case=quick, status="closed", actor="U1", at=_at(2013, 4, 17), settings=settings)
        slow = open_case(session, settings=settings, category="foi", received_at=_at(2013, 3, 15))
        set_status(session, case=slow, status="closed", actor="U1", at=_at(2013, 4, 18), settings=settings)
        tables = board_tables(session, start=date(2013, 3, 1), end=date(2013, 4, 30), as_of=date(2013, 5, 1))
    march, april, total = tables["closure_times"]
    assert march["closed"] == 0 and march["avg_days"] is None
    assert april["closed"] == 2
    assert april["within_28"] == 0  # 33 and 34 days
    assert april["avg_days_over_28"] == 33.5
    assert april["within_deadline"] == 1  # due Wed 17 Apr: the first on time, the second a day late
    assert april["avg_working_days"] == 20.5
    assert total["pct_within_deadline"] == 50.0


def test_calls_count_only_calls_started_inside_the_range(engine: Engine) -> None:
    def call(n: int, day: int, outcome: str, wait: float, talk: float | None) -> Call:
        started = _at(2013, 4, day)
        return Call(
            call_id=f"c{n}",
            started_at=started,
            started_on=started.date(),
            ended_at=started,
            outcome=outcome,
            wait_s=wait,
            talk_s=talk,
            answered_at=started if outcome == "answered" else None,
        )

    with session_scope(engine) as session:
        session.add_all(
            [
                call(1, 1, "answered", 9, 100),  # Easter Monday week, before the range
                call(2, 3, "answered", 9, 100),  # within target (≤ 9 s)
                call(3, 3, "answered", 10, 50),  # over target
                call(4, 4, "abandoned", 20, None),
                call(5, 5, "busy", 0, None),
            ]
        )
        session.flush()
        rows = calls_table(session, start=date(2013, 4, 2), end=date(2013, 4, 7), call_target_seconds=9)
    week, total = rows
    assert week["week_commencing"] == "2013-04-01" and "Easter Monday" in week["holiday"]
    assert (
        week["received"],
        week["within_target"],
        week["over_target"],
        week["unanswered"],
        week["busy"],
    ) == (4, 1, 1, 1, 1)
    assert week["avg_response_s"] == 9.5 and week["avg_talk_s"] == 75.0 and week["avg_unanswered_s"] == 20.0
    assert week["pct_answered"] == 50.0 and week["pct_within_target"] == 25.0
    assert total["received"] == 4 and "holiday" not in total
