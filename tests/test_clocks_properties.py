"""Property tests of the clock rules against a day-by-day model over an independent UK table.

The model (:func:`model`) walks the calendar one day at a time with the rules as the law says
them, using ``tests/uk_days.py`` (written by hand, not from the ``holidays`` package): a day
counts when it is a working day after receipt (or after the last restart from clarification),
and not inside a pause (stop to restart, both included). :func:`store.clocks.compute` must give
the same due date, stopped days and days late for any sequence of stops, restarts and
extensions, across weekends, Christmas, Good Friday, every nation's bank holidays and the BST
changes (receipt dates are taken from UTC timestamps either side of midnight London time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from store.clocks import CLARIFICATION, EXTEND, FEE, OTHER, START, STOP, Step, compute
from store.deadline_policy import policy_for
from store.workdays import WorkingCalendar, local_date
from tests import uk_days

CAL = WorkingCalendar(extra_holidays=frozenset())
# receipts from Nov 2022 to mid 2026 keep every date the model reaches inside the table
RECEIPT_FIRST, RECEIPT_LAST = date(2022, 11, 1), date(2026, 6, 30)
# the Christmases, Good Fridays, nations' holidays and BST changes receipts are drawn around
SPECIAL = [d for d in sorted(uk_days.HOLIDAYS) if RECEIPT_FIRST <= d <= RECEIPT_LAST] + [
    date(2023, 3, 26), date(2023, 10, 29), date(2024, 3, 31), date(2024, 10, 27), date(2025, 3, 30),
    date(2025, 10, 26), date(2026, 3, 29),
]  # fmt: skip


@dataclass
class Truth:
    due_on: date
    stopped_working_days: int
    days_late: int


def model(received: date, period: int, steps: list[Step], *, today: date, end: date,
          extra: frozenset[date] = frozenset()) -> Truth:  # fmt: skip
    """The rules, one day at a time, over the hand-written table."""
    target = period + sum(s.working_days for s in steps if s.kind == EXTEND)
    pauses: list[tuple[date, date]] = []
    stopped: list[tuple[date, date]] = []
    reset = received
    open_stop: tuple[date, str] | None = None
    for s in steps:
        if s.kind == STOP:
            open_stop = (s.on, s.reason)
        elif s.kind == START and open_stop is not None:
            stopped.append((open_stop[0], s.on))
            if open_stop[1] == CLARIFICATION:
                reset, pauses = s.on, []
            else:
                pauses.append((open_stop[0], s.on))
            open_stop = None

    def counts(day: date) -> bool:
        return uk_days.working(day, extra) and not any(a <= day <= b for a, b in pauses)

    day, counted = reset, 0
    while counted < target:
        day += timedelta(days=1)
        counted += counts(day)
    due = day
    if open_stop is not None:
        stopped.append((open_stop[0], today))
        end = min(end, open_stop[0] - timedelta(days=1))
    stopped_days = sum(
        1 for d in _days(min(a for a, _ in stopped), max(b for _, b in stopped)) if uk_days.working(d, extra)
        and d > received and any(a <= d <= b for a, b in stopped)
    ) if stopped else 0  # fmt: skip
    late = sum(1 for d in _days(due + timedelta(days=1), end) if counts(d)) if end > due else 0
    return Truth(due, stopped_days, late)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@st.composite
def receipts(draw: st.DrawFn) -> date:
    if draw(st.booleans()):
        special = draw(st.sampled_from(SPECIAL))
        return special + timedelta(days=draw(st.integers(-25, 3)))
    return RECEIPT_FIRST + timedelta(days=draw(st.integers(0, (RECEIPT_LAST - RECEIPT_FIRST).days)))


@st.composite
def histories(draw: st.DrawFn) -> tuple[date, list[Step], date]:
    """A receipt, then stops and restarts (with extensions while running), dated in order."""
    received = draw(receipts())
    day, steps, running = received, [], True
    for _ in range(draw(st.integers(0, 6))):
        day += timedelta(days=draw(st.integers(0, 20)))
        if running and draw(st.integers(0, 4)) == 0:
            steps.append(Step(EXTEND, day, "public interest test", draw(st.integers(1, 20))))
            continue
        if running:
            steps.append(Step(STOP, day, draw(st.sampled_from([CLARIFICATION, FEE, OTHER]))))
        else:
            steps.append(Step(START, day))
        running = not running
    today = day + timedelta(days=draw(st.integers(0, 40)))
    return received, steps, today


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from([20, 20, 15, 40]), st.integers(-10, 80))
def test_due_date_stopped_days_and_lateness_follow_the_rules(
    history: tuple[date, list[Step], date], period: int, closed_after: int
) -> None:
    received, steps, today = history
    end = min(today, received + timedelta(days=max(0, closed_after + 28)))
    state = compute(received_on=received, period=period, steps=steps, cal=CAL, today=today)
    truth = model(received, period, steps, today=today, end=end)
    assume(truth.due_on <= uk_days.LAST - timedelta(days=200))
    assert state.due_on == truth.due_on
    assert state.stopped_working_days == truth.stopped_working_days
    assert state.days_late(CAL, end=end) == truth.days_late
    assert state.original_due_on == uk_days.nth_working_after(received, period)
    moves = [s.kind for s in steps if s.kind != EXTEND]
    assert state.clock == ("stopped" if moves[-1:] == [STOP] else "running")


@settings(max_examples=200, deadline=None)
@given(receipts(), st.integers(0, 25), st.integers(0, 30), st.sampled_from([FEE, OTHER]))
def test_a_pause_adds_back_exactly_the_days_stopped(
    received: date, stop_after: int, length: int, reason: str
) -> None:
    """Fee/other: due = restart date + the working days still left at the stop."""
    stop = received + timedelta(days=stop_after)
    restart = stop + timedelta(days=length)
    state = compute(
        received_on=received, period=20, steps=[Step(STOP, stop, reason), Step(START, restart)], cal=CAL
    )
    used = sum(1 for d in _days(received + timedelta(days=1), stop - timedelta(days=1)) if uk_days.working(d))
    left = 20 - used
    expected = (
        uk_days.nth_working_after(restart, left) if left > 0 else uk_days.nth_working_after(received, 20)
    )
    assert state.due_on == expected


@settings(max_examples=200, deadline=None)
@given(receipts(), st.integers(0, 25), st.integers(0, 30))
def test_a_clarification_starts_a_fresh_full_period(received: date, stop_after: int, length: int) -> None:
    """Clarification: due = 20 working days after the restart, whatever was used before."""
    stop = received + timedelta(days=stop_after)
    restart = stop + timedelta(days=length)
    steps = [Step(STOP, stop, CLARIFICATION), Step(START, restart)]
    state = compute(received_on=received, period=20, steps=steps, cal=CAL)
    assert state.due_on == uk_days.nth_working_after(restart, 20)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2022, 11, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC)))
def test_receipt_dates_across_bst_changes(moment: datetime) -> None:
    """The date of receipt is London's: 23:30 UTC in summer is the next day."""
    received = local_date(moment)
    assert received == uk_days.london_date(moment)
    state = compute(received_on=received, period=20, steps=[], cal=CAL)
    assert state.due_on == uk_days.nth_working_after(uk_days.london_date(moment), 20)


@settings(max_examples=200, deadline=None)
@given(receipts(), st.integers(1, 40), st.sampled_from(["foi", "complaint", "correspondence"]))
def test_extension_caps_per_category(received: date, days: int, category: str) -> None:
    policy = policy_for({}, category)
    assert policy.extension_cap_working_days == (20 if category == "foi" else 0)
    assert policy.review_extension_cap == 20
    steps = [Step(EXTEND, received, "pit", days)]
    state = compute(received_on=received, period=policy.working_days, steps=steps, cal=CAL)
    assert state.due_on == uk_days.nth_working_after(received, 20 + days)
    assert state.extended_working_days == days


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(1, 30))
def test_adding_a_holiday_moves_the_due_date_as_the_model_says(
    history: tuple[date, list[Step], date], offset: int
) -> None:
    received, steps, today = history
    extra_day = received + timedelta(days=offset)
    assume(extra_day.weekday() < 5 and extra_day not in uk_days.HOLIDAYS)
    extra = frozenset({extra_day})
    with_extra = WorkingCalendar(extra_holidays=extra)
    state = compute(received_on=received, period=20, steps=steps, cal=with_extra, today=today)
    truth = model(received, 20, steps, today=today, end=today, extra=extra)
    assume(truth.due_on <= uk_days.LAST - timedelta(days=200))
    assert state.due_on == truth.due_on
    before = compute(received_on=received, period=20, steps=steps, cal=CAL, today=today)
    # a new holiday never brings a due date forward, and one after the due date changes nothing
    assert before.due_on <= state.due_on
    if extra_day > before.due_on:
        assert state.due_on == before.due_on
