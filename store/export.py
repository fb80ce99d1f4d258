"""Cases out, for the office's spreadsheets and for checking intake: one row per case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from casework.settings import Settings
from store import clocks
from store.models import Case, CaseParticipant, Correspondent, Message
from store.workdays import calendar, local_date

EXPORT_FIELDS = [
    "reference",
    "category",
    "status",
    "received_at",
    "due_on",
    "closed_at",
    "message_ids",
    "participants",
]
#: the statutory clock's keys (store.clocks), in the JSON export only: the CSV's columns are a
#: contract with the office's spreadsheets
CLOCK_FIELDS = [
    "original_due_on",
    "clock",
    "stopped_working_days",
    "extended_working_days",
    "days_late",
    "review_of",
]
#: keys the JSON export has beyond the CSV's columns (keys are only ever added)
JSON_ONLY_FIELDS = ["stage", "responded_at"]
PAGE = 2000


def export_cases(
    session: Session, *, settings: Settings | None = None, today: date | None = None
) -> Iterator[dict[str, Any]]:
    """Every case in reference order, read a page at a time so memory stays flat.

    ``days_late`` counts the working days after the final due date on which the final response
    went out (``responded_at``; a case closed without one: its closure), or for a case not yet
    answered, as at ``today``. A case re-opened by a later letter keeps its first answer's date.
    """
    settings = settings or Settings()
    today = today or clocks.today_london()
    cal = calendar(settings.closure_dates)
    last_id = 0
    while True:
        cases = list(
            session.execute(
                select(
                    col(Case.id),
                    col(Case.reference),
                    col(Case.category),
                    col(Case.status),
                    col(Case.received_at),
                    col(Case.due_on),
                    col(Case.closed_at),
                    col(Case.closed_on),
                    col(Case.received_on),
                    col(Case.review_of_id),
                    col(Case.stage),
                    col(Case.responded_at),
                )
                .where(col(Case.id) > last_id)
                .order_by(col(Case.id))
                .limit(PAGE)
            ).all()
        )
        if not cases:
            return
        ids = [c.id for c in cases]
        last_id = ids[-1]
        message_ids: dict[int, list[str]] = defaultdict(list)
        for case_id, message_id in session.execute(
            select(col(Message.case_id), col(Message.message_id))
            .where(col(Message.case_id).in_(ids))
            .order_by(col(Message.id))
        ):
            if message_id:
                message_ids[case_id].append(message_id)
        participants: dict[int, list[str]] = defaultdict(list)
        for case_id, email in session.execute(
            select(col(CaseParticipant.case_id), col(Correspondent.email))
            .join(Correspondent, col(Correspondent.id) == col(CaseParticipant.correspondent_id))
            .where(col(CaseParticipant.case_id).in_(ids))
            .order_by(col(CaseParticipant.id))
        ):
            if email not in participants[case_id]:
                participants[case_id].append(email)
        steps = clocks.steps_by_case(session, ids)
        originals = {c.review_of_id for c in cases if c.review_of_id is not None}
        review_of: dict[int, str] = {}
        if originals:
            query = select(col(Case.id), col(Case.reference)).where(col(Case.id).in_(originals))
            review_of = {row.id: row.reference for row in session.execute(query)}
        for c in cases:
            policy = settings.policy(c.category)
            period = policy.review_working_days if c.review_of_id is not None else policy.working_days
            state = clocks.compute(
                received_on=c.received_on, period=period, steps=steps.get(c.id, []), cal=cal, today=today
            )
            yield {
                "reference": c.reference,
                "category": c.category,
                "status": c.status,
                "received_at": c.received_at.isoformat(),
                "due_on": c.due_on.isoformat(),
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
                "message_ids": message_ids.get(c.id, []),
                "participants": participants.get(c.id, []),
                "original_due_on": state.original_due_on.isoformat(),
                "clock": state.clock,
                "stopped_working_days": state.stopped_working_days,
                "extended_working_days": state.extended_working_days,
                "days_late": state.days_late(
                    cal, end=local_date(c.responded_at) if c.responded_at else c.closed_on or today
                ),
                "review_of": review_of.get(c.review_of_id) if c.review_of_id is not None else None,
                "stage": c.stage,
                "responded_at": c.responded_at.isoformat() if c.responded_at else None,
            }


#: what a spreadsheet reads as the start of a formula (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell: text a spreadsheet would run as a formula gets a leading ``'``.

    Subjects and names come from the public; ``=HYPERLINK(...)`` in a subject must open as text
    in Excel or LibreOffice, not as a live formula. Numbers are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
