"""Cases out, for the office's spreadsheets and for checking intake: one row per case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from store.models import Case, CaseParticipant, Correspondent, Message

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
PAGE = 2000


def export_cases(session: Session) -> Iterator[dict[str, Any]]:
    """Every case in reference order, read a page at a time so memory stays flat."""
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
        for c in cases:
            yield {
                "reference": c.reference,
                "category": c.category,
                "status": c.status,
                "received_at": c.received_at.isoformat(),
                "due_on": c.due_on.isoformat(),
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
                "message_ids": message_ids.get(c.id, []),
                "participants": participants.get(c.id, []),
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
