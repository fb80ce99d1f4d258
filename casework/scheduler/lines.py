"""Reading unclosed cases for the scheduler: plain columns, one query, plus their status notes.

The warning pass and the digest both need "what is this case and where does it stand" for a
few thousand cases at most; they select only the columns they show (no ORM objects, no body
text) through the ``ix_cases_status_due_on`` index, and fetch the notes that explain a status
("referred to force") in one batched query rather than one per case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, select, type_coerce
from sqlmodel import Session

from casework.scheduler.messages import CaseLine, short
from store.enums import Category, EventKind, Status
from store.models import Case, CaseEvent
from store.workdays import WorkingCalendar

#: how many ids go into one ``IN (…)``: under SQLite's bound-parameter limit everywhere
CHUNK = 900


@dataclass(frozen=True)
class CaseRow:
    id: int
    reference: str
    category: str
    status: str
    subject: str
    assignee: str | None
    received_on: date
    due_on: date


COLUMNS = (
    Case.id,
    Case.reference,
    Case.category,
    Case.status,
    Case.subject,
    Case.assignee,
    Case.received_on,
    Case.due_on,
)


UNCLOSED = (Status.OPEN.value, Status.IN_PROGRESS.value, Status.MONITORING.value)
#: the statuses the office can act on (monitoring cases wait on the IOPC or a court)
ACTING = (Status.OPEN.value, Status.IN_PROGRESS.value)


def unclosed_rows(
    session: Session,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    statuses: Sequence[str] = UNCLOSED,
    limit: int | None = None,
    running_only: bool = True,
) -> list[CaseRow]:
    """Cases in ``statuses`` (default: unclosed) matching ``where``, soonest due first, at most
    ``limit`` (``status IN`` and the order use the status/due index). A case whose clock is
    stopped has no running deadline, so it is left out unless ``running_only`` is False."""
    if running_only:
        where = [*where, Case.clock_stopped_on.is_(None)]  # type: ignore[union-attr]
    # Dates come back as the driver gives them (ISO text on SQLite) and are parsed once per
    # distinct value: SQLAlchemy's per-row date parsing was most of the cost of a big window.
    columns: list[Any] = [*COLUMNS[:-2], *(type_coerce(c, String) for c in COLUMNS[-2:])]
    query = (
        select(*columns)
        .where(Case.status.in_(statuses), *where)  # type: ignore[attr-defined]
        .order_by(Case.due_on, Case.reference)  # type: ignore[arg-type]
        .limit(limit)
    )
    dates: dict[object, date] = {}

    def day(value: object) -> date:
        found = dates.get(value)
        if found is None:
            found = dates[value] = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return found

    return [
        CaseRow(r[0], r[1], r[2], r[3], r[4], r[5], day(r[6]), day(r[7]))
        for r in session.connection().execute(query)
    ]


def status_notes(session: Session, case_ids: Iterable[int]) -> dict[int, str]:
    """The latest non-empty note of each in-progress case's status or note events."""
    notes: dict[int, str] = {}
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = (
            select(CaseEvent.case_id, CaseEvent.note)  # type: ignore[call-overload]
            .where(
                CaseEvent.case_id.in_(chunk),  # type: ignore[attr-defined]
                CaseEvent.kind.in_([EventKind.STATUS.value, EventKind.NOTE.value]),  # type: ignore[attr-defined]
                CaseEvent.note != "",
            )
            .order_by(CaseEvent.at, CaseEvent.id)  # type: ignore[arg-type]
        )
        for case_id, note in session.execute(query):
            notes[case_id] = note  # ordered by time: the last one wins
    return notes


def status_text(status: str, note: str | None) -> str:
    """Where a case stands, as a caseworker would say it ("waiting on the force")."""
    if status == Status.MONITORING.value:
        return "Monitoring (IOPC or court)"
    label = Status(status).label
    if not note:
        return label
    note = short(note, 80)
    if status == Status.IN_PROGRESS.value and "force" in note.lower():
        return f"Waiting on the force ({note})"
    return f"{label}: {note}"


def category_label(category: str) -> str:
    try:
        return Category(category).label
    except ValueError:
        return category


def case_lines(
    session: Session, rows: Sequence[CaseRow], *, today: date, cal: WorkingCalendar
) -> dict[int, CaseLine]:
    """A :class:`CaseLine` for each row, keyed by case id."""
    notes = status_notes(session, (r.id for r in rows if r.status == Status.IN_PROGRESS.value))
    left: dict[date, int] = {}
    waited: dict[date, int] = {}
    lines = {}
    for row in rows:
        if row.due_on not in left:
            left[row.due_on] = cal.working_days_left(today, row.due_on)
        if row.received_on not in waited:
            waited[row.received_on] = cal.working_days_between(row.received_on, today)
        lines[row.id] = CaseLine(
            reference=row.reference,
            category_label=category_label(row.category),
            subject=row.subject,
            status_text=status_text(row.status, notes.get(row.id)),
            assignee=row.assignee,
            due_on=row.due_on,
            working_days_left=left[row.due_on],
            waited_working_days=waited[row.received_on],
        )
    return lines
