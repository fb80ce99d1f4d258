"""The retention schedule: which closed cases are past their period, holds, and old mail.

``CASEWORK_RETENTION`` maps a category to a period after closure (``6y``, ``18m``, ``90d``;
``default`` covers the categories not named). A case is *due* once its closure date plus its
category's period is on or before the day asked about. As in the MoJ correspondence tool, the
store only lists what is due (:func:`review`); a person decides (``casework retention apply``
or the managers' *Confirm anonymisation* button) and :func:`apply` anonymises. A case on hold
(:func:`hold`) is listed but skipped. Automatic mail (out-of-office replies, bounces) and
quarantined mail have shorter periods in days, and are deleted outright (:func:`purge_mail`).
"""

from __future__ import annotations

import calendar as month_calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlmodel import Session, col

from store.models import (
    AnonymisedCase,
    Attachment,
    Case,
    ClassifierLabel,
    FingerprintBand,
    Message,
    QuarantinedMessage,
    RetentionHold,
)
from store.types import utcnow

_PERIOD = re.compile(r"^\s*(\d{1,4})\s*([dmy])\s*$", re.IGNORECASE)


def parse_period(text: str, *, key: str = "") -> tuple[int, str]:
    """``"6y"`` → ``(6, "y")``; a clear :class:`ValueError` for anything else."""
    match = _PERIOD.match(str(text))
    if not match:
        where = f" for {key!r}" if key else ""
        raise ValueError(
            f"retention period {text!r}{where} is not N followed by d, m or y (e.g. 6y, 18m, 90d)"
        )
    return int(match.group(1)), match.group(2).lower()


def add_period(day: date, period: str) -> date:
    """``day`` plus ``period``; a month end stays within its month (31 Jan + 1m = 28/29 Feb)."""
    count, unit = parse_period(period)
    if unit == "d":
        return day + timedelta(days=count)
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def subtract_period(day: date, period: str) -> date:
    """The latest closure date whose period has ended by ``day``."""
    count, unit = parse_period(period)
    if unit == "d":
        return day - timedelta(days=count)
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(day.month - 1 - months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def period_for(schedule: dict[str, str], category: str) -> str:
    return schedule.get(category) or schedule.get("default") or "6y"


@dataclass(frozen=True)
class Due:
    """One closed case past its retention period."""

    case_id: int
    reference: str
    category: str
    closed_on: date
    period: str
    expired_on: date
    held: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "category": self.category,
            "closed_on": self.closed_on.isoformat(),
            "period": self.period,
            "expired_on": self.expired_on.isoformat(),
            "on_hold": self.held is not None,
            "hold_reason": self.held,
        }


def review(session: Session, *, schedule: dict[str, str], as_of: date, limit: int | None = None) -> list[Due]:
    """Closed, not yet anonymised cases whose period has ended by ``as_of``, oldest closure first."""
    named = [c for c in schedule if c != "default"]
    default = period_for(schedule, "")
    # one range per category on the closure-date index, instead of date arithmetic per row; the
    # bound is three days loose (month ends), and each row found is then checked exactly
    slack = timedelta(days=3)
    ranges = [
        (col(Case.category) == category)
        & (col(Case.closed_on) <= subtract_period(as_of, schedule[category]) + slack)
        for category in named
    ]
    ranges.append(
        col(Case.category).not_in(named) & (col(Case.closed_on) <= subtract_period(as_of, default) + slack)
    )
    anonymised = exists().where(col(AnonymisedCase.case_id) == col(Case.id))
    stmt = (
        select(
            col(Case.id),
            col(Case.reference),
            col(Case.category),
            col(Case.closed_on),
            col(RetentionHold.reason),
        )
        .outerjoin(RetentionHold, col(RetentionHold.case_id) == col(Case.id))
        .where(col(Case.status) == "closed", col(Case.closed_on).is_not(None), or_(*ranges), ~anonymised)
        .order_by(col(Case.closed_on), col(Case.id))
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    found = []
    for pk, reference, category, closed_on, held in session.execute(stmt).all():
        period = period_for(schedule, category)
        expired_on = add_period(closed_on, period)
        if expired_on <= as_of:
            found.append(Due(pk, reference, category, closed_on, period, expired_on, held))
    return found


def hold(session: Session, *, case: Case, reason: str, actor: str) -> bool:
    """Keep ``case`` past its period; False when it was on hold already (the reason is updated)."""
    from store.cases import CaseError

    reason = " ".join(reason.split())
    if not reason:
        raise CaseError("Say why the case is kept: give --reason TEXT (e.g. 'civil claim pending').")
    assert case.id is not None
    existing = session.execute(
        select(RetentionHold).where(col(RetentionHold.case_id) == case.id)
    ).scalar_one_or_none()
    if existing is not None:
        existing.reason, existing.actor = reason[:1000], actor
        session.add(existing)
        return False
    session.add(RetentionHold(case_id=case.id, reason=reason[:1000], actor=actor))
    session.flush()
    return True


def release(session: Session, *, case: Case) -> bool:
    result = session.execute(delete(RetentionHold).where(col(RetentionHold.case_id) == case.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class MailPurge:
    automatic: int = 0
    quarantined: int = 0


def purge_mail(
    session: Session, *, automatic_days: int, quarantine_days: int, now: datetime | None = None
) -> MailPurge:
    """Delete automatic mail on no case, and quarantined mail, older than their periods."""
    now = now or utcnow()
    old_automatic = select(col(Message.id)).where(
        col(Message.case_id).is_(None),
        col(Message.automatic).is_not(None),
        col(Message.received_at) < now - timedelta(days=automatic_days),
    )
    ids = list(session.execute(old_automatic).scalars())
    senders = {
        pk
        for start in range(0, len(ids), 500)
        for pk in session.execute(
            select(col(Message.correspondent_id)).where(col(Message.id).in_(ids[start : start + 500]))
        ).scalars()
        if pk is not None
    }
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for model, column in (
            (FingerprintBand, col(FingerprintBand.message_pk)),
            (Attachment, col(Attachment.message_pk)),
            (ClassifierLabel, col(ClassifierLabel.message_pk)),
        ):
            session.execute(delete(model).where(column.in_(chunk)))
        session.execute(delete(Message).where(col(Message.id).in_(chunk)))
    if senders:  # an out-of-office sender known for nothing else goes with their mail
        from store.anonymise import Removal, drop_unused_correspondents

        drop_unused_correspondents(session, senders, Removal())
    result = session.execute(
        delete(QuarantinedMessage).where(
            col(QuarantinedMessage.created_at) < now - timedelta(days=quarantine_days)
        )
    )
    return MailPurge(automatic=len(ids), quarantined=int(result.rowcount or 0))  # type: ignore[attr-defined]
