"""The Board's tables, computed from the store.

Each table is one indexed ``GROUP BY`` per *day* (received, closed or started), folded into
months or weeks here. Grouping by day keeps the SQL identical on SQLite and PostgreSQL (no
dialect date functions) and the result small (a few hundred rows a year), so a twelve-month
summary over a million cases costs about as much as the hand-written GROUP BY.

Definitions (see docs/statistics.md for the reasoning):
- local dates are Europe/London, stored beside each timestamp when the row is written;
- status "as at" a date: closed if closed on or before it; otherwise the status recorded
  then — the case's current status when it last changed before the end of that day, else the
  newest status in its history up to then;
- days taken = closed date − received date; working days taken = UK working days d with
  received < d ≤ closed; within deadline = closed on or before the final due date (after clock
  stops and extensions, :mod:`store.clocks`), or closed while the clock stood stopped from
  before that date;
- percentages run 0–100; figures are rounded half-up to one decimal; ``None`` where the
  denominator is zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from casework.settings import Settings
from store.enums import Category, EventKind, Status
from store.models import Call, CaseEvent
from store.models import Case as CaseRow
from store.workdays import LONDON, holiday_name

CASES = CaseRow.__table__  # type: ignore[attr-defined]
CALLS = Call.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]

UNCLOSED = (Status.OPEN.value, Status.IN_PROGRESS.value, Status.MONITORING.value)


def round1(numerator: float | int | Decimal, denominator: float | int | Decimal) -> float | None:
    """``numerator / denominator`` rounded half-up to one decimal, or None when undefined."""
    if not denominator:
        return None
    value = Decimal(str(numerator)) / Decimal(str(denominator))
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(part: int, whole: int) -> float | None:
    return round1(Decimal(part) * 100, whole)


def months(start: date, end: date) -> list[str]:
    """Every month (``YYYY-MM``) that overlaps [start, end]."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def weeks(start: date, end: date) -> list[date]:
    """The Monday of every week that overlaps [start, end]."""
    monday = start - timedelta(days=start.weekday())
    found = []
    while monday <= end:
        found.append(monday)
        monday += timedelta(days=7)
    return found


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` ends in the office's time zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# --- cases ------------------------------------------------------------------------------------


def categories_table(session: Session, *, start: date, end: date) -> list[dict[str, Any]]:
    """Cases received in [start, end] by month received and category."""
    counts: dict[str, dict[str, int]] = {m: defaultdict(int) for m in months(start, end)}
    rows = session.execute(
        select(CASES.c.received_on, CASES.c.category, func.count())
        .where(CASES.c.received_on.between(start, end))
        .group_by(CASES.c.received_on, CASES.c.category)
    )
    for received_on, category, count in rows:
        counts[_month(received_on)][category] += count
    names = [c.value for c in Category]
    return _with_total("month", counts, names)


def _status_by_day(session: Session, *, start: date, end: date, as_of: date) -> dict[date, dict[str, int]]:
    """Cases received in [start, end] by day received and status as at the end of ``as_of``."""
    cutoff = end_of_day(as_of)
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    in_range = CASES.c.received_on.between(start, end)
    # One scan of the covering index, grouped in index order: per day and recorded status, how
    # many were closed by as_of (→ closed) and how many changed after it (→ read from history);
    # the rest have had their recorded status since before the end of as_of.
    closed_then = CASES.c.closed_on <= as_of
    changed_since = and_(
        or_(CASES.c.closed_on.is_(None), CASES.c.closed_on > as_of), CASES.c.status_changed_at >= cutoff
    )
    rows = session.execute(
        select(
            CASES.c.received_on,
            CASES.c.status,
            func.count(),
            func.sum(case((closed_then, 1), else_=0)),
            func.sum(case((changed_since, 1), else_=0)),
        )
        .where(in_range)
        .group_by(CASES.c.received_on, CASES.c.status)
    )
    needs_history = False
    for received_on, status, count, closed, changed in rows:
        closed, changed = int(closed or 0), int(changed or 0)
        day = by_day[received_on]
        day[Status.CLOSED.value] += closed
        if count - closed - changed:
            day[status] += count - closed - changed
        needs_history = needs_history or changed > 0
    if not needs_history:
        return by_day
    changed = dict(
        session.execute(
            select(CASES.c.id, CASES.c.received_on).where(
                in_range,
                or_(CASES.c.closed_on.is_(None), CASES.c.closed_on > as_of),
                CASES.c.status_changed_at >= cutoff,
            )
        ).all()
    )
    for case_id, status in _statuses_from_history(session, list(changed), cutoff).items():
        by_day[changed[case_id]][status] += 1
    return by_day


def _statuses_from_history(session: Session, case_ids: list[int], cutoff: datetime) -> dict[int, str]:
    found: dict[int, str] = {case_id: Status.OPEN.value for case_id in case_ids}
    kinds = (EventKind.CREATED.value, EventKind.STATUS.value)
    for chunk in _chunks(case_ids, 500):
        rows = session.execute(
            select(EVENTS.c.case_id, EVENTS.c.new_value)
            .where(EVENTS.c.case_id.in_(chunk), EVENTS.c.kind.in_(kinds), EVENTS.c.at < cutoff)
            .order_by(EVENTS.c.case_id, EVENTS.c.at, EVENTS.c.id)
        )
        for case_id, status in rows:
            found[case_id] = status  # ordered by time: the last one wins
    return found


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def statuses_table(by_day: dict[date, dict[str, int]], *, start: date, end: date) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {m: defaultdict(int) for m in months(start, end)}
    for day, statuses in by_day.items():
        for status, count in statuses.items():
            counts[_month(day)][status] += count
    return _with_total("month", counts, [s.value for s in Status])


def aged_table(
    by_day: dict[date, dict[str, int]], *, start: date, end: date, as_of: date, aged_days: int
) -> list[dict[str, Any]]:
    """Unclosed cases received more than ``aged_days`` days before ``as_of``."""
    counts: dict[str, dict[str, int]] = {m: defaultdict(int) for m in months(start, end)}
    for day, statuses in by_day.items():
        if (as_of - day).days > aged_days:
            for status in UNCLOSED:
                counts[_month(day)][status] += statuses.get(status, 0)
    return _with_total("month", counts, list(UNCLOSED))


@dataclass
class _Closure:
    closed: int = 0
    days: int = 0
    within: int = 0
    days_within: int = 0
    working_days: int = 0
    within_deadline: int = 0

    def add(self, other: _Closure) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, label: str) -> dict[str, Any]:
        over = self.closed - self.within
        return {
            "month": label,
            "closed": self.closed,
            "avg_days": round1(self.days, self.closed),
            "within_28": self.within,
            "pct_within_28": percent(self.within, self.closed),
            "avg_days_within_28": round1(self.days_within, self.within),
            "avg_days_over_28": round1(self.days - self.days_within, over),
            "avg_working_days": round1(self.working_days, self.closed),
            "within_deadline": self.within_deadline,
            "pct_within_deadline": percent(self.within_deadline, self.closed),
        }


_STOPPED_IN_TIME = CASES.c.clock_stopped_on <= CASES.c.due_on


def closure_table(
    session: Session, *, start: date, end: date, as_of: date, aged_days: int
) -> list[dict[str, Any]]:
    """Cases closed in [start, end] (and by ``as_of``) by month closed, with how long they took."""
    within = CASES.c.days_taken <= aged_days
    rows = session.execute(
        select(
            CASES.c.closed_on,
            func.count(),
            func.sum(CASES.c.days_taken),
            func.sum(case((within, 1), else_=0)),
            func.sum(case((within, CASES.c.days_taken), else_=0)),
            func.sum(CASES.c.working_days_taken),
            # the final due date; a case closed while its clock stood stopped from before its
            # due date (a lapsed clarification) was not late
            func.sum(case((or_(CASES.c.closed_on <= CASES.c.due_on, _STOPPED_IN_TIME), 1), else_=0)),
        )
        .where(CASES.c.closed_on.between(start, min(end, as_of)))
        .group_by(CASES.c.closed_on)
    )
    by_month = {m: _Closure() for m in months(start, end)}
    for closed_on, *sums in rows:
        by_month[_month(closed_on)].add(_Closure(*(int(f or 0) for f in sums)))
    total = _Closure()
    table = []
    for label, month in by_month.items():
        table.append(month.row(label))
        total.add(month)
    table.append(total.row("total"))
    return table


def _with_total(key: str, counts: dict[str, dict[str, int]], names: list[str]) -> list[dict[str, Any]]:
    table, totals = [], dict.fromkeys(names, 0)
    for label, row in counts.items():
        values = {name: row.get(name, 0) for name in names}
        table.append({key: label, **values, "total": sum(values.values())})
        for name in names:
            totals[name] += values[name]
    table.append({key: "total", **totals, "total": sum(totals.values())})
    return table


# --- calls ------------------------------------------------------------------------------------


@dataclass
class _Calls:
    within: int = 0
    over: int = 0
    unanswered: int = 0
    busy: int = 0
    wait_answered: float = 0.0
    wait_abandoned: float = 0.0
    talk: float = 0.0
    holidays: list[str] = field(default_factory=list)

    def add(self, other: _Calls) -> None:
        for name in ("within", "over", "unanswered", "busy", "wait_answered", "wait_abandoned", "talk"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, label: str) -> dict[str, Any]:
        answered = self.within + self.over
        received = answered + self.unanswered + self.busy
        row: dict[str, Any] = {
            "week_commencing": label,
            "received": received,
            "within_target": self.within,
            "over_target": self.over,
            "unanswered": self.unanswered,
            "busy": self.busy,
            "avg_response_s": round1(self.wait_answered, answered),
            "avg_unanswered_s": round1(self.wait_abandoned, self.unanswered),
            "avg_talk_s": round1(self.talk, answered),
            "pct_answered": percent(answered, received),
            "pct_within_target": percent(self.within, received),
        }
        if self.holidays:
            row["holiday"] = "; ".join(self.holidays)
        return row


def calls_table(
    session: Session, *, start: date, end: date, call_target_seconds: int = 9
) -> list[dict[str, Any]]:
    """Calls started in [start, end], by week commencing Monday, then a ``total`` row.

    Every week that overlaps the range has a row; weeks with a UK bank holiday carry
    ``holiday`` with its name, as the report marks Christmas and Easter.
    """
    answered = CALLS.c.outcome == "answered"
    abandoned = CALLS.c.outcome == "abandoned"
    rows = session.execute(
        select(
            CALLS.c.started_on,
            func.sum(case((and_(answered, CALLS.c.wait_s <= call_target_seconds), 1), else_=0)),
            func.sum(case((and_(answered, CALLS.c.wait_s > call_target_seconds), 1), else_=0)),
            func.sum(case((abandoned, 1), else_=0)),
            func.sum(case((CALLS.c.outcome == "busy", 1), else_=0)),
            func.sum(case((answered, CALLS.c.wait_s), else_=0)),
            func.sum(case((abandoned, CALLS.c.wait_s), else_=0)),
            func.sum(case((answered, CALLS.c.talk_s), else_=0)),
        )
        .where(CALLS.c.started_on.between(start, end))
        .group_by(CALLS.c.started_on)
    )
    by_week = {monday: _Calls() for monday in weeks(start, end)}
    for monday, figures in by_week.items():
        for offset in range(7):
            name = holiday_name(monday + timedelta(days=offset))
            if name:
                figures.holidays.append(name)
    for started_on, *values in rows:
        monday = started_on - timedelta(days=started_on.weekday())
        within, over, unanswered, busy = (int(v or 0) for v in values[:4])
        wait_answered, wait_abandoned, talk = (float(v or 0) for v in values[4:])
        by_week[monday].add(_Calls(within, over, unanswered, busy, wait_answered, wait_abandoned, talk))
    total = _Calls()
    table = []
    for monday, figures in by_week.items():
        table.append(figures.row(monday.isoformat()))
        total.add(figures)
    table.append(total.row("total"))
    return table


def calls_by_hour(
    session: Session, *, start: date, end: date, call_target_seconds: int = 9
) -> list[dict[str, Any]]:
    """Calls started in [start, end] by Europe/London hour of day (0–23): when the phones need cover.

    ``received``, ``within_target`` and ``unanswered`` are counted exactly as in :func:`calls_table`
    (unanswered = abandoned; busy calls are received but neither). The hour needs the local time,
    which no portable SQL gives, so the rows' start times are read and folded here: a year of an
    office's calls is a few thousand rows.
    """
    hours = [{"hour": h, "received": 0, "within_target": 0, "unanswered": 0} for h in range(24)]
    rows = session.execute(
        select(CALLS.c.started_at, CALLS.c.outcome, CALLS.c.wait_s).where(
            CALLS.c.started_on.between(start, end)
        )
    )
    for started_at, outcome, wait_s in rows:
        row = hours[started_at.astimezone(LONDON).hour]
        row["received"] += 1
        if outcome == "answered" and (wait_s or 0) <= call_target_seconds:
            row["within_target"] += 1
        elif outcome == "abandoned":
            row["unanswered"] += 1
    return hours


# --- surgeries --------------------------------------------------------------------------------

SURGERY_COLUMNS = ("sessions", "cancelled_sessions", "slots", "booked", "attended", "late_cancellations",
                   "cancellations", "no_shows", "virtual_sessions", "meetings")  # fmt: skip


def surgeries_table(session: Session, *, start: date, end: date) -> list[dict[str, Any]]:
    """Surgeries and casework meetings held in [start, end], by month, then a ``total`` row.

    ``sessions`` counts every session scheduled in the month, cancelled ones included (as do
    ``virtual_sessions`` and ``meetings``); ``slots`` and ``booked`` count only the sessions that
    went ahead. ``booked`` is appointments that stood (kept, missed, or still to come);
    ``cancellations`` counts every appointment the person or the team cancelled, the late ones
    (under ``CASEWORK_SURGERY_LATE_CANCEL_HOURS`` before the slot) also in ``late_cancellations``.
    """
    from store.models import SurgeryBooking, SurgerySession

    sessions_t = SurgerySession.__table__  # type: ignore[attr-defined]
    bookings_t = SurgeryBooking.__table__  # type: ignore[attr-defined]
    by_month = {month: dict.fromkeys(SURGERY_COLUMNS, 0) for month in months(start, end)}
    cancelled: dict[int, bool] = {}
    month_of: dict[int, str] = {}
    for row in session.execute(
        select(sessions_t.c.id, sessions_t.c.held_on, sessions_t.c.status, sessions_t.c.slots,
               sessions_t.c.virtual_url, sessions_t.c.kind)
        .where(sessions_t.c.held_on.between(start, end))
    ):  # fmt: skip
        figures = by_month[_month(row.held_on)]
        month_of[row.id], cancelled[row.id] = _month(row.held_on), row.status == "cancelled"
        figures["sessions"] += 1
        figures["cancelled_sessions"] += row.status == "cancelled"
        figures["slots"] += 0 if row.status == "cancelled" else row.slots
        figures["virtual_sessions"] += bool(row.virtual_url)
        figures["meetings"] += row.kind == "meeting"
    if month_of:
        for row in session.execute(
            select(bookings_t.c.session_id, bookings_t.c.status, bookings_t.c.late, bookings_t.c.slot).where(
                bookings_t.c.session_id.in_(list(month_of))
            )
        ):
            figures = by_month[month_of[row.session_id]]
            if row.status in ("booked", "attended", "no_show") and not cancelled[row.session_id]:
                figures["booked"] += 1
            figures["attended"] += row.status == "attended"
            figures["no_shows"] += row.status == "no_show"
            # an appointment cancelled (one that held a slot: leaving a waiting list is not)
            appointment = row.status == "cancelled" and row.slot is not None
            figures["cancellations"] += appointment
            figures["late_cancellations"] += appointment and bool(row.late)
    total = dict.fromkeys(SURGERY_COLUMNS, 0)
    table = []
    for month, figures in by_month.items():
        table.append({"month": month, **figures})
        for name in SURGERY_COLUMNS:
            total[name] += figures[name]
    table.append({"month": "total", **total})
    return table


# --- everything -------------------------------------------------------------------------------


def today_local() -> date:
    return datetime.now(LONDON).date()


def board_tables(
    session: Session,
    *,
    start: date,
    end: date,
    as_of: date | None = None,
    call_target_seconds: int = 9,
    aged_days: int = 28,
) -> dict[str, Any]:
    """The JSON of ``casework stats --json``: every Board table for [start, end] as at ``as_of``."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    as_of = as_of or today_local()
    by_day = _status_by_day(session, start=start, end=end, as_of=as_of)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": as_of.isoformat(),
        "categories": categories_table(session, start=start, end=end),
        "statuses": statuses_table(by_day, start=start, end=end),
        "closure_times": closure_table(session, start=start, end=end, as_of=as_of, aged_days=aged_days),
        "aged_unclosed": aged_table(by_day, start=start, end=end, as_of=as_of, aged_days=aged_days),
        "calls": calls_table(session, start=start, end=end, call_target_seconds=call_target_seconds),
        "surgeries": surgeries_table(session, start=start, end=end),
    }


def office_tables(
    session: Session, *, settings: Settings, start: date, end: date, as_of: date | None = None
) -> dict[str, Any]:
    """:func:`board_tables` with the office's call target and aged threshold from its settings,
    the timeliness tables against each case's final due date (:mod:`store.timeliness`) and
    ``calls_by_hour`` (the hour-of-day profile the report charts)."""
    from store.timeliness import timeliness_tables

    tables = board_tables(
        session,
        start=start,
        end=end,
        as_of=as_of,
        call_target_seconds=settings.call_target_seconds,
        aged_days=settings.aged_days,
    )
    tables["calls_by_hour"] = calls_by_hour(
        session, start=start, end=end, call_target_seconds=settings.call_target_seconds
    )
    as_of_day = date.fromisoformat(tables["as_of"])
    return tables | timeliness_tables(session, start=start, end=end, as_of=as_of_day)
