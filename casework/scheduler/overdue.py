"""The daily overdue list: one DM per assignee and one alerts-channel post per working day.

An overdue case is not warned on its own every day (an office with a long overdue tail would
get tens of thousands of messages a day, and nobody reads those). Instead, on each working day:

* each assignee gets ONE direct message listing their overdue cases, most overdue first
  (cut at :data:`~casework.scheduler.messages.MAX_LINES` with "…and N more"), keyed
  ``overdue:{date}:dm:{user}``;
* the alerts channel gets ONE post with the team's overdue count, the unassigned overdue cases
  and the most overdue ones, keyed ``overdue:{date}:channel:{channel}``.

The store does the counting: one query ranks the overdue cases within each assignee
(``row_number()`` and ``count()`` over ``PARTITION BY assignee``, through the
``ix_cases_status_due_on`` index) and returns only the ids of the first few of each with the
assignee's total; a second reads those rows. Nothing reads every overdue case into Python.
Missed days are not replayed: today's list replaces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from casework.scheduler.lines import ACTING, CHUNK, CaseRow, case_lines, unclosed_rows
from casework.scheduler.messages import (
    MAX_LINES,
    OVERDUE_CHANNEL_LINES,
    CaseLine,
    overdue_channel_message,
    overdue_dm_message,
    without_subjects,
)
from casework.scheduler.record import Row
from casework.settings import Settings
from store.channels import shows_subject
from store.models import Case
from store.workdays import WorkingCalendar


@dataclass
class Overdue:
    """Today's overdue cases the office can act on, counted per assignee ("" is unassigned)."""

    day: date
    counts: dict[str, int] = field(default_factory=dict)
    #: the first :data:`MAX_LINES` rows of each assignee, most overdue first
    first: dict[str, list[CaseRow]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unassigned(self) -> int:
        return self.counts.get("", 0)

    @property
    def assignees(self) -> list[str]:
        return sorted(user for user in self.counts if user)

    def oldest(self, limit: int = OVERDUE_CHANNEL_LINES) -> list[CaseRow]:
        """The most overdue cases of the whole team: each assignee's first rows hold them, as long
        as ``limit`` is no more than the rows fetched per assignee (:data:`MAX_LINES`)."""
        every = [row for rows in self.first.values() for row in rows]
        return sorted(every, key=lambda r: (r.due_on, r.reference))[:limit]


def find_overdue(session: Session, *, today: date, per_assignee: int = MAX_LINES) -> Overdue:
    """Count the overdue cases per assignee and fetch the first ``per_assignee`` of each."""
    who = func.coalesce(col(Case.assignee), "")
    order = (col(Case.due_on), col(Case.reference))
    ranked = (
        select(
            col(Case.id).label("id"),
            func.row_number().over(partition_by=who, order_by=order).label("rank"),
            func.count().over(partition_by=who).label("total"),
        )
        .where(col(Case.status).in_(ACTING), col(Case.due_on) < today, col(Case.clock_stopped_on).is_(None))
        .subquery()
    )
    # Ranks first, rows after: joined in one statement, PostgreSQL cannot tell the rank filter
    # keeps a few hundred rows and hash-joins a sequential scan of every case.
    first = session.execute(select(ranked.c.id, ranked.c.total).where(ranked.c.rank <= per_assignee)).all()
    totals = {case_id: int(total) for case_id, total in first}
    ids = sorted(totals)
    found = Overdue(day=today)
    rows: list[CaseRow] = []
    for start in range(0, len(ids), CHUNK):
        rows += unclosed_rows(session, where=[col(Case.id).in_(ids[start : start + CHUNK])], statuses=ACTING)
    for row in sorted(rows, key=lambda r: (r.due_on, r.reference)):
        user = row.assignee or ""
        found.first.setdefault(user, []).append(row)
        found.counts[user] = totals[row.id]
    return found


def line_json(line: CaseLine) -> dict[str, Any]:
    return {
        "reference": line.reference,
        "category": line.category_label,
        "status": line.status_text,
        "assignee": line.assignee,
        "due_on": line.due_on.isoformat(),
        "working_days_left": line.working_days_left,
        "waited_working_days": line.waited_working_days,
    }


def dm_key(day: date, user: str) -> str:
    return f"overdue:{day.isoformat()}:dm:{user}"


def channel_key(day: date, channel: str) -> str:
    return f"overdue:{day.isoformat()}:channel:{channel}"


def overdue_keys(overdue: Overdue, settings: Settings) -> list[str]:
    """Every key today's overdue lists could record (none when nothing is overdue)."""
    keys = [dm_key(overdue.day, user) for user in overdue.assignees]
    if overdue.total and settings.alerts_channel:
        keys.append(channel_key(overdue.day, settings.alerts_channel))
    return keys


def _for_channel(
    session: Session, settings: Settings, channel: str
) -> Callable[[list[CaseLine]], list[CaseLine]]:
    """Subjects go to a channel only while it passes the privacy check (:mod:`store.channels`)."""
    if shows_subject(session, settings=settings, channel=channel):
        return list
    return without_subjects


def overdue_rows(
    session: Session, overdue: Overdue, settings: Settings, *, known: set[str], cal: WorkingCalendar
) -> list[Row]:
    """The DMs and the channel post still to record; lines are looked up only for those."""
    day = overdue.day
    users = [user for user in overdue.assignees if dm_key(day, user) not in known]
    channel = settings.alerts_channel
    post = bool(overdue.total and channel and channel_key(day, channel) not in known)
    wanted: list[CaseRow] = [row for user in users for row in overdue.first[user]]
    if post:
        wanted += overdue.first.get("", [])[:OVERDUE_CHANNEL_LINES] + overdue.oldest()
    lines = case_lines(session, list({row.id: row for row in wanted}.values()), today=day, cal=cal)
    rows = []
    for user in users:
        text, blocks = overdue_dm_message(
            day, [lines[r.id] for r in overdue.first[user]], overdue.counts[user]
        )
        # case details: the sender checks the reader is still a caseworker before it goes
        payload = {"user": user, "text": text, "blocks": blocks, "case_details": True}
        rows.append(Row(key=dm_key(day, user), kind="slack.dm", target=user, payload=payload))
    if post:
        shown = _for_channel(session, settings, channel)
        text, blocks = overdue_channel_message(
            day,
            total=overdue.total,
            caseworkers=len(overdue.assignees),
            unassigned=shown([lines[r.id] for r in overdue.first.get("", [])[:OVERDUE_CHANNEL_LINES]]),
            unassigned_total=overdue.unassigned,
            oldest=shown([lines[r.id] for r in overdue.oldest()]),
        )
        payload = {"channel": channel, "text": text, "blocks": blocks}
        rows.append(Row(key=channel_key(day, channel), kind="slack.post", target=channel, payload=payload))
    return rows
