"""The timeliness table: cases received each month, answered or open, in time or late.

Columns ``month, received, responded_in_time, responded_late, open_in_time, open_late,
performance_pct``, one row per month received plus ``total``, the same per category. As at
``as_of``, a case received in the range is:

* *responded* when it closed on or before ``as_of`` (the closure stands for the final
  response), *in time* when that was on or before its final due date;
* otherwise *open*, *in time* while ``as_of`` is on or before its due date;
* a case whose clock stopped on or before its due date (and has not restarted) is in time:
  its deadline is not running.

``performance_pct`` = (responded in time + open in time) / received × 100, the Ministry of
Justice's "Performance %". The four counts add up to ``received`` on every row, by construction.
One indexed ``GROUP BY`` over receipt day and category, as the other Board tables.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from store.enums import Category
from store.models import Case

CASES = Case.__table__  # type: ignore[attr-defined]
COLUMNS = ("received", "responded_in_time", "responded_late", "open_in_time", "open_late")


def _months(start: date, end: date) -> list[str]:
    from store.stats import months

    return months(start, end)


def timeliness_tables(session: Session, *, start: date, end: date, as_of: date) -> dict[str, Any]:
    """``{"timeliness": rows, "timeliness_by_category": {category: rows}}``."""
    c = CASES.c
    responded = and_(c.closed_on.is_not(None), c.closed_on <= as_of)
    paused = and_(c.clock_stopped_on.is_not(None), c.clock_stopped_on <= c.due_on)
    responded_in_time = and_(responded, or_(c.closed_on <= c.due_on, paused))
    open_in_time = and_(~responded, or_(c.due_on >= as_of, paused))

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        select(
            c.received_on,
            c.category,
            func.count(),
            count(responded),
            count(responded_in_time),
            count(open_in_time),
        )
        .where(c.received_on.between(start, min(end, as_of)))
        .group_by(c.received_on, c.category)
    )
    names = _months(start, end)
    overall: dict[str, dict[str, int]] = {m: defaultdict(int) for m in names}
    by_category: dict[str, dict[str, dict[str, int]]] = {
        cat.value: {m: defaultdict(int) for m in names} for cat in Category
    }
    for received_on, category, received, answered, answered_in_time, unanswered_in_time in rows:
        received, answered = int(received), int(answered or 0)
        answered_in_time, unanswered_in_time = int(answered_in_time or 0), int(unanswered_in_time or 0)
        values = {
            "received": received,
            "responded_in_time": answered_in_time,
            "responded_late": answered - answered_in_time,
            "open_in_time": unanswered_in_time,
            "open_late": received - answered - unanswered_in_time,
        }
        month = f"{received_on.year:04d}-{received_on.month:02d}"
        targets = [overall[month]]
        if category in by_category:
            targets.append(by_category[category][month])
        for target in targets:
            for key, value in values.items():
                target[key] += value
    return {
        "timeliness": _table(overall),
        "timeliness_by_category": {cat: _table(months) for cat, months in by_category.items()},
    }


def _table(by_month: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    from store.stats import percent

    table = []
    total = dict.fromkeys(COLUMNS, 0)
    for label, counts in [*by_month.items(), ("total", total)]:
        if label != "total":
            for key in COLUMNS:
                total[key] += counts.get(key, 0)
        row: dict[str, Any] = {"month": label, **{key: counts.get(key, 0) for key in COLUMNS}}
        row["performance_pct"] = percent(row["responded_in_time"] + row["open_in_time"], row["received"])
        table.append(row)
    return table


def foi_clock_summary(session: Session, *, start: date, end: date, as_of: date) -> dict[str, int]:
    """FOI cases received in [start, end]: how many were extended (and by how many working days
    in all) and how many had their clock stopped for each reason, by ``as_of``.

    For the Board report's commentary: extensions and clarifications explain FOI due dates
    later than 20 working days after receipt.
    """
    from store.models import ClockEvent

    events = ClockEvent.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(
            events.c.kind,
            events.c.reason,
            func.count(func.distinct(events.c.case_id)),
            func.count(),
            func.sum(events.c.working_days),
        )
        .join(CASES, CASES.c.id == events.c.case_id)
        .where(
            CASES.c.category == Category.FOI.value,
            CASES.c.received_on.between(start, min(end, as_of)),
            events.c.on <= as_of,
            events.c.kind.in_(("stop", "extend")),
        )
        .group_by(events.c.kind, events.c.reason)
    )
    summary = {"extended_cases": 0, "extended_working_days": 0, "clarification": 0, "fee": 0, "other": 0}
    for kind, reason, cases, _count, days in rows:
        if kind == "extend":
            summary["extended_cases"] += int(cases)
            summary["extended_working_days"] += int(days or 0)
        elif reason in summary:
            summary[reason] += int(cases)
    return summary
