"""Deadline warnings rendered when they are sent, from the case as it is then.

The warning pass (:mod:`casework.scheduler.warnings`) records each warning as a small
``slack.warning`` outbox row: ``{"reference", "threshold", "crossed_on", "due_on"}`` and the
address, ``"user"`` (a DM to the assignee) or ``"channel"`` (the alerts channel). The threshold,
its crossing date and the due date are what the warning is about, so they are frozen at the pass
(and in the row's key). Everything else is read from the store when the row is sent: subject,
category, status and its latest note, assignee, and the working days left and waited, counted
to the day of sending — a warning held up by a Slack outage says how things stand when it
arrives, not how they stood when it was recorded.

A warning the case no longer needs is not sent (:func:`moot`): the case was merged away, closed,
moved to monitoring (the office cannot act on it; the daily monitoring post lists it), or its
due date moved (the pass warns against the new date under its own key). The sender marks such a
row done with the reason, as it does for a merged case's triage post.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from casework.scheduler.lines import CaseRow, case_lines
from casework.scheduler.messages import CaseLine, warning_message, without_subjects
from casework.settings import Settings
from store.channels import shows_subject
from store.enums import Status
from store.models import Case
from store.workdays import calendar


def recorded_due(payload: dict[str, Any]) -> date:
    """The due date the warning was recorded against."""
    return date.fromisoformat(payload["due_on"])


def moot(case: Case | None, payload: dict[str, Any]) -> str | None:
    """Why a recorded warning should not be sent any more; None when it should."""
    if case is None:
        return "case no longer exists (merged into a campaign)"
    if case.status == Status.CLOSED.value:
        return "case closed since the warning was recorded"
    if case.status == Status.MONITORING.value:
        return "case moved to monitoring (IOPC or court): the daily monitoring post lists it"
    if case.clock_stopped_on is not None:
        return f"clock stopped on {case.clock_stopped_on}: no running deadline to warn about"
    due = recorded_due(payload)
    if case.due_on != due:
        return f"due date moved from {due} to {case.due_on}: the pass warns against the new one"
    return None


def message(
    session: Session, case: Case, payload: dict[str, Any], *, settings: Settings, today: date
) -> tuple[str, list[dict[str, Any]]]:
    """The warning's fallback text and blocks: the case as it is ``today``, against the recorded due date."""
    assert case.id is not None
    row = CaseRow(
        case.id,
        case.reference,
        case.category,
        case.status,
        case.subject,
        case.assignee,
        case.received_on,
        recorded_due(payload),
    )
    lines = case_lines(session, [row], today=today, cal=calendar(settings.closure_dates))
    line = lines[case.id]
    if "channel" in payload and not shows_subject(session, settings=settings, channel=payload["channel"]):
        [line] = without_subjects([line])
    return warning_message(line)


def example() -> dict[str, Any]:
    """A sample warning as the sender posts it, saved as ``docs/slack-messages/deadline-warning.json``
    (paste into Block Kit Builder); a test fails when the file and the builder disagree."""
    line = CaseLine(
        reference="WMOPC-2013-000123",
        category_label="Complaint",
        subject="Officer was rude when I reported my stolen bike",
        status_text="Waiting on the force (Referred to West Midlands Police for comment)",
        assignee="U0CASEWKR",
        due_on=date(2013, 4, 12),
        working_days_left=2,
        waited_working_days=18,
    )
    text, blocks = warning_message(line)
    return {"text": text, "blocks": blocks}
