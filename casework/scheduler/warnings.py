"""The deadline warning pass: per-case warnings at the thresholds, and the daily overdue list.

A case's *level* on a working day is the smallest configured threshold (default 5, 2, 0
working days left) at or above its working days left. Each level has a *crossing date*: the
working day on which the case reached it. A warning is keyed
``warn:{reference}:{level}:{crossing date}`` (a DM to the assignee and a post to the alerts
channel, each keyed apart), so

* running the pass twice, on two instances, or again after a crash records it once;
* working days left only change on working days, so nothing is due at a weekend or on a bank
  holiday; the pass is quiet then and the next working day's pass sends what is due;
* a missed day (the service was down) is caught up once: the case's current level still has
  its old crossing date, whose key was never recorded, and no stale lower level is sent.

A warning's outbox rows (kind :data:`WARNING_KIND`) carry only what the warning is about, frozen
at the pass — reference, threshold, crossing date and due date — and the address; the sender
renders the message from the case as it is when it is sent (:mod:`bot.deadlines`). So the pass
builds no Block Kit and writes small rows, and a warning held up by a Slack outage shows the
case's current status, or is not sent at all when it became moot (the case was closed).

Only cases due within the threshold window are read for these. Overdue cases get no warning
of their own: each working day they are listed, one DM per assignee and one channel post
(:mod:`casework.scheduler.overdue`), counted by the store. Cases in ``monitoring`` (IOPC or
court) get no warnings of their own: they are counted and listed in one post to the alerts
channel, since the office cannot act on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from casework.scheduler import clock_reminders
from casework.scheduler.lines import ACTING, CaseRow, case_lines, unclosed_rows
from casework.scheduler.messages import MAX_LINES, CaseLine, monitoring_message, without_subjects
from casework.scheduler.overdue import Overdue, find_overdue, line_json, overdue_keys, overdue_rows
from casework.scheduler.record import Row, existing_keys, record
from casework.settings import Settings
from store.channels import shows_subject
from store.db import session_scope
from store.enums import Status
from store.models import Case
from store.workdays import WorkingCalendar, calendar, holiday_name, is_working_day

log = logging.getLogger(__name__)

#: cases per transaction: a crash loses at most one uncommitted batch, which the next run redoes
BATCH = 2000

#: the outbox kind of a deadline warning: a small payload, rendered when sent (:mod:`bot.deadlines`)
WARNING_KIND = "slack.warning"


@dataclass(frozen=True)
class Warning:
    """One case at one level, as recorded in the outbox."""

    case_id: int
    line: CaseLine
    level: int
    crossed_on: date
    monitoring: bool
    #: ``warn:{reference}:{level}:{crossing date}``, the stem of each message's key
    key: str

    def payload(self, address: str, target: str) -> dict[str, Any]:
        """The outbox payload of one message: ``{address: target}`` (``user`` or ``channel``) and
        what the warning is about, frozen at the pass; the sender renders the rest at send time."""
        return {
            address: target,
            "reference": self.line.reference,
            "threshold": self.level,
            "crossed_on": self.crossed_on.isoformat(),
            "due_on": self.line.due_on.isoformat(),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **line_json(self.line),
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
    #: cases at a threshold (5, 2 or 0 working days left) today
    warnings: list[Warning] = field(default_factory=list)
    #: the first monitoring cases near or past due (:data:`MAX_LINES`), and how many there are
    monitoring: list[Warning] = field(default_factory=list)
    monitoring_total: int = 0
    overdue: Overdue | None = None
    #: outbox keys this pass inserted (a repeat pass inserts none)
    queued: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        overdue = self.overdue
        return {
            "as_of": self.as_of.isoformat(),
            "working_day": self.working_day,
            "reason": self.reason,
            "warnings": [w.as_json() for w in self.warnings],
            "monitoring": [w.as_json() for w in self.monitoring],
            "queued": len(self.queued),
            "monitoring_total": self.monitoring_total,
            "overdue": {
                "total": overdue.total if overdue else 0,
                "unassigned": overdue.unassigned if overdue else 0,
                "by_assignee": {u: overdue.counts[u] for u in overdue.assignees} if overdue else {},
            },
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
        if (level, left) not in crossed:
            crossed[(level, left)] = working_days_back(today, max(level - left, 0))
        on = crossed[(level, left)]
        found.append(
            Warning(
                case_id=row.id,
                line=line,
                level=level,
                crossed_on=on,
                monitoring=row.status == Status.MONITORING.value,
                key=f"warn:{row.reference}:{level}:{on.isoformat()}",
            )
        )
    return found


def targets(warning: Warning, settings: Settings) -> list[tuple[str, str, str]]:
    """``(key, address field, target)`` of each message a warning makes: a DM to the assignee
    (``user``) and a post to the alerts channel (``channel``), each keyed apart."""
    found = []
    if warning.line.assignee:
        found.append((f"{warning.key}:dm:{warning.line.assignee}", "user", warning.line.assignee))
    if settings.alerts_channel:
        channel = settings.alerts_channel
        found.append((f"{warning.key}:channel:{channel}", "channel", channel))
    return found


def outbox_rows(warnings: list[Warning], settings: Settings, *, known: set[str]) -> list[Row]:
    """The rows still to record: those whose keys are not ``known`` (recorded before)."""
    return [
        Row(
            key=key,
            kind=WARNING_KIND,
            target=target,
            payload=warning.payload(address, target),
            case_id=warning.case_id,
        )
        for warning in warnings
        for key, address, target in targets(warning, settings)
        if key not in known
    ]


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
    channel = settings.alerts_channel
    monitoring_key = f"warn-monitoring:{today.isoformat()}:channel:{channel}"
    with session_scope(engine) as session:
        # Only the threshold window: cases the office acts on, due from today to ``top`` working days on.
        window = [col(Case.due_on) >= today, col(Case.due_on) <= last_due]
        rows = unclosed_rows(session, where=window, statuses=ACTING)
        result.warnings = case_warnings(session, rows, today=today, settings=settings, cal=cal)
        result.overdue = find_overdue(session, today=today)
        result.monitoring_total, first_monitoring = monitoring_rows(session, last_due=last_due)
        result.monitoring = case_warnings(session, first_monitoring, today=today, settings=settings, cal=cal)
        # Every key this pass could record, checked in one query: rows are built only for new ones.
        wanted = [t[0] for w in result.warnings for t in targets(w, settings)]
        wanted += overdue_keys(result.overdue, settings)
        if result.monitoring and channel:
            wanted.append(monitoring_key)
        known = existing_keys(session, wanted)
    acting = result.warnings
    for number, start in enumerate(range(0, len(acting), batch)):
        with session_scope(engine) as session:
            chunk = acting[start : start + batch]
            result.queued.extend(record(session, outbox_rows(chunk, settings, known=known)))
        if on_batch is not None:
            on_batch(number)
    with session_scope(engine) as session:
        lists = overdue_rows(session, result.overdue, settings, known=known, cal=cal)
        if result.monitoring and channel and monitoring_key not in known:
            shown = [w.line for w in result.monitoring]
            if not shows_subject(session, settings=settings, channel=channel):
                shown = without_subjects(shown)
            text, blocks = monitoring_message(today, shown, result.monitoring_total)
            payload = {"channel": channel, "text": text, "blocks": blocks}
            lists.append(Row(key=monitoring_key, kind="slack.post", target=channel, payload=payload))
        # stopped clocks get no warnings: a reminder after a long stop, and "Close as lapsed"
        lists += clock_reminders.reminder_rows(session, settings, today=today, cal=cal)
        result.queued.extend(record(session, lists))
    log.info(
        "warning pass %s: %d at a threshold, %d overdue (%d assignees), %d in monitoring, %d newly queued",
        today,
        len(result.warnings),
        result.overdue.total,
        len(result.overdue.assignees),
        result.monitoring_total,
        len(result.queued),
    )
    return result


def monitoring_rows(session: Session, *, last_due: date) -> tuple[int, list[CaseRow]]:
    """How many monitoring cases are near or past due, and the first :data:`MAX_LINES` of them."""
    near = col(Case.due_on) <= last_due
    monitoring = col(Case.status) == Status.MONITORING.value
    running = col(Case.clock_stopped_on).is_(None)
    count = session.execute(select(func.count()).where(monitoring, near, running)).scalar_one()
    first = unclosed_rows(session, where=[near], statuses=[Status.MONITORING.value], limit=MAX_LINES)
    return int(count), first
