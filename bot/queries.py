"""Read-only questions the bot asks the store: lists of cases and one case in full.

Kept apart from the listeners (which only parse and reply) and from the block builders (which
only render). Every function takes a session and returns plain rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from store.enums import UNCLOSED
from store.models import Campaign, Case, CaseEvent, Correspondent, Message

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
    )
