"""What the report reads from the store: the Board tables plus the few per-case facts they lack.

``board_tables`` gives every table; the report also needs the spread of closure times (for the
distribution chart) and the oldest cases still without a reply (a figure para 7 of the 2013
paper quotes). Both are read here, with plain keyword-only queries on a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from casework.settings import Settings
from store.enums import EventKind, Status
from store.models import Case, CaseEvent
from store.stats import office_tables
from store.timeliness import foi_clock_summary
from store.workdays import LONDON

BATCH = 200

CASES = Case.__table__  # type: ignore[attr-defined]
EVENTS = CaseEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OldestCase:
    reference: str
    received_on: date
    status: str


@dataclass
class ReportData:
    """Everything one report is drawn from; every figure in it is traceable to these."""

    tables: dict[str, Any]
    office_name: str = "Office of the Police and Crime Commissioner"
    deadline_days: int = 20
    call_target_seconds: int = 9
    aged_days: int = 28
    #: (calendar days, working days, closed by the due date) for each case closed in the range
    closures: list[tuple[int, int, bool]] = field(default_factory=list)
    oldest_unclosed: OldestCase | None = None
    oldest_awaiting_reply: OldestCase | None = None
    #: FOI extensions and clock stops in the range (:func:`store.timeliness.foi_clock_summary`)
    foi_clocks: dict[str, int] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return date.fromisoformat(self.tables["from"])

    @property
    def end(self) -> date:
        return date.fromisoformat(self.tables["to"])

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.tables["as_of"])


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=LONDON)


#: closed by the final due date, or while the clock stood stopped from before it (store.stats)
_in_time = (CASES.c.closed_on <= CASES.c.due_on) | (CASES.c.clock_stopped_on <= CASES.c.due_on)


def closure_times(session: Session, *, start: date, end: date, as_of: date) -> list[tuple[int, int, bool]]:
    """Days and working days taken by every case closed in [start, end] (and by ``as_of``), and
    whether it was closed by its due date — the same cases the closure-time table counts."""
    rows = session.execute(
        select(CASES.c.days_taken, CASES.c.working_days_taken, _in_time).where(
            CASES.c.closed_on.between(start, min(end, as_of))
        )
    )
    return [(int(days or 0), int(working or 0), bool(in_time)) for days, working, in_time in rows]


def _history(session: Session, case_ids: list[int], cutoff: datetime) -> dict[int, tuple[str | None, bool]]:
    """Each case's last status before ``cutoff`` in its history, and whether it had been closed."""
    found: dict[int, tuple[str | None, bool]] = {case_id: (None, False) for case_id in case_ids}
    rows = session.execute(
        select(EVENTS.c.case_id, EVENTS.c.new_value)
        .where(
            EVENTS.c.case_id.in_(case_ids),
            EVENTS.c.kind.in_((EventKind.CREATED.value, EventKind.STATUS.value)),
            EVENTS.c.at < cutoff,
        )
        .order_by(EVENTS.c.case_id, EVENTS.c.at, EVENTS.c.id)
    )
    for case_id, status in rows:
        _, closed_before = found[case_id]
        found[case_id] = (status, closed_before or status == Status.CLOSED.value)
    return found


def oldest_unclosed(
    session: Session, *, start: date, end: date, as_of: date, awaiting_reply: bool = False
) -> OldestCase | None:
    """The earliest-received case in the range still not closed at the end of ``as_of``.

    With ``awaiting_reply``: only a case that is open or in progress then and has never been
    closed — para 7 of the 2013 paper leaves out re-opened cases (they had a reply) and
    monitoring cases (the IPCC or a court has them, so the Commissioner cannot reply yet).
    """
    query = (
        select(CASES.c.id, CASES.c.reference, CASES.c.received_on, CASES.c.status, CASES.c.status_changed_at)
        .where(
            CASES.c.received_on.between(start, min(end, as_of)),
            CASES.c.closed_on.is_(None) | (CASES.c.closed_on > as_of),
        )
        .order_by(CASES.c.received_at, CASES.c.id)
    )
    batch: list[Any] = []
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        batch.append(row)
        if len(batch) == BATCH:
            if (hit := _first_match(session, batch, as_of, awaiting_reply)) is not None:
                return hit
            batch = []
    return _first_match(session, batch, as_of, awaiting_reply) if batch else None


def _first_match(session: Session, batch: list[Any], as_of: date, awaiting_reply: bool) -> OldestCase | None:
    cutoff = _end_of(as_of)
    history = _history(session, [row.id for row in batch], cutoff)
    for row in batch:
        last, closed_before = history[row.id]
        # the current status holds if it was set by then (as store.stats reads it); else history
        status = row.status if row.status_changed_at < cutoff else (last or Status.OPEN.value)
        waiting = status in (Status.OPEN.value, Status.IN_PROGRESS.value) and not closed_before
        if waiting or not awaiting_reply:
            return OldestCase(row.reference, row.received_on, status)
    return None


def gather(session: Session, *, settings: Settings, start: date, end: date, as_of: date | None) -> ReportData:
    """Read everything one report needs for [start, end] as at ``as_of``."""
    tables = office_tables(session, settings=settings, start=start, end=end, as_of=as_of)
    as_of = date.fromisoformat(tables["as_of"])
    return ReportData(
        tables=tables,
        office_name=settings.office_name,
        deadline_days=settings.deadline_working_days,
        call_target_seconds=settings.call_target_seconds,
        aged_days=settings.aged_days,
        closures=closure_times(session, start=start, end=end, as_of=as_of),
        oldest_unclosed=oldest_unclosed(session, start=start, end=end, as_of=as_of),
        oldest_awaiting_reply=oldest_unclosed(
            session, start=start, end=end, as_of=as_of, awaiting_reply=True
        ),
        foi_clocks=foi_clock_summary(session, start=start, end=end, as_of=as_of),
    )
