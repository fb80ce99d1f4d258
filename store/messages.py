"""Reading the messages on a case."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from store.models import Case, Message


def first_message(session: Session, *, case: Case) -> Message | None:
    return session.execute(
        select(Message).where(Message.case_id == case.id).order_by(Message.received_at, Message.id).limit(1)  # type: ignore[arg-type]
    ).scalar_one_or_none()


def label_text(session: Session, *, case: Case) -> str:
    """The text a classifier label is about: the subject and the first message's body."""
    message = first_message(session, case=case)
    body = message.body_text if message else ""
    return f"{case.subject}\n\n{body}".strip()
