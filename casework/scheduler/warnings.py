"""The deadline warning pass: which unclosed cases have reached a warning threshold today.

A case's *level* on a working day is the smallest configured threshold (default 5, 2, 0
working days left) at or above its working days left, or, once overdue, the (negative) days
left itself. Each level has a *crossing date*: the working day on which the case reached it.
A warning is keyed ``warn:{reference}:{level}:{crossing date}``, so

* running the pass twice, on two instances, or again after a crash records it once;
* working days left only change on working days, so nothing is due at a weekend or on a bank
  holiday; the pass is quiet then and the next working day's pass sends what is due;
* a missed day (the service was down) is caught up once: the case's current level still has
  its old crossing date, whose key was never recorded, and no stale lower level is sent.

Overdue cases are warned every working day while overdue (their level changes daily).
Cases in ``monitoring`` (IOPC or court) get no warnings of their own: they are listed in one
post to the alerts channel, since the office cannot act on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from casework.scheduler.lines import CaseRow, case_lines, unclosed_rows
from casework.scheduler.messages import CaseLine, monitoring_message, warning_message
from casework.scheduler.record import Row, existing_keys, record
from casework.settings import Settings
from store.db import session_scope
from store.enums import Status
from store.models import Case
from store.workdays import WorkingCalendar, calendar, holiday_name, is_working_day

log = logging.getLogger(__name__)

#: cases per transaction: a crash loses at most one uncommitted batch, which the next run redoes
BATCH = 2000


@dataclass(frozen=True)
class Warning:
    """One case at one level, as recorded in the outbox."""

    case_id: int
    line: CaseLine
    level: int
    crossed_on: date
    monitoring: bool

    @property
    def key(self) -> str:
        return f"warn:{self.line.reference}:{self.level}:{self.crossed_on.isoformat()}"

    def as_json(self) -> dict[str, Any]:
        line = self.line
        return {
            "reference": line.reference,
            "category": line.category_label,
            "status": line.status_text,
            "assignee": line.assignee,
            "due_on": line.due_on.isoformat(),
            "working_days_left": line.working_days_left,
            "waited_working_days": line.waited_working_days,
            "threshold": self.level,
            "crossed_on": self.crossed_on.isoformat(),
            "key": self.key,
        }


@dataclass
class PassResult:
    """What one warning pass found and recorded."""

    as_of: date
    working_day: bool
    reason: str = ""
    warnings: list[Warning] = field(default_factory=list)
    monitoring: list[Warning] = field(default_factory=list)
    #: outbox keys this pass inserted (a repeat pass inserts none)
    queued: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "working_day": self.working_day,
            "reason": self.reason,
            "warnings": [w.as_json() for w in self.warnings],
            "monitoring": [w.as_json() for w in self.monitoring],
            "queued": len(self.queued),
        }


def horizon(cal: WorkingCalendar, today: date, top: int) -> date:
    """The last due date that is within ``top`` working days of ``today``."""
    if top < 1:
        return today
    return cal.add_working_days(today, top)


def working_days_back(day: date, count: int) -> date:
    """The working day ``count`` working days before working day ``day`` (``day`` when 0)."""
    while count > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def level_of(left: int, thresholds: list[int]) -> int | None:
    """The warning level for ``left`` working days left, None when above every threshold."""
    if left < 0:
        return left
    reached = [t for t in thresholds if t >= left]
    return min(reached) if reached else None


def case_warnings(
    session: Session, rows: list[CaseRow], *, today: date, settings: Settings, cal: WorkingCalendar
) -> list[Warning]:
    thresholds = [t for t in settings.thresholds if t >= 0]
    lines = case_lines(session, rows, today=today, cal=cal)
    crossed: dict[tuple[int, int], date] = {}
    found = []
    for row in rows:
        line = lines[row.id]
        left = line.working_days_left
        level = level_of(left, thresholds)
        if level is None:
            continue
        back = max(level - left, 0)
        if (level, left) not in crossed:
            crossed[(level, left)] = working_days_back(today, back)
        found.append(
            Warning(
                case_id=row.id,
                line=line,
                level=level,
                crossed_on=crossed[(level, left)],
                monitoring=row.status == Status.MONITORING.value,
            )
        )
    return found


def targets(warning: Warning, settings: Settings) -> list[tuple[str, str, str]]:
    """``(key, kind, target)`` of each message a warning makes: a DM to the assignee and a post
    to the alerts channel, each keyed apart."""
    found = []
    if warning.line.assignee:
        found.append((f"{warning.key}:dm:{warning.line.assignee}", "slack.dm", warning.line.assignee))
    if settings.alerts_channel:
        channel = settings.alerts_channel
        found.append((f"{warning.key}:channel:{channel}", "slack.post", channel))
    return found


def outbox_rows(warnings: list[Warning], settings: Settings, *, known: set[str]) -> list[Row]:
    """The rows still to record; messages are only built for keys not ``known`` (recorded before)."""
    rows = []
    for warning in warnings:
        wanted = [t for t in targets(warning, settings) if t[0] not in known]
        if not wanted:
            continue
        text, blocks = warning_message(warning.line)
        for key, kind, target in wanted:
            address = {"user": target} if kind == "slack.dm" else {"channel": target}
            payload = {**address, "text": text, "blocks": blocks}
            rows.append(Row(key=key, kind=kind, target=target, payload=payload, case_id=warning.case_id))
    return rows


def quiet_reason(today: date) -> str:
    if today.weekday() >= 5:
        return f"{today.isoformat()} is a {today:%A}: no warnings at weekends"
    return f"{today.isoformat()} is a bank holiday ({holiday_name(today)}): no warnings"


def run_pass(
    engine: Engine,
    settings: Settings,
    *,
    today: date,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> PassResult:
    """Find the warnings due on ``today`` and record them in the outbox, batch by batch."""
    if not is_working_day(today):
        result = PassResult(as_of=today, working_day=False, reason=quiet_reason(today))
        log.info("warning pass %s: %s", today, result.reason)
        return result
    result = PassResult(as_of=today, working_day=True)
    cal = calendar(settings.closure_dates)
    top = max([t for t in settings.thresholds if t >= 0], default=0)
    last_due = horizon(cal, today, top)
    with session_scope(engine) as session:
        # Only the window: unclosed cases due within ``top`` working days, or overdue.
        rows = unclosed_rows(session, where=[Case.due_on <= last_due])  # type: ignore[list-item,operator]
        found = case_warnings(session, rows, today=today, settings=settings, cal=cal)
        acting = [w for w in found if not w.monitoring]
        result.warnings = acting
        result.monitoring = [w for w in found if w.monitoring]
        # Every key this pass could record, checked in one query: messages are built only for new ones.
        known = existing_keys(session, [t[0] for w in acting for t in targets(w, settings)])
    for number, start in enumerate(range(0, len(acting), batch)):
        with session_scope(engine) as session:
            chunk = acting[start : start + batch]
            result.queued.extend(record(session, outbox_rows(chunk, settings, known=known)))
        if on_batch is not None:
            on_batch(number)
    if result.monitoring and settings.alerts_channel:
        with session_scope(engine) as session:
            text, blocks = monitoring_message(today, [w.line for w in result.monitoring])
            channel = settings.alerts_channel
            key = f"warn-monitoring:{today.isoformat()}:channel:{channel}"
            payload = {"channel": channel, "text": text, "blocks": blocks}
            result.queued.extend(
                record(session, [Row(key=key, kind="slack.post", target=channel, payload=payload)])
            )
    log.info(
        "warning pass %s: %d warning(s), %d in monitoring, %d newly queued",
        today,
        len(result.warnings),
        len(result.monitoring),
        len(result.queued),
    )
    return result
