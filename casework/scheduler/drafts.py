"""The draft-deadline warning: a reply still being drafted or signed off past its internal deadline.

The office's own deadline for a drafted reply is ``CASEWORK_DRAFT_WORKING_DAYS`` (default 15)
working days from receipt, well before the 20-working-day response deadline, so that sign-off
and dispatch still fit. A case still in ``drafting`` or ``awaiting_signoff`` once that day has
come warns its assignee by DM, once: the key ``draftwarn:{reference}:{draft due}:dm:{assignee}``
makes a second pass (or a second instance) record nothing, and a case re-assigned warns its new
assignee. Cases without an assignee are counted in the log; the overdue list covers them later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import col

from casework.scheduler.messages import context, day_text, escape, section
from casework.scheduler.record import Row, record
from casework.settings import Settings
from store.db import session_scope
from store.enums import Stage
from store.models import Case
from store.workdays import calendar, is_working_day

log = logging.getLogger(__name__)

#: the stages a reply is still being written or approved in
DRAFT_STAGES = (Stage.DRAFTING.value, Stage.AWAITING_SIGNOFF.value)
KIND = "slack.dm"


@dataclass
class DraftPass:
    as_of: date
    #: (reference, assignee or None, draft due date) of each case past its draft deadline
    late: list[tuple[str, str | None, date]] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)


def draft_due_on(settings: Settings, received_on: date) -> date:
    return calendar(settings.closure_dates).add_working_days(received_on, settings.draft_working_days)


def message(reference: str, stage: str, draft_due: date, due_on: date, subject: str) -> tuple[str, list[Any]]:
    text = (
        f"{reference} is still {Stage(stage).label.lower()}: its reply was to be drafted by "
        f"{day_text(draft_due)} (the response is due {day_text(due_on)})."
    )
    blocks = [
        section(
            f":memo: *{escape(reference)}* is still *{Stage(stage).label.lower()}*: its reply was to be "
            f"drafted by *{day_text(draft_due)}*."
        ),
        context(f"{escape(subject[:150]) or 'no subject'} · response due {day_text(due_on)}"),
    ]
    return text, blocks


def run_draft_pass(engine: Engine, settings: Settings, *, today: date) -> DraftPass:
    """Record a DM to the assignee of each case past its draft deadline (working days only)."""
    result = DraftPass(as_of=today)
    if not is_working_day(today):
        return result
    # N working days from receipt are at least N calendar days: only older cases can be late
    latest_receipt = today - timedelta(days=settings.draft_working_days)
    rows: list[Row] = []
    with session_scope(engine) as session:
        cases = session.execute(
            select(
                Case.id,
                Case.reference,
                Case.stage,
                Case.assignee,
                Case.received_on,
                Case.due_on,
                Case.subject,
            )  # type: ignore[call-overload]
            .where(col(Case.stage).in_(DRAFT_STAGES), col(Case.received_on) <= latest_receipt)
            .order_by(col(Case.id))
        ).all()
        for case in cases:
            draft_due = draft_due_on(settings, case.received_on)
            if draft_due > today:
                continue
            result.late.append((case.reference, case.assignee, draft_due))
            if not case.assignee:
                continue
            text, blocks = message(case.reference, case.stage, draft_due, case.due_on, case.subject)
            rows.append(
                Row(
                    key=f"draftwarn:{case.reference}:{draft_due.isoformat()}:dm:{case.assignee}",
                    kind=KIND,
                    target=case.assignee,
                    payload={
                        "user": case.assignee,
                        "text": text,
                        "blocks": blocks,
                        "reference": case.reference,
                    },
                    case_id=case.id,
                )
            )
        result.queued = record(session, rows)
    unassigned = sum(1 for _ref, who, _due in result.late if not who)
    log.info(
        "draft pass %s: %d past the draft deadline (%d unassigned), %d newly queued",
        today,
        len(result.late),
        unassigned,
        len(result.queued),
    )
    return result
