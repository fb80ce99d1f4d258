"""The report's tables and headline figures equal the 2013 Board paper on the reference data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from casework.report.data import ReportData, gather
from casework.report.figures import headline_figures
from casework.report.tables import TABLE_KEYS, TIMELINESS_KEY, build_tables
from casework.settings import Settings
from store.cases import open_case, set_status
from store.db import session_scope
from tests.report.conftest import PERIOD, load_reference


def _without_holiday(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "holiday"} for row in rows]


def test_report_tables_equal_the_2013_figures(
    engine: Engine, settings: Settings, expected: dict[str, Any]
) -> None:
    """Runs on SQLite and PostgreSQL: every table the report prints is the reference JSON."""
    load_reference(engine, settings)
    with session_scope(engine) as session:
        data = gather(session, settings=settings, **PERIOD)
    tables = {table.key: table for table in build_tables(data.tables)}
    assert tuple(tables) == (*TABLE_KEYS, TIMELINESS_KEY)
    for key in TABLE_KEYS:
        assert _without_holiday(tables[key].rows) == expected[key], key
    # the closure-time chart's per-case spread adds up to the closure table it illustrates
    total = next(row for row in expected["closure_times"] if row["month"] == "total")
    assert len(data.closures) == total["closed"]
    assert sum(1 for days, _, _ in data.closures if days <= 28) == total["within_28"]
    assert sum(1 for _, _, in_time in data.closures if in_time) == total["within_deadline"]


def test_headline_figures_equal_the_papers_text(reference_data: ReportData) -> None:
    """Para 3: 1,111 cases; para 4: 123 a month; para 11: 112 calls a week and 95% in target."""
    f = headline_figures(reference_data)
    assert f.total_cases == 1111
    assert f.monthly_average_whole == 123
    assert f.calls_per_week_whole == 112
    assert f.pct_within_target_whole == 95
    # the paper's definitions, and the other reading shown beside them (reference README obs. 2)
    assert f.calls_per_week == 112.3 and f.weeks_with_calls == 34
    assert f.pct_within_target_weekly_mean == 95.1
    assert f.pct_within_target_pooled == 95.8
    # the statutory measure beside the 28-day stand-in (obs. 3: 434 vs 416 of 873)
    assert (f.within_deadline, f.within_28, f.cases_closed) == (434, 416, 873)
    assert f.pct_within_deadline == 49.7 and f.pct_within_28 == 47.7
    assert f.busiest_month == "2013-01" and f.busiest_month_cases == 164


def test_oldest_case_without_a_reply_skips_monitoring_and_reopened_cases(
    engine: Engine, settings: Settings
) -> None:
    """Para 7's figure: open or in progress and never answered; monitoring and re-opened don't count."""
    day = datetime(2013, 3, 4, 10, tzinfo=UTC)
    with session_scope(engine) as session:
        reopened = open_case(session, settings=settings, category="complaint", received_at=day)
        set_status(session, case=reopened, status="closed", actor="t", at=day + timedelta(days=3))
        set_status(session, case=reopened, status="open", actor="t", at=day + timedelta(days=9))
        monitoring = open_case(
            session, settings=settings, category="complaint", received_at=day + timedelta(days=1)
        )
        set_status(session, case=monitoring, status="monitoring", actor="t", at=day + timedelta(days=2))
        waiting = open_case(session, settings=settings, category="foi", received_at=day + timedelta(days=2))
        set_status(session, case=waiting, status="in_progress", actor="t", at=day + timedelta(days=4))
        answered = open_case(session, settings=settings, category="foi", received_at=day - timedelta(days=1))
        set_status(session, case=answered, status="closed", actor="t", at=day + timedelta(days=5))
        refs = (reopened.reference, waiting.reference)
    with session_scope(engine) as session:
        data = gather(
            session, settings=settings, start=date(2013, 3, 1), end=date(2013, 3, 31), as_of=date(2013, 4, 30)
        )
    assert data.oldest_unclosed is not None and data.oldest_unclosed.reference == refs[0]
    assert data.oldest_awaiting_reply is not None
    assert (data.oldest_awaiting_reply.reference, data.oldest_awaiting_reply.status) == (
        refs[1],
        "in_progress",
    )
    f = headline_figures(data)
    assert f.total_cases == 4 and f.busiest_month == "2013-03" and f.monthly_average == 4.0
    assert f.cases_closed == 1 and f.calls_received == 0 and f.calls_per_week is None


def test_weekly_mean_and_pooled_rates_differ_when_week_sizes_differ(reference_data: ReportData) -> None:
    """The two definitions of % in target are computed separately, not copied from each other."""
    tables = dict(reference_data.tables)
    calls = [dict(row) for row in tables["calls"]]
    weeks = [row for row in calls if row["week_commencing"] != "total" and row["received"]]
    # one tiny week at 0% drags the weekly mean far more than the pooled figure
    weeks[0].update(received=1, within_target=0, over_target=0, unanswered=1, busy=0)
    total = next(row for row in calls if row["week_commencing"] == "total")
    total["received"] = sum(r["received"] for r in weeks)
    total["within_target"] = sum(r["within_target"] for r in weeks)
    total["pct_within_target"] = round(total["within_target"] / total["received"] * 100, 1)
    tables["calls"] = calls
    f = headline_figures(ReportData(tables=tables))
    mean = sum(r["within_target"] / r["received"] for r in weeks) / len(weeks) * 100
    assert f.pct_within_target_weekly_mean == round(mean, 1)
    assert f.pct_within_target_pooled == total["pct_within_target"]
    assert f.pct_within_target_weekly_mean is not None and f.pct_within_target_pooled is not None
    assert f.pct_within_target_weekly_mean < f.pct_within_target_pooled - 1


def test_a_period_with_no_data_still_renders(engine: Engine, settings: Settings) -> None:
    """An empty month gives zero rows and N/A figures, not a crash (e.g. a new office's first report)."""
    from casework.report import render

    with session_scope(engine) as session:
        data = gather(
            session, settings=settings, start=date(2020, 1, 1), end=date(2020, 1, 31), as_of=date(2020, 2, 1)
        )
    f = headline_figures(data)
    assert (f.total_cases, f.busiest_month, f.pct_within_deadline, f.calls_per_week) == (0, None, None, None)
    assert f.oldest_awaiting_reply is None and f.oldest_unclosed is None
    files = render(data, ["html", "md", "csv"])
    assert "N/A" in files["report.md"].decode() and files["report.html"].count(b"data:image/png;base64,") == 5
