"""Read-only questions the bot asks the store: lists of cases and one case in full.

Kept apart from the listeners (which only parse and reply) and from the block builders (which
only render). Every function takes a session and returns plain rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from store.enums import UNCLOSED
from store.models import Attachment, Campaign, Case, CaseEvent, CaseFile, Correspondent, Message

LIST_LIMIT = 20
MESSAGES_SHOWN = 8
EVENTS_SHOWN = 12

_OPEN = [status.value for status in UNCLOSED]
#: a stopped clock has no running deadline: such a case is neither due nor overdue
_RUNNING = col(Case.clock_stopped_on).is_(None)


@dataclass
class CaseList:
    cases: list[Case]
    total: int


@dataclass
class CaseDetail:
    case: Case
    correspondent: Correspondent | None
    messages: list[Message]
    message_count: int
    events: list[CaseEvent]
    event_count: int
    first_body: str = ""
    linked: str | None = None
    campaign_title: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: the case's internal reviews (``-R1``, ``-R2``…), oldest first
    reviews: list[Case] = field(default_factory=list)


def _list(session: Session, where: list[Any], *, limit: int = LIST_LIMIT) -> CaseList:
    rows = session.execute(
        select(Case).where(*where).order_by(col(Case.due_on), col(Case.id)).limit(limit)
    ).scalars()
    total = session.execute(select(func.count()).select_from(Case).where(*where)).scalar_one()
    return CaseList(list(rows), int(total))


def mine(session: Session, *, user: str, limit: int = LIST_LIMIT) -> CaseList:
    return _list(session, [col(Case.assignee) == user, col(Case.status).in_(_OPEN)], limit=limit)


def due_by(session: Session, *, last_day: date, today: date, limit: int = LIST_LIMIT) -> CaseList:
    """Unclosed cases due from today up to ``last_day``."""
    return _list(
        session,
        [col(Case.status).in_(_OPEN), col(Case.due_on) >= today, col(Case.due_on) <= last_day, _RUNNING],
        limit=limit,
    )


def overdue(session: Session, *, today: date, limit: int = LIST_LIMIT) -> CaseList:
    return _list(session, [col(Case.status).in_(_OPEN), col(Case.due_on) < today, _RUNNING], limit=limit)


def overdue_count(session: Session, *, today: date) -> int:
    return overdue(session, today=today, limit=0).total


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(session: Session, *, text: str, limit: int = LIST_LIMIT) -> CaseList:
    """Cases whose reference, subject or correspondent's name or address contains ``text``."""
    pattern = _like(text.strip())
    matching_people = select(col(Correspondent.id)).where(
        or_(
            col(Correspondent.name).ilike(pattern, escape="\\"),
            col(Correspondent.email).ilike(pattern, escape="\\"),
        )
    )
    where = [
        or_(
            col(Case.reference).ilike(pattern, escape="\\"),
            col(Case.subject).ilike(pattern, escape="\\"),
            col(Case.correspondent_id).in_(matching_people),
        )
    ]
    rows = session.execute(
        select(Case).where(*where).order_by(col(Case.received_at).desc(), col(Case.id).desc()).limit(limit)
    ).scalars()
    total = session.execute(select(func.count()).select_from(Case).where(*where)).scalar_one()
    return CaseList(list(rows), int(total))


def detail(session: Session, *, case: Case) -> CaseDetail:
    correspondent = session.get(Correspondent, case.correspondent_id) if case.correspondent_id else None
    by_case = col(Message.case_id) == case.id
    messages = list(
        session.execute(
            select(Message)
            .where(by_case)
            .order_by(col(Message.received_at), col(Message.id))
            .limit(MESSAGES_SHOWN)
        ).scalars()
    )
    message_count = int(
        session.execute(select(func.count()).select_from(Message).where(by_case)).scalar_one()
    )
    of_case = col(CaseEvent.case_id) == case.id
    events = list(
        session.execute(
            select(CaseEvent)
            .where(of_case)
            .order_by(col(CaseEvent.at).desc(), col(CaseEvent.id).desc())
            .limit(EVENTS_SHOWN)
        ).scalars()
    )
    events.reverse()
    event_count = int(
        session.execute(select(func.count()).select_from(CaseEvent).where(of_case)).scalar_one()
    )
    linked_case = session.get(Case, case.linked_case_id) if case.linked_case_id else None
    linked = linked_case.reference if linked_case else None
    campaign = session.get(Campaign, case.campaign_id) if case.campaign_id else None
    waiting = session.execute(
        select(col(CaseFile.filename))
        .where(col(CaseFile.case_id) == case.id, col(CaseFile.message_pk).is_(None))
        .order_by(col(CaseFile.id))
    ).scalars()
    files = [str(name) for name in waiting]
    reviews = session.execute(
        select(Case).where(col(Case.review_of_id) == case.id).order_by(col(Case.id))
    ).scalars()
    return CaseDetail(
        case=case,
        correspondent=correspondent,
        messages=messages,
        message_count=message_count,
        events=events,
        event_count=event_count,
        first_body=messages[0].body_text if messages else "",
        linked=linked,
        campaign_title=campaign.title if campaign else None,
        # the office's files waiting to go with the next reply (posted in the thread, --attach)
        extra={"files": "\n".join(files)} if files else {},
        reviews=list(reviews),
    )


# --- the case file ------------------------------------------------------------------------------

#: messages offered by the Read-letter modal's select (Slack's limit for options is higher)
LETTERS_LISTED = 50


@dataclass
class Letter:
    """One message of the case as the modal shows it."""

    pk: int
    direction: str
    at: datetime
    sender: str
    to: list[str]
    subject: str
    body: str


def _letter(message: Message) -> Letter:
    return Letter(
        pk=int(message.id or 0),
        direction=message.direction,
        at=message.sent_at or message.received_at,
        sender=f"{message.from_name} <{message.from_addr}>" if message.from_name else message.from_addr,
        to=list(message.to_addrs or []),
        subject=message.subject,
        body=message.body_text,
    )


def letters(session: Session, *, case: Case, limit: int = LETTERS_LISTED) -> tuple[list[Letter], int]:
    """The case's messages for the Read-letter select: the first one and the latest others."""
    by_case = col(Message.case_id) == case.id
    total = int(session.execute(select(func.count()).select_from(Message).where(by_case)).scalar_one())
    first = (
        session.execute(
            select(Message).where(by_case).order_by(col(Message.received_at), col(Message.id)).limit(1)
        )
        .scalars()
        .all()
    )
    latest = (
        session.execute(
            select(Message)
            .where(by_case, col(Message.id).not_in([m.id for m in first] or [0]))
            .order_by(col(Message.received_at).desc(), col(Message.id).desc())
            .limit(max(limit - 1, 0))
        )
        .scalars()
        .all()
    )
    rows = [*first, *sorted(latest, key=lambda m: (m.received_at, m.id or 0))]
    return [_letter(m) for m in rows], total


def letter(session: Session, *, case: Case, pk: int) -> Letter | None:
    """One message of ``case`` (None when ``pk`` belongs to another case: never shown)."""
    message = session.get(Message, pk)
    if message is None or message.case_id != case.id:
        return None
    return _letter(message)


@dataclass
class FileChoice:
    """An attachment the caseworker may have sent to them: ``key`` is ``a:<id>`` or ``f:<id>``."""

    key: str
    filename: str
    size: int
    where: str
    available: bool


def file_choices(session: Session, *, case: Case) -> list[FileChoice]:
    """Every attachment of the case's messages, then the office's own files for its replies.

    A file the office sent with one reply to many people (a campaign's participants, each sent
    their own copy) is one choice, "sent to N people", not one per copy.
    """
    rows = session.execute(
        select(Attachment, col(Message.direction), col(Message.sent_at))
        .join(Message, col(Message.id) == col(Attachment.message_pk))
        .where(col(Message.case_id) == case.id)
        .order_by(col(Message.received_at), col(Attachment.id))
    ).all()
    choices: list[FileChoice] = []
    copies: dict[tuple[str, int, str, Any], tuple[FileChoice, int]] = {}
    for a, direction, sent_at in rows:
        same = (a.filename, a.size, a.content_type, sent_at)
        if direction == "out" and same in copies:
            first, count = copies[same]
            copies[same] = first, count + 1
            first.where = f"sent to {count + 1} people"
            continue
        choice = FileChoice(
            key=f"a:{a.id}",
            filename=a.filename,
            size=a.size,
            where="sent" if direction == "out" else "received",
            available=not a.truncated,
        )
        if direction == "out":
            copies[same] = choice, 1
        choices.append(choice)
    files = session.execute(
        select(CaseFile.id, CaseFile.filename, CaseFile.size, CaseFile.message_pk)  # type: ignore[call-overload]
        .where(col(CaseFile.case_id) == case.id, col(CaseFile.message_pk).is_(None))
        .order_by(col(CaseFile.id))
    ).all()
    choices += [
        FileChoice(key=f"f:{fid}", filename=name, size=size, where="for the next reply", available=True)
        for fid, name, size, _pk in files
    ]
    return choices


def file_content(session: Session, *, case: Case, key: str) -> tuple[str, str, bytes | None] | None:
    """(filename, content type, bytes or None when not kept) of a :class:`FileChoice` key."""
    kind, _, raw_id = key.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "a":
        attachment = session.get(Attachment, int(raw_id))
        if attachment is None:
            return None
        message = session.get(Message, attachment.message_pk)
        if message is None or message.case_id != case.id:
            return None
        return attachment.filename, attachment.content_type, attachment.content
    if kind == "f":
        found = session.get(CaseFile, int(raw_id))
        if found is None or found.case_id != case.id:
            return None
        return found.filename, found.content_type, found.content
    return None


def case_by_thread(session: Session, *, channel: str, ts: str) -> Case | None:
    """The case whose triage post is the message ``channel``/``ts`` (a thread's parent)."""
    return session.execute(
        select(Case).where(col(Case.slack_channel) == channel, col(Case.slack_ts) == ts).limit(1)
    ).scalar_one_or_none()


def has_slack_file(session: Session, *, case: Case, file_id: str) -> bool:
    """Whether the Slack file ``file_id`` is kept on ``case`` already (a redelivered event)."""
    found = session.execute(
        select(col(CaseFile.id)).where(
            col(CaseFile.case_id) == case.id, col(CaseFile.slack_file_id) == file_id
        )
    ).first()
    return found is not None
