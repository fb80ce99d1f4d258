"""Statutory clocks: stops, restarts and extensions as events, and the due date computed from them.

A case's clock events (:class:`store.models.ClockEvent`) are never edited; its current due
date is computed from its receipt, its category's period and those events, and stored in
``cases.due_on`` (and ``cases.clock_stopped_on`` while stopped) only so that the warning and
report queries stay indexed. The rules (docs/statistics.md, "Statutory clocks"):

* working days are counted from the day after receipt (FOIA s10(1), s10(6));
* a stop for ``clarification`` (s1(3)) ends the period: the restart begins a fresh full period,
  as if the request were received on the restart date (day one is the working day after);
* a stop for a ``fee`` (s9, s10(2)) or any ``other`` reason is a pause: the working days from
  the stop to the restart, both included, are not counted, and counting resumes the day after
  the restart, so the due date is the restart date plus the working days left at the stop;
* an extension (s10(3), the public interest test) adds working days, up to the category's cap.

This is where the Ministry of Justice's correspondence tool (which adds the paused days back for
every kind of stop) and HOCS (which sets a suspended deadline to 9999-12-31 and never computes
it again) go wrong; here each reason has its own rule and every date is recomputed from events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from casework.settings import Settings
from store.cases import CaseError, record_event
from store.enums import Category, EventKind
from store.models import Case, CaseParticipant, ClockEvent
from store.outbox import enqueue
from store.types import utcnow
from store.workdays import LONDON, WorkingCalendar, calendar

STOP, START, EXTEND = "stop", "start", "extend"
CLARIFICATION, FEE, OTHER = "clarification", "fee", "other"
REASONS = (CLARIFICATION, FEE, OTHER)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Step:
    """One clock event, as the computation needs it."""

    kind: str
    on: date
    reason: str = ""
    working_days: int = 0


@dataclass(frozen=True)
class ClockState:
    """Where a case's clock stands after all its events."""

    original_due_on: date
    #: the current due date (while stopped: the due date as it stood when the clock stopped)
    due_on: date
    running: bool
    stopped_on: date | None = None
    stop_reason: str | None = None
    #: working days on which the clock stood stopped (each stop to its restart, both included;
    #: an unfinished stop up to ``today``)
    stopped_working_days: int = 0
    extended_working_days: int = 0
    #: pauses (first and last day, both not counted), for days late after the due date
    pauses: tuple[tuple[date, date], ...] = field(default=())

    @property
    def clock(self) -> str:
        return "running" if self.running else "stopped"

    def days_late(self, cal: WorkingCalendar, *, end: date) -> int:
        """Working days after the due date up to ``end`` (response or today) that counted."""
        if not self.running and self.stopped_on is not None:
            end = min(end, self.stopped_on - ONE_DAY)
        if end <= self.due_on:
            return 0
        late = cal.working_days_between(self.due_on, end)
        for first, last in self.pauses:
            low, high = max(first - ONE_DAY, self.due_on), min(last, end)
            if high > low:
                late -= cal.working_days_between(low, high)
        return max(0, late)


def compute(
    *, received_on: date, period: int, steps: Sequence[Step], cal: WorkingCalendar, today: date | None = None
) -> ClockState:
    """The clock after ``steps`` (in order) for a case received on ``received_on``."""
    original = cal.add_working_days(received_on, period)
    # counted working days d with after < d <= until (None: open-ended), since the last fresh start
    segments: list[tuple[date, date | None]] = [(received_on, None)]
    pauses: list[tuple[date, date]] = []
    extended = stopped_days = 0
    stopped_on: date | None = None
    reason: str | None = None
    last_stop_end = received_on
    due_at_stop = original
    for step in steps:
        if step.kind == STOP:
            due_at_stop = _due(segments, period + extended, cal)
            after, _ = segments[-1]
            segments[-1] = (after, step.on - ONE_DAY)
            stopped_on, reason = step.on, step.reason
        elif step.kind == START and stopped_on is not None:
            stopped_days += cal.working_days_between(max(stopped_on - ONE_DAY, last_stop_end), step.on)
            last_stop_end = step.on
            if reason == CLARIFICATION:
                segments = [(step.on, None)]
            else:
                segments.append((step.on, None))
                pauses.append((stopped_on, step.on))
            stopped_on = reason = None
        elif step.kind == EXTEND:
            extended += step.working_days
    if stopped_on is not None:
        if today is not None and today >= stopped_on:
            stopped_days += cal.working_days_between(max(stopped_on - ONE_DAY, last_stop_end), today)
        return ClockState(
            original, due_at_stop, False, stopped_on, reason, stopped_days, extended, tuple(pauses)
        )
    due = _due(segments, period + extended, cal)
    return ClockState(original, due, True, None, None, stopped_days, extended, tuple(pauses))


def _due(segments: list[tuple[date, date | None]], target: int, cal: WorkingCalendar) -> date:
    """The ``target``-th counted working day of ``segments`` (the last one runs on)."""
    counted = 0
    for number, (after, until) in enumerate(segments):
        last = number == len(segments) - 1
        here = 10**9 if last or until is None else cal.working_days_between(after, until)
        if counted + here >= target:
            return cal.add_working_days(after, target - counted)
        counted += here
    raise AssertionError("the last segment is open-ended")


# --- the store ------------------------------------------------------------------------------


def today_london() -> date:
    return datetime.now(LONDON).date()


def steps_of(session: Session, *, case_id: int) -> list[Step]:
    rows = session.execute(
        select(ClockEvent)
        .where(col(ClockEvent.case_id) == case_id)
        .order_by(col(ClockEvent.on), col(ClockEvent.id))
    ).scalars()
    return [Step(r.kind, r.on, r.reason, r.working_days or 0) for r in rows]


def steps_by_case(session: Session, case_ids: Sequence[int]) -> dict[int, list[Step]]:
    """The clock events of many cases in one query (cases without any are absent)."""
    found: dict[int, list[Step]] = {}
    if not case_ids:
        return found
    for r in session.execute(
        select(ClockEvent)
        .where(col(ClockEvent.case_id).in_(list(case_ids)))
        .order_by(col(ClockEvent.on), col(ClockEvent.id))
    ).scalars():
        found.setdefault(r.case_id, []).append(Step(r.kind, r.on, r.reason, r.working_days or 0))
    return found


def period_of(settings: Settings, case: Case) -> int:
    policy = settings.policy(case.category)
    return policy.review_working_days if case.review_of_id is not None else policy.working_days


def extension_cap(settings: Settings, case: Case) -> int:
    policy = settings.policy(case.category)
    return policy.review_extension_cap if case.review_of_id is not None else policy.extension_cap_working_days


def state_of(
    session: Session,
    *,
    case: Case,
    settings: Settings,
    today: date | None = None,
    steps: Sequence[Step] | None = None,
) -> ClockState:
    assert case.id is not None
    return compute(
        received_on=case.received_on,
        period=period_of(settings, case),
        steps=steps_of(session, case_id=case.id) if steps is None else steps,
        cal=calendar(settings.closure_dates),
        today=today or today_london(),
    )


def refresh(session: Session, *, case: Case, settings: Settings) -> ClockState:
    """Store the computed due date (and stopped day) on the case's row."""
    state = state_of(session, case=case, settings=settings)
    case.due_on = state.due_on
    case.clock_stopped_on = state.stopped_on
    case.updated_at = utcnow()
    session.add(case)
    return state


def _day(case: Case, on: date | None, *, what: str, today: date | None = None) -> date:
    """``on`` (default today, London), refused when in the future or before receipt."""
    today = today or today_london()
    on = on or today
    if on > today:
        raise CaseError(f"{what} on {on} is in the future (today is {today}); give a date up to today.")
    if on < case.received_on:
        raise CaseError(f"{what} on {on} is before {case.reference} was received ({case.received_on}).")
    return on


def _last_on(session: Session, case: Case) -> date | None:
    return session.execute(
        # extensions add working days wherever they fall, so only stops and restarts are a sequence
        select(col(ClockEvent.on))
        .where(col(ClockEvent.case_id) == case.id, col(ClockEvent.kind).in_((STOP, START)))
        .order_by(col(ClockEvent.on).desc())
        .limit(1)
    ).scalar_one_or_none()


def _add(
    session: Session,
    *,
    case: Case,
    settings: Settings,
    kind: str,
    on: date,
    reason: str,
    actor: str,
    note: str = "",
    working_days: int | None = None,
    history: str,
) -> ClockState:
    old_due = case.due_on
    assert case.id is not None
    session.add(
        ClockEvent(
            case_id=case.id,
            kind=kind,
            on=on,
            reason=reason[:2000],
            working_days=working_days,
            note=note[:2000],
            actor=actor[:100],
            at=utcnow(),
        )
    )
    session.flush()
    state = refresh(session, case=case, settings=settings)
    record_event(
        session,
        case=case,
        kind=EventKind.CLOCK,
        actor=actor,
        old=old_due.isoformat(),
        new=history[:200],
        note=note,
    )
    return state


def stop_clock(
    session: Session,
    *,
    case: Case,
    settings: Settings,
    reason: str,
    actor: str,
    on: date | None = None,
    note: str = "",
    today: date | None = None,
) -> ClockState:
    """Stop the clock of ``case`` on ``on`` (default today) for ``reason``."""
    if reason not in REASONS:
        raise CaseError(f"{reason!r} is not a reason to stop the clock; use one of: {', '.join(REASONS)}.")
    on = _day(case, on, what="Stopping the clock", today=today)
    if case.clock_stopped_on is not None:
        raise CaseError(f"The clock of {case.reference} is already stopped (since {case.clock_stopped_on}).")
    _not_before_last(session, case, on)
    return _add(
        session,
        case=case,
        settings=settings,
        kind=STOP,
        on=on,
        reason=reason,
        actor=actor,
        note=note,
        history=f"stopped {on} ({reason})",
    )


def start_clock(
    session: Session,
    *,
    case: Case,
    settings: Settings,
    actor: str,
    on: date | None = None,
    note: str = "",
    today: date | None = None,
) -> ClockState:
    """Restart the stopped clock of ``case`` on ``on`` (default today)."""
    on = _day(case, on, what="Restarting the clock", today=today)
    stopped = case.clock_stopped_on
    if stopped is None:
        raise CaseError(f"The clock of {case.reference} is running; stop it before restarting it.")
    if on < stopped:
        raise CaseError(
            f"The clock of {case.reference} stopped on {stopped}; a restart cannot be before that."
        )
    state = _add(
        session,
        case=case,
        settings=settings,
        kind=START,
        on=on,
        reason="",
        actor=actor,
        note=note,
        history=f"restarted {on}",
    )
    return state


def _not_before_last(session: Session, case: Case, on: date) -> None:
    last = _last_on(session, case)
    if last is not None and on < last:
        raise CaseError(
            f"{case.reference} has a clock event on {last}; a new one cannot be dated before it ({on})."
        )


def extend(
    session: Session,
    *,
    case: Case,
    settings: Settings,
    reason: str,
    actor: str,
    working_days: int | None = None,
    to: date | None = None,
    today: date | None = None,
) -> ClockState:
    """Extend the due date by ``working_days`` or to the working day ``to``, within the cap."""
    if (working_days is None) == (to is None):
        raise CaseError("Give either a number of working days or a date to extend to, not both.")
    if not reason.strip():
        raise CaseError("Say why the deadline is extended (--reason); it is kept in the case's history.")
    if case.clock_stopped_on is not None:
        raise CaseError(
            f"The clock of {case.reference} is stopped; restart it before extending the deadline."
        )
    cal = calendar(settings.closure_dates)
    if to is not None:
        if to <= case.due_on:
            raise CaseError(f"{to} is not after the current due date of {case.reference} ({case.due_on}).")
        working_days = cal.working_days_between(case.due_on, to)
        if not cal.is_working_day(to):
            raise CaseError(f"{to} is not a working day; extend to a working day.")
    assert working_days is not None
    if working_days < 1:
        raise CaseError("An extension must be at least 1 working day.")
    state = state_of(session, case=case, settings=settings)
    cap = extension_cap(settings, case)
    kind = "an internal review" if case.review_of_id is not None else f"{Category(case.category).label} cases"
    if state.extended_working_days + working_days > cap:
        already = f" ({state.extended_working_days} already used)" if state.extended_working_days else ""
        raise CaseError(
            f"The deadline of {kind} can be extended by at most {cap} working days{already}; "
            f"{working_days} more is past the cap."
        )
    on = today or today_london()
    return _add(
        session,
        case=case,
        settings=settings,
        kind=EXTEND,
        on=max(on, case.received_on),
        reason=reason,
        working_days=working_days,
        actor=actor,
        note=reason,
        history=f"extended by {working_days} working days",
    )


def received_at_for(on: date, today: date | None = None) -> datetime:
    """A timestamp for something received on London date ``on`` (now, when that is today)."""
    if on == (today or today_london()):
        return utcnow()
    return datetime.combine(on, time(12, 0), LONDON)


def stop_reason(session: Session, *, case: Case) -> str | None:
    """Why the clock of ``case`` is stopped (None: it is running)."""
    if case.clock_stopped_on is None:
        return None
    return session.execute(
        select(col(ClockEvent.reason))
        .where(col(ClockEvent.case_id) == case.id, col(ClockEvent.kind) == STOP)
        .order_by(col(ClockEvent.on).desc(), col(ClockEvent.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def restart_on_reply(
    session: Session, *, case: Case, settings: Settings, correspondent_id: int | None, received_on: date
) -> ClockState | None:
    """A correspondent's message on a case stopped for clarification restarts its clock.

    The restart is dated the message's day of receipt (s1(3): the period runs from receipt of
    the clarification). Anyone not already on the case (a new participant, a forwarded copy)
    does not restart it, nor does a message dated before the stop. The case's Slack post is
    redrawn and a line in its thread says why the due date moved.
    """
    if correspondent_id is None or stop_reason(session, case=case) != CLARIFICATION:
        return None
    stopped = case.clock_stopped_on
    assert stopped is not None and case.id is not None
    on = min(received_on, today_london())
    if on < stopped:
        return None
    on_case = (
        correspondent_id == case.correspondent_id
        or session.execute(
            select(col(CaseParticipant.id)).where(
                col(CaseParticipant.case_id) == case.id,
                col(CaseParticipant.correspondent_id) == correspondent_id,
            )
        ).first()
    )
    if not on_case:
        return None
    state = start_clock(session, case=case, settings=settings, actor="intake", on=on,
                        note="clarification received from the correspondent")  # fmt: skip
    text = (
        f"{case.reference}: clarification received on {on:%a %d %b %Y}; the clock restarted "
        f"with a fresh {period_of(settings, case)} working days, now due {state.due_on:%a %d %b %Y}."
    )
    channel = case.slack_channel or settings.triage_channel
    if channel:
        payload: dict[str, str] = {"channel": channel, "text": text}
        if case.slack_channel and case.slack_ts:
            payload["thread_ts"] = case.slack_ts
        enqueue(session, key=f"clock-restart:{case.reference}:{on.isoformat()}", kind="slack.post",
                target=channel, payload=payload, case_id=case.id)  # fmt: skip
    if case.slack_channel and case.slack_ts:  # redraw the case's post with its new due date
        enqueue(session, key=f"triage:{case.reference}:restart:{on.isoformat()}", kind="slack.triage",
                payload={"reference": case.reference}, case_id=case.id)  # fmt: skip
    return state
