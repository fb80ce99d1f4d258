"""The daily digest: one post to the alerts channel on each working day.

It lists what the team should look at today: cases due this week (up to Sunday), overdue
cases, unassigned cases and low-confidence classifications awaiting triage. It is recorded in
the outbox as ``digest:{date}:channel:{channel}``, so a restart, a catch-up after a missed run
or a second instance never posts it twice; before the digest time it is not due yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from casework.scheduler.lines import case_lines, unclosed_rows
from casework.scheduler.messages import digest_message, without_subjects
from casework.scheduler.record import Row, record
from casework.settings import Settings
from store.channels import shows_subject
from store.db import session_scope
from store.enums import Status
from store.models import Case
from store.workdays import LONDON, calendar, is_working_day

log = logging.getLogger(__name__)


@dataclass
class DigestResult:
    day: date
    sent: bool = False
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    queued: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "reason": self.reason,
            "counts": self.counts,
            "queued": len(self.queued),
        }


def digest_due(settings: Settings, now: datetime) -> str:
    """Empty when the digest is due at ``now`` (a working day, at or after the digest time), else why not."""
    local = now.astimezone(LONDON)
    if not is_working_day(local.date()):
        return f"{local.date().isoformat()} is not a working day"
    if local.time() < settings.digest_time:
        return f"the digest is due at {settings.digest_time:%H:%M}"
    return ""


def run_digest(engine: Engine, settings: Settings, *, now: datetime) -> DigestResult:
    today = now.astimezone(LONDON).date()
    result = DigestResult(day=today)
    result.reason = digest_due(settings, now)
    if result.reason:
        return result
    if not settings.alerts_channel:
        result.reason = "CASEWORK_ALERTS_CHANNEL is not set"
        return result
    cal = calendar(settings.closure_dates)
    sunday = today + timedelta(days=6 - today.weekday())
    with session_scope(engine) as session:
        rows = unclosed_rows(session)
        acting = [r for r in rows if r.status != Status.MONITORING.value]
        due_week = [r for r in acting if today <= r.due_on <= sunday]
        overdue = [r for r in acting if r.due_on < today]
        unassigned = [r for r in acting if not r.assignee]
        triage_query = select(Case.id).where(Case.needs_triage.is_(True))  # type: ignore[call-overload,attr-defined]
        triage_ids = set(session.execute(triage_query).scalars())
        triage = [r for r in rows if r.id in triage_ids]
        shown = {r.id: r for group in (due_week, overdue, unassigned, triage) for r in group[:30]}
        lines = case_lines(session, list(shown.values()), today=today, cal=cal)
        sections = [
            ("Due this week", due_week),
            ("Overdue", overdue),
            ("Unassigned", unassigned),
            ("Awaiting triage (low confidence)", triage),
        ]
        result.counts = {title: len(group) for title, group in sections}
        channel = settings.alerts_channel
        if not shows_subject(session, settings=settings, channel=channel):
            lines = dict(zip(lines, without_subjects(lines.values()), strict=True))
        text, blocks = digest_message(
            today, [(title, [lines[r.id] for r in group[:30]], len(group)) for title, group in sections]
        )
        row = Row(
            key=f"digest:{today.isoformat()}:channel:{channel}",
            kind="slack.post",
            target=channel,
            payload={"channel": channel, "text": text, "blocks": blocks},
        )
        result.queued = record(session, [row])
    result.sent = True
    log.info("digest %s: %s, %d newly queued", today, result.counts, len(result.queued))
    return result
