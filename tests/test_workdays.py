"""UK working days and the FOI-style 20-working-day due date (FOIA s10)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from store.workdays import WorkingCalendar, calendar, holiday_name, is_working_day, local_date


def test_the_issues_examples() -> None:
    cal = calendar()
    # St Patrick's Day 2013 fell on a Sunday: its substitute, Mon 18 Mar, is not a working day.
    assert cal.due_date(date(2013, 3, 15)) == date(2013, 4, 17)
    # Received on a Saturday before Christmas: day one is Mon 24 Dec; 25, 26 Dec and 1 Jan don't count.
    assert cal.due_date(date(2012, 12, 22)) == date(2013, 1, 24)


def test_each_nations_holidays_are_non_working() -> None:
    assert not is_working_day(date(2013, 1, 2))  # Scotland: 2 January
    assert not is_working_day(date(2012, 11, 30))  # Scotland: St Andrew's Day (a Friday)
    assert not is_working_day(date(2014, 12, 1))  # St Andrew's Day substitute (30 Nov 2014 was a Sunday)
    assert not is_working_day(date(2014, 3, 17))  # Northern Ireland: St Patrick's Day
    assert not is_working_day(date(2013, 7, 12))  # Northern Ireland: Battle of the Boyne
    assert not is_working_day(date(2013, 3, 29))  # Good Friday
    assert not is_working_day(date(2013, 4, 1))  # Easter Monday (England, Wales, NI)
    assert is_working_day(date(2013, 4, 2))


def test_substitute_days_count_as_holidays() -> None:
    assert not is_working_day(date(2011, 12, 27))  # Christmas 2011 fell on a Sunday
    assert not is_working_day(date(2020, 12, 28))  # Boxing Day 2020 fell on a Saturday
    assert not is_working_day(date(2013, 3, 18))  # St Patrick's Day 2013 (Sunday) substitute
    assert "Saint Patrick" in (holiday_name(date(2013, 3, 18)) or "")


def test_receipt_on_a_weekend_or_holiday_starts_the_clock_next_working_day() -> None:
    cal = calendar()
    assert cal.due_date(date(2013, 3, 16)) == cal.due_date(date(2013, 3, 15))  # Saturday == Friday
    assert cal.due_date(date(2013, 3, 29)) == cal.due_date(date(2013, 3, 28))  # Good Friday == Thursday


def test_local_date_uses_europe_london() -> None:
    # 23:30 UTC on 30 June is 00:30 BST on 1 July.
    assert local_date(datetime(2013, 6, 30, 23, 30, tzinfo=UTC)) == date(2013, 7, 1)
    assert local_date(datetime(2013, 12, 31, 23, 30, tzinfo=UTC)) == date(2013, 12, 31)


def test_closure_days_are_shown_but_do_not_move_the_statutory_date() -> None:
    closed = WorkingCalendar([date(2013, 3, 20)])
    assert closed.due_date(date(2013, 3, 15)) == date(2013, 4, 17)
    assert closed.closures_before(date(2013, 3, 15), date(2013, 4, 17)) == [date(2013, 3, 20)]


def test_working_days_left_counts_down_through_zero() -> None:
    cal = calendar()
    due = date(2013, 4, 17)
    assert cal.working_days_left(date(2013, 4, 10), due) == 5
    assert cal.working_days_left(due, due) == 0
    assert cal.working_days_left(date(2013, 4, 22), due) == -3


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)), st.integers(1, 60))
def test_due_date_is_exactly_n_working_days_later(received: date, days: int) -> None:
    cal = calendar()
    due = cal.add_working_days(received, days)
    assert is_working_day(due)
    assert cal.working_days_between(received, due) == days
    assert cal.working_days_between(received, due - timedelta(days=1)) == days - 1
