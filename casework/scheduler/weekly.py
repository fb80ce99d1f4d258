"""The managers' weekly summary: last week's cases and calls against the week before.

Figures come from the Board report's own tables (:func:`store.stats.board_tables` and
:func:`store.stats.calls_table`) over Monday–Sunday of each week, so the summary and the
report can never disagree. It goes to each manager in ``CASEWORK_MANAGERS`` by direct message,
keyed ``weekly:{week commencing}:dm:{manager}``, on the configured day
(``CASEWORK_WEEKLY_SUMMARY_DAY``/``_TIME``), or on the next working day of that week when the
day is a bank holiday (Easter Monday).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from casework.scheduler.messages import weekly_message
from casework.scheduler.record import Row, record
from casework.settings import Settings
from store.db import session_scope
from store.enums import Category
from store.workdays import LONDON, is_working_day

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass
class WeeklyResult:
    week_start: date
    reason: str = ""
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "week_commencing": self.week_start.isoformat(),
            "reason": self.reason,
            "rows": [list(r) for r in self.rows],
            "queued": len(self.queued),
        }


def summary_day(settings: Settings, today: date) -> date:
    """The day of ``today``'s week the summary goes out: the configured day, or the next working day."""
    day = today - timedelta(days=today.weekday()) + timedelta(days=DAYS.index(settings.weekly_summary_day))
    while not is_working_day(day) and day.weekday() < 5:
        day += timedelta(days=1)
    return day


def summary_due(settings: Settings, now: datetime) -> str:
    """Empty when the weekly summary is due at ``now``, else why not."""
    local = now.astimezone(LONDON)
    today = local.date()
    day = summary_day(settings, today)
    if today < day or (today == day and local.time() < settings.weekly_summary_time):
        return f"the weekly summary is due on {day.isoformat()} at {settings.weekly_summary_time:%H:%M}"
    if not is_working_day(today):
        return f"{today.isoformat()} is not a working day"
    return ""


def _total(rows: list[dict[str, Any]], label_key: str) -> dict[str, Any]:
    """The table's "total" row (the Board tables end with one)."""
    for row in rows:
        if row.get(label_key) == "total":
            return row
    return {}


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}{suffix}"
    return f"{value}{suffix}"


def week_figures(session: Session, settings: Settings, *, start: date) -> dict[str, Any]:
    """The measures of one Monday–Sunday week, from the Board tables."""
    from store.stats import calls_table, office_tables

    end = start + timedelta(days=6)
    tables = office_tables(session, settings=settings, start=start, end=end, as_of=end)
    categories = _total(tables.get("categories", []), "month")
    closures = _total(tables.get("closure_times", []), "month")
    calls = _total(
        calls_table(session, start=start, end=end, call_target_seconds=settings.call_target_seconds),
        "week_commencing",
    )
    figures: dict[str, Any] = {"Cases received": categories.get("total", 0)}
    for category in Category:
        figures[f"  {category.label}"] = categories.get(category.value, 0)
    figures["Cases closed"] = closures.get("closed", 0)
    figures["Closed within deadline"] = _fmt(closures.get("pct_within_deadline"), "%")
    figures["Calls received"] = calls.get("received", 0)
    figures["Calls answered"] = _fmt(calls.get("pct_answered"), "%")
    figures[f"Answered within {settings.call_target_seconds}s"] = _fmt(calls.get("pct_within_target"), "%")
    return figures


def run_weekly(engine: Engine, settings: Settings, *, now: datetime) -> WeeklyResult:
    today = now.astimezone(LONDON).date()
    this_week = today - timedelta(days=today.weekday())
    last_week = this_week - timedelta(days=7)
    result = WeeklyResult(week_start=last_week)
    result.reason = summary_due(settings, now)
    if result.reason:
        return result
    if not settings.managers:
        result.reason = "CASEWORK_MANAGERS is not set"
        return result
    with session_scope(engine) as session:
        last = week_figures(session, settings, start=last_week)
        before = week_figures(session, settings, start=last_week - timedelta(days=7))
        result.rows = [(name, _fmt(last[name]), _fmt(before[name])) for name in last]
        text, blocks = weekly_message(last_week, result.rows, note="Figures as in the Board report's tables.")
        rows = [
            Row(
                key=f"weekly:{last_week.isoformat()}:dm:{manager}",
                kind="slack.dm",
                target=manager,
                payload={"user": manager, "text": text, "blocks": blocks},
            )
            for manager in settings.managers
        ]
        result.queued = record(session, rows)
    log.info("weekly summary for %s: %d newly queued", last_week, len(result.queued))
    return result
