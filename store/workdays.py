"""UK working days and the 20-working-day deadline.

The Freedom of Information Act 2000 s10(6) defines a working day as any day other than a
Saturday, a Sunday, Christmas Day, Good Friday or a day that is a bank holiday under the
Banking and Financial Dealings Act 1971 *in any part of the United Kingdom*. So a working day
here is a weekday that is not a holiday in England and Wales, Scotland or Northern Ireland
(2 January, St Andrew's Day, St Patrick's Day and 12 July included, with substitute days).
Bank holidays proclaimed after the ``holidays`` release in use (a coronation, a jubilee) are
added with ``CASEWORK_EXTRA_HOLIDAYS`` (:func:`set_extra_holidays`, called when the store is
opened), and count as holidays in every nation.

The time for compliance starts on the first working day *following* the day of receipt, which
is the Europe/London date of the timestamp, whatever offset it was written in. Day counts use a
cumulative index of working days so that any count or addition is O(1) after the first use of
a year.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
UK_NATIONS = ("ENG", "WLS", "SCT", "NIR")


def local_date(moment: datetime, zone: ZoneInfo = LONDON) -> date:
    """The office's calendar date of an aware timestamp."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp without a time zone has no local date")
    return moment.astimezone(zone).date()


@lru_cache(maxsize=256)
def uk_bank_holidays(year: int) -> dict[date, str]:
    """Every bank holiday of ``year`` in any UK nation, with the nations' names joined."""
    found: dict[date, list[str]] = {}
    for nation in UK_NATIONS:
        for day, name in holidays.country_holidays("GB", subdiv=nation, years=year).items():
            names = found.setdefault(day, [])
            if name not in names:
                names.append(name)
    return {day: "; ".join(names) for day, names in sorted(found.items())}


#: the process's extra non-working days (``CASEWORK_EXTRA_HOLIDAYS``); see :func:`set_extra_holidays`
_EXTRA_HOLIDAYS: frozenset[date] = frozenset()
EXTRA_HOLIDAY_NAME = "Extra bank holiday (CASEWORK_EXTRA_HOLIDAYS)"


def set_extra_holidays(days: Iterable[date]) -> None:
    """Make ``days`` non-working days for every calendar of this process.

    A module setting rather than an argument everywhere: every count of working days in the
    service (deadlines, warnings, digests, reports) must agree, and they all ask
    :func:`is_working_day` or :func:`calendar`, whose cache is keyed by this set.
    """
    global _EXTRA_HOLIDAYS
    _EXTRA_HOLIDAYS = frozenset(days)


def extra_holidays() -> frozenset[date]:
    return _EXTRA_HOLIDAYS


def holiday_name(day: date) -> str | None:
    name = uk_bank_holidays(day.year).get(day)
    if name is None and day in _EXTRA_HOLIDAYS:
        return EXTRA_HOLIDAY_NAME
    return name


def is_working_day(day: date, extra: frozenset[date] | None = None) -> bool:
    """A weekday that is no UK bank holiday (nor one of ``extra``, default the process's set)."""
    if day.weekday() >= 5 or day in uk_bank_holidays(day.year):
        return False
    return day not in (_EXTRA_HOLIDAYS if extra is None else extra)


def non_working_weekdays(first_year: int, last_year: int, extra: frozenset[date] | None = None) -> list[date]:
    """Every weekday of the years given that is not a working day, in order."""
    day, end, found = date(first_year, 1, 1), date(last_year, 12, 31), []
    while day <= end:
        if day.weekday() < 5 and not is_working_day(day, extra):
            found.append(day)
        day += timedelta(days=1)
    return found


@dataclass
class _Index:
    """Working days of whole years from ``first_year``, as sorted ordinals for bisection."""

    first_year: int
    last_year: int
    ordinals: list[int] = field(default_factory=list)


class WorkingCalendar:
    """Counts and adds UK working days in constant time, growing its year span on demand."""

    def __init__(
        self, extra_closures: Iterable[date] = (), extra_holidays: Iterable[date] | None = None
    ) -> None:
        #: office closure days: reported beside a deadline, never part of the statutory count
        self.closures = frozenset(extra_closures)
        #: non-working days beyond the ``holidays`` package's (None: the process's set)
        self.extra_holidays = frozenset(_EXTRA_HOLIDAYS if extra_holidays is None else extra_holidays)
        self._index: _Index | None = None

    def is_working_day(self, day: date) -> bool:
        return is_working_day(day, self.extra_holidays)

    def _ensure(self, *days: date) -> _Index:
        low = min(d.year for d in days) - 1
        high = max(d.year for d in days) + 1
        index = self._index
        if index is None or low < index.first_year or high > index.last_year:
            first = min(low, index.first_year) if index else low
            last = max(high, index.last_year) if index else high
            ordinals = []
            day = date(first, 1, 1)
            end = date(last, 12, 31)
            while day <= end:
                if is_working_day(day, self.extra_holidays):
                    ordinals.append(day.toordinal())
                day += timedelta(days=1)
            index = self._index = _Index(first, last, ordinals)
        return index

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days d satisfy ``start < d <= end`` (0 when ``end <= start``)."""
        if end <= start:
            return 0
        index = self._ensure(start, end)
        return bisect.bisect_right(index.ordinals, end.toordinal()) - bisect.bisect_right(
            index.ordinals, start.toordinal()
        )

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself never counts)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        # Twice the days plus a fortnight always spans ``count`` working days in the UK.
        index = self._ensure(start, start + timedelta(days=count * 2 + 14))
        position = bisect.bisect_right(index.ordinals, start.toordinal()) + count - 1
        return date.fromordinal(index.ordinals[position])

    def due_date(self, received: date, working_days: int = 20) -> date:
        """The statutory due date for something received on local date ``received``."""
        return self.add_working_days(received, working_days)

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next one."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)

    def working_days_left(self, today: date, due: date) -> int:
        """Working days from ``today`` to ``due``: 0 on the due date, negative once overdue."""
        if due >= today:
            return self.working_days_between(today, due)
        return -self.working_days_between(due, today)

    def closures_before(self, received: date, due: date) -> list[date]:
        """Office closure days inside the response window, shown beside the due date."""
        return sorted(d for d in self.closures if received < d <= due)


def calendar(extra_closures: frozenset[date] = frozenset()) -> WorkingCalendar:
    """A shared calendar (building the index for a year takes a few milliseconds)."""
    return _calendar(extra_closures, _EXTRA_HOLIDAYS)


@lru_cache(maxsize=8)
def _calendar(extra_closures: frozenset[date], extra: frozenset[date]) -> WorkingCalendar:
    return WorkingCalendar(extra_closures, extra)
